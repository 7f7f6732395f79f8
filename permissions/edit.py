"""Edits the CLI makes to an operator's permissions file, as text: appended, so that the
rest of the file and its comments stay as written, and validated as a whole before use."""

from __future__ import annotations

import re
from collections.abc import Iterable

from permissions import _schema as S
from permissions._check import hint
from permissions.model import KNOWN_SCOPES
from permissions.parse import parse_policy

__all__ = ["add_api_key"]

_NAME = re.compile(S.NAME_PATTERN)


def add_api_key(text: str, path: str, name: str, sha256: str, scopes: Iterable[str]) -> str:
    """`text` with an `[api_keys.NAME]` table appended. Raises ValueError when the name or a
    scope is not valid or the name is taken, and PolicyError (located in `path`) when the
    file, before or after, does not validate."""
    scopes = list(scopes)
    problems = []
    if not _NAME.fullmatch(name):
        problems.append(f'api key name "{name}": use only letters, digits, _ and - (at most 64)')
    for scope in scopes:
        if scope not in KNOWN_SCOPES:
            known = ", ".join(sorted(KNOWN_SCOPES))
            close = hint(scope, KNOWN_SCOPES, list_known=False)
            problems.append(f'unknown scope "{scope}"{close} (known: {known})')
    if not scopes:
        problems.append("an api key needs at least one scope")
    if problems:
        raise ValueError("; ".join(problems))
    before = parse_policy(text, path)
    if name in before.api_keys:
        raise ValueError(f"{path} has api_keys.{name} already; remove it or choose another name")
    listed = ", ".join(f'"{s}"' for s in scopes)
    entry = f'\n[api_keys.{name}]\nsha256 = "{sha256}"\nscopes = [{listed}]\n'
    new = (text if not text or text.endswith("\n") else text + "\n") + entry
    parse_policy(new, path)  # e.g. a file whose api_keys is an inline table refuses this
    return new
