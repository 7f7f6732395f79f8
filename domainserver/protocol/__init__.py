"""The viewer protocol's bytes, sans I/O: the msgpack codec and WebSocket framing. Both the
WebSocket transport and delivery to viewers (in the services) use it."""

from .codec import DEFAULT_MAX_FRAME, PackedField, Request, decode_request, encode_event

__all__ = ["DEFAULT_MAX_FRAME", "PackedField", "Request", "decode_request", "encode_event"]
