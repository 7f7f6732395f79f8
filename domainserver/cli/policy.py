"""`domainserver check` and `domainserver apikey`: the permissions file from the command line."""

from __future__ import annotations

import argparse
import hashlib
import secrets
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    check = sub.add_parser("check", help="validate a permissions file")
    check.add_argument("file")
    check.set_defaults(run=_check)

    apikey = sub.add_parser("apikey", help="make an API key and its permissions-file entry")
    apikey.add_argument("name")
    apikey.add_argument("--scope", action="append", help="repeatable; default blacklist:read")
    apikey.set_defaults(run=_apikey)


def _check(args: argparse.Namespace) -> int:
    from permissions import PolicyError, load_policy, summary

    try:
        policy = load_policy(args.file)
    except PolicyError as exc:
        for problem in exc.problems:
            print(problem)
        return 1
    print(f"{args.file}: ok")
    for line in summary(policy):
        print("  " + line)
    return 0


def _apikey(args: argparse.Namespace) -> int:
    key = secrets.token_urlsafe(32)
    print(f"key (give it to the script; it is not stored anywhere): {key}")
    print(f"[api_keys.{args.name}]")
    print(f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"')
    print(f"scopes = {list(args.scope or ['blacklist:read'])!r}".replace("'", '"'))
    return 0
