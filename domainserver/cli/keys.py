"""`domainserver keygen` and `domainserver credential`: signer keys and group credentials."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    keygen = sub.add_parser("keygen", help="make a signer key for a delegated group")
    keygen.add_argument("--out", required=True, metavar="FILE")
    keygen.set_defaults(run=_keygen)

    cred = sub.add_parser("credential", help="issue a group membership credential")
    cred.add_argument("--signer", required=True, metavar="FILE", help="signer private key")
    cred.add_argument("--group", required=True)
    cred.add_argument("--member", required=True, metavar="TOKEN")
    cred.add_argument("--days", type=float, default=30.0)
    cred.set_defaults(run=_credential)


def _keygen(args: argparse.Namespace) -> int:
    from permissions import generate_signer

    public = generate_signer(args.out)
    print(f"wrote private key to {args.out} (keep it secret)")
    print(f'signer = "{public}"')
    return 0


def _credential(args: argparse.Namespace) -> int:
    import base64

    from entities.tokens import is_token
    from permissions import issue_credential, load_signer

    if not is_token(args.member):
        print(f"--member: {args.member!r} is not a token", file=sys.stderr)
        return 2
    expires_at = int(time.time() + args.days * 86400)
    blob = issue_credential(load_signer(args.signer), args.group, args.member, expires_at)
    print(base64.b64encode(blob).decode())
    return 0
