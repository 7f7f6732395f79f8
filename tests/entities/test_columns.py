"""The world as columns and back: what a restart from a snapshot rebuilds must be the world
that was written, entity for entity and index for index."""

import marshal
import random

import attrs
import pytest

from entities import EMPTY_PROPS, Entity, Override, World
from entities.columns import world_columns, world_from_columns


def state_of(world: World):
    """Everything a world holds, in a comparable form."""
    return {
        "entities": sorted(world.all(), key=lambda e: e.id),
        "by_owner": {k: set(v) for k, v in world._by_owner.items()},
        "by_creator": {k: set(v) for k, v in world._by_creator.items()},
        "invisible": set(world.invisible_ids()),
        "root": dict(world._root),
        "cells": {k: set(v) for k, v in world.grid._cells.items()},
        "axes": [dict(a) for a in world.grid._axes],
        "expiry": dict(world.expiry._live),
        "next_deadline": world.expiry.next_deadline(),
    }


def varied_world(n: int = 600, seed: int = 3) -> World:
    """Owners and creators that differ, lineage, invisible, temporary, scripted, props,
    overrides for anyone and for groups, and a few removed again."""
    rng = random.Random(seed)
    world = World()
    owners = [f"{c}" * 43 for c in "abcdef"]
    made: list[Entity] = []
    for i in range(n):
        owner = rng.choice(owners)
        parent = rng.choice(made).id if made and i % 7 == 0 else None
        override = Override()
        if i % 11 == 0:
            override = Override(anyone=True)
        elif i % 13 == 0:
            override = Override(groups=frozenset({"builders", "crew"}))
        entity = Entity(
            id=f"{i:016x}",
            owner=owner,
            creator=owner if i % 5 else rng.choice(owners),
            parent=parent,
            type=rng.choice(["box", "sphere", "model"]),
            position=(rng.uniform(-500, 500), rng.uniform(-500, 500), rng.uniform(0, 40)),
            dimensions=(1.0, 1.0, 1.0),
            visible=i % 4 != 0,
            expires_at=1000.0 + i if i % 3 == 0 else None,
            script="https://scripts.example/a.js" if i % 9 == 0 else None,
            override=override,
            props={"n": i, "tags": ["a", "b"], "deep": {"x": 1.5}} if i % 2 else EMPTY_PROPS,
            created_at=500.0 + i,
        )
        made.append(entity)
        world.add(entity)
    for entity in made[::17]:
        world.remove(entity.id)
    return world


def through_marshal(world: World) -> dict:
    return marshal.loads(marshal.dumps(world_columns(world)))


def test_columns_rebuild_the_same_world_entity_for_entity_and_index_for_index():
    world = varied_world()
    rebuilt = World()
    world_from_columns(through_marshal(world), rebuilt)
    assert state_of(rebuilt) == state_of(world)
    # Queries over the rebuilt indexes answer as the original's do.
    for center, radius in [((0, 0, 10), 120.0), ((300, -200, 5), 60.0)]:
        assert {e.id for e in rebuilt.in_area(center, radius)} == {
            e.id for e in world.in_area(center, radius)
        }
        assert rebuilt.nearest(center, radius, 25)[0] == world.nearest(center, radius, 25)[0]
    assert rebuilt.expiry.pop_due(1200.0) == world.expiry.pop_due(1200.0)


def test_rebuilt_world_keeps_changing_like_the_original():
    world = varied_world(200)
    rebuilt = World()
    world_from_columns(through_marshal(world), rebuilt)
    for w in (world, rebuilt):
        victim = sorted(w.owned_by("a" * 43))
        w.remove_owned("b" * 43)
        w.remove(victim[0])
        moved = w.get(victim[1])
        w.replace(attrs.evolve(moved, position=(900.0, 900.0, 1.0)))
    assert state_of(rebuilt) == state_of(world)


def test_shared_values_stay_shared_so_memory_does_not_grow():
    world = varied_world(300)
    rebuilt = World()
    world_from_columns(through_marshal(world), rebuilt)
    entities = list(rebuilt.all())
    assert len({id(e.owner) for e in entities}) == len({e.owner for e in entities})
    assert len({id(e.dimensions) for e in entities}) == 1
    # The id in the entity, the by-id key and the index members are one string object.
    some = entities[5]
    (cell_member,) = [m for b in rebuilt.grid._cells.values() for m in b if m == some.id]
    assert cell_member is some.id


def test_the_empty_world_round_trips():
    rebuilt = World()
    world_from_columns(through_marshal(World()), rebuilt)
    assert len(rebuilt) == 0 and state_of(rebuilt) == state_of(World())


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda c: c.update(version=99), "layout"),
        (lambda c: c.update(cell_size=8.0), "grid"),
        (lambda c: c["type"].pop(), "lengths"),
        (lambda c: c["id"].__setitem__(1, c["id"][0]), "repeat"),
        (lambda c: c.update(axes=[{}, {}]), "axes"),
    ],
)
def test_columns_that_do_not_fit_are_refused_and_leave_the_world_empty(damage, reason):
    columns = through_marshal(varied_world(50))
    damage(columns)
    target = World()
    with pytest.raises(ValueError, match=reason):
        world_from_columns(columns, target)
    assert len(target) == 0 and state_of(target) == state_of(World())


def test_a_world_that_is_not_empty_is_not_filled():
    target = varied_world(10)
    before = state_of(target)
    with pytest.raises(ValueError, match="not empty"):
        world_from_columns(through_marshal(varied_world(20)), target)
    assert state_of(target) == before
