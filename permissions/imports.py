"""Existing ban lists brought in (contract §5 `domainserver import`): a CSV of
`token,reason[,expires_at]`, and an Overte / Vircadia domain-server settings file mapped to
what this server can use, with every entry that does not map reported and why. Pure: text in,
a plan or a refusal naming the line out; the command line writes it in one transaction."""

from __future__ import annotations

import csv
import math

import attrs

from entities import fields
from entities.errors import BadRequest
from entities.tokens import TOKEN_SHAPE, is_token

__all__ = ["ImportRefused", "ImportedBan", "ImportPlan", "read_csv"]

_HEADERS = (["token", "reason"], ["token", "reason", "expires_at"])


class ImportRefused(ValueError):
    """A malformed file: nothing of it is imported. `line` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@attrs.frozen
class ImportedBan:
    token: str
    reason: str
    expires_at: float | None


@attrs.frozen
class ImportPlan:
    """What an import would add: bans (one per token: the file's last row for it), what
    was skipped, and (from Overte) permissions-file text and the entries that do not map."""

    bans: tuple[ImportedBan, ...]
    rows: int = 0
    duplicates: int = 0
    expired: int = 0
    unmapped: tuple[str, ...] = ()
    permissions: str | None = None


def _expiry(text: str, line: int) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ImportRefused(line, f'expires_at "{text}" is not unix seconds') from None
    if not math.isfinite(value) or value <= 0:
        raise ImportRefused(line, f'expires_at "{text}" is not unix seconds')
    return value


def read_csv(text: str, now: float) -> ImportPlan:
    """Rows `token,reason[,expires_at]` (a header line `token,reason[,expires_at]` is
    optional; blank lines are skipped). A token listed twice keeps its last row; a row whose
    `expires_at` has passed is skipped. ImportRefused names the first malformed line."""
    bans: dict[str, ImportedBan] = {}
    rows = duplicates = expired = 0
    reader = csv.reader(text.splitlines())
    for index, row in enumerate(reader):
        line = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if index == 0 and [c.strip().lower() for c in row] in _HEADERS:
            continue
        if len(row) not in (2, 3):
            raise ImportRefused(
                line, f"{len(row)} fields; a row is token,reason[,expires_at]"
            )
        token = row[0].strip()
        if not is_token(token):
            raise ImportRefused(line, f'"{token}" is not a token ({TOKEN_SHAPE})')
        try:
            reason = fields.reason(row[1], required=True)
        except BadRequest as exc:
            raise ImportRefused(line, f"reason: {exc.message}") from None
        expires_at = _expiry(row[2], line) if len(row) == 3 else None
        rows += 1
        if token in bans:
            duplicates += 1
            del bans[token]  # the last row wins, in its own place in the order
        if expires_at is not None and expires_at <= now:
            expired += 1
            continue
        bans[token] = ImportedBan(token, reason or "", expires_at)
    return ImportPlan(tuple(bans.values()), rows=rows, duplicates=duplicates, expired=expired)
