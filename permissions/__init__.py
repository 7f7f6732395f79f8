"""Who may do what in a domain: the permissions file parsed into a frozen Policy, the Grant it
resolves for a token, and credentials for delegated groups. Pure Python, no I/O beyond reading
the file."""

from ._check import Checker
from .banlist import BanList
from .credentials import (
    MAX_CREDENTIALS,
    CredentialCheck,
    check_credentials,
    credential_bytes,
    credential_text,
    decode_public_key,
    encode_public_key,
    generate_signer,
    issue_credential,
    load_signer,
    verify_credentials,
)
from .describe import describe_changes, summary
from .edit import add_api_key
from .feeddoc import FeedDocument, FeedRefused, render_document, signature_value, verify_document
from .feeds import ACTIONS, PUBLISH_MODES, FeedConfig, decode_domain_key
from .model import (
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
from .parse import default_policy, load_policy, parse_policy
from .sources import Conflict, Decision, FeedBans, FeedRule, Holding, decide, sources_of

__all__ = [
    "ACTIONS",
    "PUBLISH_MODES",
    "Conflict",
    "Decision",
    "FeedBans",
    "FeedConfig",
    "FeedDocument",
    "FeedRefused",
    "FeedRule",
    "Holding",
    "decide",
    "decode_domain_key",
    "render_document",
    "signature_value",
    "sources_of",
    "verify_document",
    "KNOWN_CAPS",
    "MAX_CREDENTIALS",
    "KNOWN_SCOPES",
    "ApiKey",
    "BanList",
    "Checker",
    "CredentialCheck",
    "DomainSettings",
    "Grant",
    "Group",
    "Policy",
    "PolicyError",
    "Problem",
    "Role",
    "TokenList",
    "add_api_key",
    "check_credentials",
    "credential_bytes",
    "credential_text",
    "decode_public_key",
    "default_policy",
    "describe_changes",
    "encode_public_key",
    "generate_signer",
    "issue_credential",
    "load_policy",
    "load_signer",
    "parse_policy",
    "summary",
    "verify_credentials",
]
