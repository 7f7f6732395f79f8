"""Plain helpers the permissions tests import (fixtures live in conftest.py)."""

from __future__ import annotations

import textwrap

from entities.tokens import token_from_public_key
from permissions import Policy, parse_policy


def make_token(n: int) -> str:
    """A real token, the same for the same n in every run."""
    return token_from_public_key(n.to_bytes(32, "big"))


def policy_from(body: str, *, domain: str = '[domain]\nid = "test"\n') -> Policy:
    """Parse `domain` + dedented `body`."""
    return parse_policy(domain + textwrap.dedent(body), "test.toml")
