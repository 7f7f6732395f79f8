"""The world's core: entities, owner stamping, lineage, indexes, expiry, quotas, mutes. No I/O."""

from .errors import DomainError
from .model import EMPTY_PROPS, NO_OVERRIDE, Entity, Override, Vec3
from .mutes import MuteSet, MuteTarget
from .quotas import RateBuckets
from .rules import Actor, LifetimeRule, RezRequest
from .tokens import is_token, token_from_public_key
from .world import World

__all__ = [
    "Actor",
    "DomainError",
    "EMPTY_PROPS",
    "Entity",
    "LifetimeRule",
    "MuteSet",
    "MuteTarget",
    "NO_OVERRIDE",
    "Override",
    "RateBuckets",
    "RezRequest",
    "Vec3",
    "World",
    "is_token",
    "token_from_public_key",
]
