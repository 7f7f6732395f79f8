"""The WebSocket transport (contract §2): the `/ws` endpoint, the handshake, the op table and
its handlers. Handlers parse a request, call a service, and answer; the endpoint only moves
bytes between the socket and the codec."""

from .endpoint import websocket_handler
from .ops import OPS

__all__ = ["websocket_handler", "OPS"]
