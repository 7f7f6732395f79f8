"""`domainserver check` and `domainserver apikey`: the permissions file from the command line."""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import sys
import tempfile
from typing import Any

from permissions import KNOWN_SCOPES

__all__ = ["register"]


def register(sub: Any) -> None:
    check = sub.add_parser("check", help="validate a permissions file")
    check.add_argument("file")
    check.set_defaults(run=_check)

    apikey = sub.add_parser(
        "apikey",
        help="make an API key and add its hash to the permissions file",
        description="Make a new API key, add [api_keys.NAME] with its SHA-256 to the "
        "permissions file (the rest of the file is kept as written) and print the key, once, "
        "on stdout. A server running with that file picks the change up within a second.",
    )
    apikey.add_argument("name", help="a name for the key: letters, digits, _ and -")
    apikey.add_argument(
        "--scope",
        action="append",
        help="repeatable; default blacklist:read. Known: " + ", ".join(sorted(KNOWN_SCOPES)),
    )
    apikey.add_argument(
        "--permissions",
        metavar="FILE",
        help="the permissions file to add it to (default: the server's, from "
        "DOMAINSERVER_PERMISSIONS or the settings file)",
    )
    apikey.add_argument("--config", metavar="FILE", help="the server's settings file")
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
    from permissions import PolicyError, add_api_key

    from ..settings import SettingsError, configured

    try:
        path = configured("permissions_path", args.permissions, args.config)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if path is None:
        print(
            "domainserver: apikey: name the permissions file the server runs with: "
            "--permissions FILE (the embedded default policy holds no keys; copy "
            "examples/sandbox.toml to start your own)",
            file=sys.stderr,
        )
        return 2
    key = secrets.token_urlsafe(32)
    digest = hashlib.sha256(key.encode()).hexdigest()
    scopes = args.scope or ["blacklist:read"]
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        new = add_api_key(text, path, args.name, digest, scopes)
    except OSError as exc:
        print(f"domainserver: apikey: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, ValueError) as exc:
        print(f"domainserver: apikey: {exc}", file=sys.stderr)
        return 2
    except PolicyError as exc:
        print(exc, file=sys.stderr)
        return 2
    _replace(path, new)
    print(key)
    print(
        f"added [api_keys.{args.name}] (scopes: {', '.join(scopes)}) to {path}; only the key's "
        "SHA-256 is stored, so keep the key printed above: it is shown this once. A server "
        "running with this file picks it up within a second.",
        file=sys.stderr,
    )
    return 0


def _replace(path: str, text: str) -> None:
    """Write `text` to `path` atomically (a reader sees the old file or the new), keeping
    the file's mode and, where allowed, its owner."""
    real = os.path.realpath(path)
    st = os.stat(real)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(real), prefix=".apikey-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass  # not root: the file is ours anyway
        os.replace(tmp, real)
    except BaseException:
        os.unlink(tmp)
        raise
