"""Who may do what in a domain: the permissions file parsed into a frozen Policy, the Grant it
resolves for a token, and credentials for delegated groups. Pure Python, no I/O beyond reading
the file."""

from permissions.credentials import (
    decode_public_key,
    encode_public_key,
    generate_signer,
    issue_credential,
    load_signer,
    verify_credentials,
)
from permissions.model import (
    KNOWN_CAPS,
    KNOWN_SCOPES,
    ApiKey,
    DomainSettings,
    Grant,
    Group,
    Policy,
    PolicyError,
    Problem,
    Role,
    TokenList,
)
from permissions.parse import default_policy, load_policy, parse_policy

from .banlist import BanList

__all__ = [
    "KNOWN_CAPS",
    "KNOWN_SCOPES",
    "ApiKey",
    "BanList",
    "DomainSettings",
    "Grant",
    "Group",
    "Policy",
    "PolicyError",
    "Problem",
    "Role",
    "TokenList",
    "decode_public_key",
    "default_policy",
    "encode_public_key",
    "generate_signer",
    "issue_credential",
    "load_policy",
    "load_signer",
    "parse_policy",
    "verify_credentials",
]
