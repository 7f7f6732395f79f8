"""The world as plain columns: what a snapshot holds, and the fast way back from it.

`world_columns` turns a `World` into builtins only (lists, dicts, sets, tuples, str, float,
bool, None), with every id, owner and shape object shared as the world shares it; a
serializer that keeps shared references (marshal, pickle) then stores each once.
`world_from_columns` rebuilds an equal world without per-entity Python beyond the
entities' own constructor: the indexes come back whole, not re-derived entity by entity.
"""

from __future__ import annotations

from collections import Counter
from itertools import repeat
from operator import attrgetter
from typing import Any

import attrs

from .model import NO_OVERRIDE, Entity, Override
from .world import World

__all__ = ["COLUMNS_VERSION", "world_columns", "world_from_columns"]

COLUMNS_VERSION = 1
"""Bumped whenever the layout below changes; a snapshot of another layout is not read."""

_ORDER = [field.name for field in attrs.fields(Entity)]
_OVERRIDE_AT = _ORDER.index("override")  # not stored per entity: nearly all have none
_FIELDS = tuple(name for name in _ORDER if name != "override")


def world_columns(world: World) -> dict[str, Any]:
    """The world's entities field by field, and its indexes as they are."""
    entities = list(world.all())
    # One C-level pass per field, not a Python loop over a million entities.
    columns: dict[str, Any] = {name: list(map(attrgetter(name), entities)) for name in _FIELDS}
    columns["overrides"] = [
        (i, e.override.anyone, sorted(e.override.groups))
        for i, e in enumerate(entities)
        if e.override is not NO_OVERRIDE and e.override != NO_OVERRIDE
    ]
    columns["version"] = COLUMNS_VERSION
    columns["cell_size"] = world.grid.cell_size
    columns["by_owner"] = world._by_owner
    columns["by_creator"] = world._by_creator
    columns["invisible"] = world._invisible
    columns["root"] = world._root
    columns["cells"] = world.grid._cells
    columns["axes"] = [dict(axis) for axis in world.grid._axes]
    columns["expiry"] = [(deadline, eid) for eid, deadline in world.expiry._live.items()]
    return columns


def world_from_columns(columns: dict[str, Any], world: World) -> None:
    """Fill the empty `world` so that it equals the one `world_columns` was given.

    Raises ValueError, leaving `world` untouched, when the columns are of another layout
    or grid, or disagree in length.
    """
    if columns.get("version") != COLUMNS_VERSION:
        raise ValueError(f"world columns of layout {columns.get('version')!r}, "
                         f"not {COLUMNS_VERSION}")  # fmt: skip
    if len(world):
        raise ValueError("the world to fill is not empty")
    if columns["cell_size"] != world.grid.cell_size:
        raise ValueError(f"world columns of a {columns['cell_size']} m grid, "
                         f"not {world.grid.cell_size} m")  # fmt: skip
    fields: list[Any] = [columns[name] for name in _FIELDS]
    if len({len(f) for f in fields}) != 1:
        raise ValueError("world columns of different lengths")
    fields.insert(_OVERRIDE_AT, repeat(NO_OVERRIDE))
    ids = columns["id"]
    by_id = dict(zip(ids, map(Entity, *fields), strict=True))
    if len(by_id) != len(ids):
        raise ValueError("world columns repeat an entity id")
    for i, anyone, groups in columns["overrides"]:
        eid = ids[i]
        by_id[eid] = attrs.evolve(by_id[eid], override=Override(anyone, frozenset(groups)))
    indexes = [columns[name] for name in ("by_owner", "by_creator", "invisible", "root",
                                          "cells", "expiry", "axes")]  # fmt: skip
    axes = tuple(Counter(axis) for axis in indexes[6])
    if len(axes) != 3:
        raise ValueError("world columns of a grid without three axes")
    # Nothing above touched `world`: a bad snapshot leaves it empty for the slow path.
    world._by_id = by_id
    world._by_owner, world._by_creator, world._invisible, world._root = indexes[:4]
    world.grid._cells, world.grid._axes = indexes[4], axes  # type: ignore[assignment]
    world.expiry.bulk_load(indexes[5])
