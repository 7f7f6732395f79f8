"""`domainserver init [DIR]`: a starter domain whose owner is the operator running it, so
that a first run ends in the console as a moderator instead of on an ownerless sandbox."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from permissions import KNOWN_CAPS, KNOWN_SCOPES

__all__ = ["register", "CONSOLE_SCOPES", "permissions_text"]

PERMISSIONS, KEYFILE, SETTINGS = "domain.toml", "operator.pem", "server.toml"
# Every scope an operator uses from the console; blacklist:read is for domain scripts.
CONSOLE_SCOPES = tuple(sorted(KNOWN_SCOPES - {"blacklist:read"}))
DEFAULT_PORT = 8080

_TEMPLATE = """\
# The permissions of {domain_id}: who may connect, rez, run scripts and moderate.
# Made by `domainserver init` on {date}. Check it with:   domainserver check {path}
# A running server reloads it when it changes (and on SIGHUP). Every key: docs/PERMISSIONS.md.

[domain]
id = "{domain_id}"
access = "open"               # anyone may connect, except tokens in [access] blacklist
max_temp_lifetime = 1800      # 30 minutes at most for a visitor's temporary entity
default_temp_lifetime = 300   # 5 minutes when the visitor asks for no lifetime
lineage_rez_per_second = 20   # a self-replicating object and its offspring share this budget

# Visitors: temporary entities only, no scripts, no capabilities.
[roles.visitor]
rez = "temporary"
scripts = false
max_entities = 50
rez_per_second = 10
chat_per_second = 5
caps = []

# Builders keep what they make and may run scripts. Keys not given here are the visitor's.
[roles.builder]
rez = "permanent"
scripts = true
max_entities = 500
rez_per_second = 20
rank = 10                     # a token in several groups gets the highest-ranked group's role

# Moderators act on visitors and builders, never on the owner (a lower rank).
[roles.moderator]
rez = "permanent"
scripts = true
max_entities = 500
rez_per_second = 20
chat_per_second = 10
caps = ["kick", "ban", "find", "remove", "locate", "edit_any", "reports"]
rank = 100

# The owner: every capability, and no one outranks it.
[roles.owner]
rez = "permanent"
scripts = true
max_entities = 5000
rez_per_second = 50
chat_per_second = 10
caps = [{caps}]
rank = 1000

# Roles by token. A token here has this role whatever groups it is in.
# Give a moderator their role with its owner token (`domainserver token KEYFILE` prints one):
#     "<32-character token>" = "moderator"
[members]
"{token}" = "owner"   # you: the identity in {keyfile}

# Builders: listed here (or, with a signer, holding a credential: docs/PERMISSIONS.md).
[groups.builders]
role = "builder"
members = []

[rez]
whitelist = []                # empty: every role that may rez, may rez
blacklist = []                # tokens that may not rez at all

[scripts]
whitelist = []                # empty: every role with scripts = true
blacklist = []
sources = []                  # allowed script URL prefixes; empty: any

[access]
blacklist = []                # tokens or "group:NAME" that may not connect at all

# API keys, stored as their SHA-256 only. `domainserver apikey NAME --scope ...` adds one.
# The console's key below was printed once by `domainserver init`; lost, it is replaced by
# deleting this table and running:  domainserver apikey console {scope_flags} --permissions {path}
"""

_SETTINGS = """\
# How the server runs (docs/CONFIGURATION.md); relative paths are relative to this file.
# Start it with:   domainserver serve --config {path}
[server]
host = "127.0.0.1"            # this machine only; 0.0.0.0 or a reverse proxy for visitors
port = {port}
database = "domain.db"
permissions = "{permissions}"
"""


def register(sub: Any) -> None:
    init = sub.add_parser(
        "init",
        help="make a starter domain in which you are the owner, with a console key",
        description="Make DIR (default: the current directory) with a commented permissions "
        f"file ({PERMISSIONS}) naming you its owner, your Ed25519 identity ({KEYFILE}, mode "
        f"0600) and a settings file ({SETTINGS}), and print an API key for the console, once "
        "(only its SHA-256 is stored). Nothing that exists is overwritten.",
    )
    init.add_argument("dir", nargs="?", default=".", metavar="DIR")
    init.add_argument("--id", metavar="ID", help="the domain id (default: from DIR's name)")
    init.add_argument("--port", type=int, default=DEFAULT_PORT,
                      help=f"port in the settings file (default: {DEFAULT_PORT})")  # fmt: skip
    init.set_defaults(run=_init)


def _fail(message: str) -> int:
    print(f"domainserver: init: {message}", file=sys.stderr)
    return 2


def _domain_id(directory: Path) -> str:
    name = re.sub(r"[^a-z0-9.-]+", "-", directory.resolve().name.lower()).strip("-.")
    return name or "my-domain"


def permissions_text(domain_id: str, token: str, path: str, keyfile: str) -> str:
    """The starter permissions file: `token` is the owner with every capability."""
    flags = " ".join(f"--scope {s}" for s in CONSOLE_SCOPES)
    return _TEMPLATE.format(
        domain_id=domain_id, token=token, path=path, keyfile=keyfile, scope_flags=flags,
        caps=", ".join(f'"{c}"' for c in sorted(KNOWN_CAPS)),
        date=time.strftime("%Y-%m-%d"),
    )  # fmt: skip


def _init(args: argparse.Namespace) -> int:
    from permissions import PolicyError, add_api_key, generate_signer, load_signer, parse_policy

    from ._keys import token_of

    if not 1 <= args.port <= 65535:
        return _fail("--port must be from 1 to 65535")
    directory = Path(args.dir)
    files = [directory / name for name in (PERMISSIONS, KEYFILE, SETTINGS)]
    taken = [str(f) for f in files if f.exists()]
    if taken:
        return _fail(f"{', '.join(taken)} already there; refusing to overwrite "
                     "(choose another DIR)")
    domain_id = args.id or _domain_id(directory)
    perms, keyfile, settings = files
    try:
        directory.mkdir(parents=True, exist_ok=True)
        generate_signer(keyfile)
        token = token_of(load_signer(keyfile).public_key())
        key = secrets.token_urlsafe(32)
        text = permissions_text(domain_id, token, str(perms), str(keyfile))
        text = add_api_key(text, str(perms), "console",
                           hashlib.sha256(key.encode()).hexdigest(), CONSOLE_SCOPES)  # fmt: skip
        parse_policy(text, str(perms))
        _write(perms, text, 0o600)
        _write(settings, _SETTINGS.format(path=settings, port=args.port,
                                          permissions=PERMISSIONS), 0o644)  # fmt: skip
    except OSError as exc:
        return _fail(f"cannot write in {directory}: {exc.strerror or exc}")
    except (PolicyError, ValueError) as exc:  # only a bad --id gets here
        return _fail(str(exc))
    url = f"http://127.0.0.1:{args.port}/console"
    print(f"""made the domain "{domain_id}" in {directory}:
  {perms}   permissions: you are its owner, with every capability
  {keyfile}  your identity as an avatar, token {token} (mode 0600: keep it secret)
  {settings}   settings: port {args.port}, database {directory / 'domain.db'}

Your console key (shown this once; only its SHA-256 is kept in {perms}):

    {key}

Start the server:  domainserver serve --config {settings}
then open {url} and sign in with the key above.""")
    return 0


def _write(path: Path, text: str, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
