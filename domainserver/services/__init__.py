"""The services both transports call: the domain's live state and what is done with it.

One module per noun: `entities`, `mutes`, `bans`, `moderation` (find, remove, kick,
locate), `roomlog`; and the machinery under them: `domain` (live state), `commits`
(ordered, grouped durable writes), `sessions` (connected viewers and delivery), `ids`,
`loading` (start-up), `expiry`, `reload`, `paging`. Services own persistence: the
transports parse, call a service, and render its answer.
"""

from .commits import Committing, settle
from .domain import Domain
from .sessions import Session, SessionRegistry

__all__ = ["Domain", "Committing", "settle", "Session", "SessionRegistry"]
