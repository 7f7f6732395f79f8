"""Typed reads from a parsed TOML table that record a located problem instead of raising,
so one pass over a file reports everything wrong with it."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable
from typing import Any

from permissions._locate import Locator
from permissions.model import Problem

__all__ = ["Checker", "dotted", "describe", "number_text", "hint"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
Path = tuple[str, ...]


def dotted(path: Iterable[str]) -> str:
    """A key path as written in TOML: `groups.friends.role`, quoting keys that need it."""
    return ".".join(p if _BARE_KEY.fullmatch(p) else '"' + p + '"' for p in path)


def number_text(value: float) -> str:
    """600.0 -> "600"; other numbers as Python writes them."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe(value: object) -> str:
    """A value as the operator wrote it, plus its TOML type: `true (a boolean)`."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"{number_text(value)} (a number)"
    if isinstance(value, str):
        return f'"{value}" (a string)'
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{value!r} (a date or time)"


def hint(word: str, known: Iterable[str], *, list_known: bool = True) -> str:
    """`; did you mean "x"?` for a near miss, else ` (known: a, b)` (or "" when unwanted)."""
    known = sorted(known)
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.75)
    if close:
        return f'; did you mean "{close[0]}"?'
    if list_known and known:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return f" (known: {shown})"
    return ""


class Checker:
    """Collects problems keyed by dotted path; lines are found only if something is wrong."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self._found: list[tuple[Path, str, bool]] = []

    @property
    def ok(self) -> bool:
        return not self._found

    def problem(self, where: Path, reason: str, *, prefix: bool = True) -> None:
        """Record `reason` about the key (or table) at `where`."""
        self._found.append((where, reason, prefix))

    def problems(self) -> list[Problem]:
        """Every problem with its line, in file order."""
        if not self._found:
            return []
        locator = Locator(self.text)
        out = []
        for where, reason, prefix in self._found:
            text = f"{dotted(where)}: {reason}" if (prefix and where) else reason
            out.append(Problem(self.path, locator.line(*where), text))
        return sorted(out, key=lambda p: p.line)

    # -- typed reads; each returns None after recording a problem ------------------------
    def table(self, value: object, where: Path) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.problem(where, f"must be a table, got {describe(value)}")
        return None

    def known_keys(self, table: dict[str, Any], where: Path, known: Iterable[str]) -> None:
        known = tuple(known)
        for key in table:
            if key not in known:
                # located on the key's own line; the message names the table it sits in
                self.problem(where + (key,), self._unknown(where, key, known), prefix=False)

    @staticmethod
    def _unknown(where: Path, key: str, known: tuple[str, ...]) -> str:
        lead = f"{dotted(where)}: " if where else ""
        return f'{lead}unknown key "{key}"' + hint(key, known)

    def string(self, table: dict[str, Any], key: str, where: Path) -> str | None:
        value = table[key]
        if isinstance(value, str):
            return value
        self.problem(where + (key,), f"must be a string, got {describe(value)}")
        return None

    def choice(
        self, table: dict[str, Any], key: str, where: Path, choices: tuple[str, ...]
    ) -> str | None:
        value = self.string(table, key, where)
        if value is None or value in choices:
            return value
        listed = ", ".join(f'"{c}"' for c in choices)
        self.problem(where + (key,), f'must be one of {listed}, got "{value}"')
        return None

    def boolean(self, table: dict[str, Any], key: str, where: Path) -> bool | None:
        value = table[key]
        if isinstance(value, bool):
            return value
        self.problem(where + (key,), f"must be true or false, got {describe(value)}")
        return None

    def integer(self, table: dict[str, Any], key: str, where: Path, minimum: int = 0) -> int | None:
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where + (key,), f"must be an integer, got {describe(value)}")
            return None
        if value < minimum:
            self.problem(where + (key,), f"must be >= {minimum}")
            return None
        return value

    def number(
        self, table: dict[str, Any], key: str, where: Path, *, positive: bool, unit: str = ""
    ) -> float | None:
        value = table[key]
        what = f"a number{unit}"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            self.problem(where + (key,), f"must be {what}, got {describe(value)}")
            return None
        if positive and value <= 0:
            self.problem(where + (key,), f"must be > 0, got {number_text(value)}")
            return None
        if value < 0:
            self.problem(where + (key,), f"must be >= 0, got {number_text(value)}")
            return None
        return value

    def strings(self, table: dict[str, Any], key: str, where: Path) -> list[str] | None:
        value = table[key]
        if not isinstance(value, list):
            self.problem(where + (key,), f"must be an array of strings, got {describe(value)}")
            return None
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            self.problem(where + (key,), f"must hold only strings, got {describe(bad[0])}")
            return None
        return value
