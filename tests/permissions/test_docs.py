"""docs/PERMISSIONS.md documents every table and key the parser knows (read from its schema)."""

from __future__ import annotations

from pathlib import Path

import pytest

from permissions import KNOWN_CAPS, KNOWN_SCOPES
from permissions import _schema as schema

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PERMISSIONS.md").read_text()


def _section(table: str) -> str:
    """The docs text under the `## ` heading that names `table`, up to the next heading."""
    for part in DOC.split("\n## ")[1:]:
        heading = part.split("\n", 1)[0]
        if f"`{table}`" in heading:
            return part
    raise AssertionError(f"no heading names `{table}`")


@pytest.mark.parametrize(("table", "keys"), schema.TABLES.items())
def test_every_key_is_documented_under_its_table(table, keys):
    section = _section(table)
    for key in keys:
        assert f"`{key}`" in section, f"{table} {key}"


def test_every_top_level_table_has_a_heading():
    tables = {t.split(".")[0].strip("[]") for t in schema.TABLES}
    assert tables == set(schema.TOP_LEVEL)


@pytest.mark.parametrize("word", sorted(KNOWN_CAPS | KNOWN_SCOPES))
def test_every_cap_and_scope_is_documented(word):
    assert f"`{word}`" in DOC


def test_builtin_visitor_is_documented():
    for key, value in schema.BUILTIN_VISITOR.items():
        if isinstance(value, bool):
            shown = str(value).lower()
        elif isinstance(value, str):
            shown = f'"{value}"'
        else:
            shown = str(value)
        assert f"`{key} = {shown}`" in DOC, key


def test_domain_defaults_are_documented():
    section = _section("[domain]")
    for key, value in schema.DOMAIN_DEFAULTS.items():
        shown = f'`"{value}"`' if isinstance(value, str) else str(value)
        row = next(line for line in section.splitlines() if line.startswith(f"| `{key}` |"))
        assert f"| {shown} |" in row, key
