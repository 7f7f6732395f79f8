"""The one error tree: every refusal a client can see, with its stable contract code.

DomainError
 ├── BadRequest          bad_request         400  malformed arguments
 ├── BadFrame            bad_frame           400  not a msgpack map / text frame
 ├── TooLarge            too_large           413  frame or body over the limit
 ├── NotAuthenticated    not_authenticated   401  op before hello / no API key
 ├── AuthFailed          auth_failed         401  bad signature / unknown key
 ├── Banned              banned              403  token is banned
 ├── NotAllowed          not_allowed         403  role, list or capability says no
 ├── NotFound            not_found           404  no such entity / avatar
 ├── NotOwner            not_owner           403  someone else's entity
 ├── OwnerImmutable      owner_immutable     409  tried to change owner/creator/id/...
 ├── QuotaExceeded       quota_exceeded      429  over max_entities
 ├── RateLimited         rate_limited        429  over a rate budget
 ├── ScriptNotAllowed    script_not_allowed  403  script permission or source refused
 └── ServerFault         internal            500  the server failed, not the request
                                                  (logged under the id in the message)

The WebSocket renders `code` and `message` into an error reply; HTTP uses `status`.
Anything that is not a DomainError is a server fault: logged with an id, and answered as
`ServerFault` naming that id, never as the client's `bad_request` and never with a traceback.
"""

from __future__ import annotations

__all__ = [
    "DomainError",
    "BadRequest",
    "BadFrame",
    "TooLarge",
    "NotAuthenticated",
    "AuthFailed",
    "Banned",
    "NotAllowed",
    "NotFound",
    "NotOwner",
    "OwnerImmutable",
    "QuotaExceeded",
    "RateLimited",
    "ScriptNotAllowed",
    "ServerFault",
    "ERROR_CODES",
]


class DomainError(Exception):
    """A refusal with a stable contract code and a human-readable message."""

    code: str = "bad_request"
    status: int = 400

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code.replace("_", " "))
        self.message = message or self.code.replace("_", " ")

    def to_wire(self) -> dict[str, str]:
        """The `error` map of a reply or an error event."""
        return {"code": self.code, "message": self.message}


class BadRequest(DomainError):
    code, status = "bad_request", 400


class BadFrame(DomainError):
    code, status = "bad_frame", 400


class TooLarge(DomainError):
    code, status = "too_large", 413


class NotAuthenticated(DomainError):
    code, status = "not_authenticated", 401


class AuthFailed(DomainError):
    code, status = "auth_failed", 401


class Banned(DomainError):
    code, status = "banned", 403


class NotAllowed(DomainError):
    code, status = "not_allowed", 403


class NotFound(DomainError):
    code, status = "not_found", 404


class NotOwner(DomainError):
    code, status = "not_owner", 403


class OwnerImmutable(DomainError):
    code, status = "owner_immutable", 409


class QuotaExceeded(DomainError):
    code, status = "quota_exceeded", 429


class RateLimited(DomainError):
    code, status = "rate_limited", 429


class ScriptNotAllowed(DomainError):
    code, status = "script_not_allowed", 403


class ServerFault(DomainError):
    code, status = "internal", 500

    @classmethod
    def logged_as(cls, fault_id: str) -> ServerFault:
        return cls(f"server fault, not a fault of your request (logged as {fault_id}); try again")


ERROR_CODES: frozenset[str] = frozenset(cls.code for cls in DomainError.__subclasses__())
