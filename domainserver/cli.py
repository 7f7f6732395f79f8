"""The `domainserver` command: serve, check a permissions file, and make keys and credentials."""

from __future__ import annotations

import argparse
import hashlib
import logging
import secrets
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import sqlite3

    from aiohttp import web

    from permissions import PolicyError

    from .app import create_app
    from .config import ServerConfig
    from .store import StoreError

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    config = ServerConfig(db_path=args.db, permissions_path=args.permissions)
    try:
        app = create_app(config)
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    # run_app turns SIGTERM and SIGINT into a clean shutdown: sessions closed, store flushed.
    try:
        web.run_app(app, host=args.host, port=args.port, print=lambda s: print(s, flush=True))
    except (sqlite3.Error, StoreError) as exc:
        print(f"domainserver: cannot use the database {args.db}: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"domainserver: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    return 0


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


def _apikey(args: argparse.Namespace) -> int:
    key = secrets.token_urlsafe(32)
    print(f"key (give it to the script; it is not stored anywhere): {key}")
    print(f"[api_keys.{args.name}]")
    print(f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"')
    print(f"scopes = {list(args.scope or ['blacklist:read'])!r}".replace("'", '"'))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="domainserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--permissions", metavar="FILE", help="permissions file (default: embedded)")
    serve.add_argument("--db", default="domain.db", metavar="FILE", help="SQLite database")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)

    check = sub.add_parser("check", help="validate a permissions file")
    check.add_argument("file")
    check.set_defaults(run=_check)

    keygen = sub.add_parser("keygen", help="make a signer key for a delegated group")
    keygen.add_argument("--out", required=True, metavar="FILE")
    keygen.set_defaults(run=_keygen)

    cred = sub.add_parser("credential", help="issue a group membership credential")
    cred.add_argument("--signer", required=True, metavar="FILE", help="signer private key")
    cred.add_argument("--group", required=True)
    cred.add_argument("--member", required=True, metavar="TOKEN")
    cred.add_argument("--days", type=float, default=30.0)
    cred.set_defaults(run=_credential)

    apikey = sub.add_parser("apikey", help="make an API key and its permissions-file entry")
    apikey.add_argument("name")
    apikey.add_argument("--scope", action="append", help="repeatable; default blacklist:read")
    apikey.set_defaults(run=_apikey)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
