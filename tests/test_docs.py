"""Docs that cannot drift: every op and error code is documented."""

from pathlib import Path

from domainserver.wire import OPS
from entities.errors import ERROR_CODES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_op_is_documented():
    notes = (DOCS / "PROTOCOL_NOTES.md").read_text()
    missing = [op for op in [*OPS, "hello"] if f"`{op}`" not in notes]
    assert not missing


def test_every_error_code_is_documented():
    notes = (DOCS / "PROTOCOL_NOTES.md").read_text()
    assert not [c for c in ERROR_CODES if f"`{c}`" not in notes]


def test_readme_names_both_commands():
    readme = (DOCS.parent / "README.md").read_text()
    assert "domainserver serve" in readme and "bash scripts/check" in readme
