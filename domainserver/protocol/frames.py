"""Server-to-viewer WebSocket framing (RFC 6455 §5.2), sans I/O.

The server frames its own binary messages so that a session's writer can hand a whole
batch of queued frames to the socket in one write: a ban that removes 100,000 entities is
one buffer per viewer, not 100,000 awaits. Server frames are unmasked; compression is off.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

__all__ = ["binary_frame", "binary_frames"]

_LEN1 = struct.Struct("!BB").pack
_LEN2 = struct.Struct("!BBH").pack
_LEN3 = struct.Struct("!BBQ").pack
_FIN_BINARY = 0x82


def binary_frame(payload: bytes) -> bytes:
    """One complete, final, unmasked binary frame carrying `payload`."""
    n = len(payload)
    if n < 126:
        return _LEN1(_FIN_BINARY, n) + payload
    if n < 65536:
        return _LEN2(_FIN_BINARY, 126, n) + payload
    return _LEN3(_FIN_BINARY, 127, n) + payload


def binary_frames(payloads: Iterable[bytes]) -> bytes:
    """Several frames back to back, ready for a single socket write."""
    return b"".join(map(binary_frame, payloads))
