"""`domainserver keygen`, `token` and `credential`: Ed25519 keys (a viewer's identity or a
group's signer), the owner token a key has, and delegated-group credentials."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    keygen = sub.add_parser(
        "keygen",
        help="make an Ed25519 key: a group's signer, or an identity",
        description="Write a new Ed25519 private key (PEM, mode 0600, never overwriting) and "
        "print its public key as a group signer and the owner token it has as an avatar.",
    )
    keygen.add_argument("file", nargs="?", metavar="FILE", help="where to write the key")
    keygen.add_argument("--out", metavar="FILE", help="the same as FILE")
    keygen.set_defaults(run=_keygen)

    token = sub.add_parser(
        "token",
        help="print the owner token of a key (for [members], groups and lists)",
        description="Print the owner token an identity has in every domain: from its private "
        'key file (PEM), or from its public key written "ed25519:...".',
    )
    token.add_argument("key", metavar="KEYFILE|ed25519:...")
    token.set_defaults(run=_token)

    cred = sub.add_parser(
        "credential",
        help="issue a group membership credential",
        description="Print a credential (one line of base64) saying TOKEN is in GROUP of one "
        "domain until it expires. The viewer sends that text in its hello's credentials.",
    )
    cred.add_argument("--signer", required=True, metavar="FILE", help="signer private key")
    cred.add_argument("--group", required=True)
    cred.add_argument("--member", required=True, metavar="TOKEN")
    cred.add_argument("--days", type=float, default=30.0, help="lifetime (default: 30)")
    where = cred.add_mutually_exclusive_group()
    where.add_argument("--domain", metavar="ID", help="the domain id it is valid in")
    where.add_argument(
        "--permissions",
        metavar="FILE",
        help="read the domain id from this permissions file, and check that GROUP is there "
        "with this signer",
    )
    cred.set_defaults(run=_credential)


def _fail(message: str) -> int:
    print(f"domainserver: {message}", file=sys.stderr)
    return 2


def _keygen(args: argparse.Namespace) -> int:
    from permissions import generate_signer, load_signer

    from ._keys import token_of

    path = args.file or args.out
    if path is None or (args.file and args.out):
        return _fail("keygen: give the key file once: domainserver keygen FILE")
    try:
        public = generate_signer(path)
    except FileExistsError:
        return _fail(f"keygen: {path} exists; refusing to overwrite a key")
    except OSError as exc:
        return _fail(f"keygen: cannot write {path}: {exc.strerror or exc}")
    print(f"wrote private key to {path} (mode 0600; keep it secret)")
    print(f'signer = "{public}"   # as a [groups.NAME] signer')
    print(f"token  = {token_of(load_signer(path).public_key())}   # as an avatar's identity")
    return 0


def _token(args: argparse.Namespace) -> int:
    from ._keys import KeyProblem, read_public_key, token_of

    try:
        print(token_of(read_public_key(args.key)))
    except KeyProblem as exc:
        return _fail(f"token: {exc}")
    return 0


def _credential(args: argparse.Namespace) -> int:
    from entities.tokens import is_token
    from permissions import credential_text, encode_public_key, issue_credential

    from ._keys import KeyProblem, read_signer

    if not is_token(args.member):
        return _fail(f"credential: --member {args.member!r} is not a token")
    if args.days <= 0:
        return _fail("credential: --days must be > 0")
    try:
        signer = read_signer(args.signer)
    except KeyProblem as exc:
        return _fail(f"credential: {exc}")
    domain = args.domain
    if args.permissions is not None:
        from permissions import PolicyError, load_policy

        try:
            policy = load_policy(args.permissions)
        except PolicyError as exc:
            print(exc, file=sys.stderr)
            return 2
        domain = policy.domain.id
        group = policy.groups.get(args.group)
        public = encode_public_key(signer.public_key())
        if group is None or group.signer != public:
            return _fail(
                f'credential: {args.permissions} has no group "{args.group}" with signer '
                f'"{public}"; the domain would refuse this credential'
            )
    if not domain:
        return _fail("credential: name the domain: --domain ID or --permissions FILE")
    expires_at = int(time.time() + args.days * 86400)
    blob = issue_credential(signer, domain, args.group, args.member, expires_at)
    print(credential_text(blob))
    return 0
