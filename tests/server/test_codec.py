"""The wire codec and framer without sockets."""

import struct

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domainserver.protocol.codec import (
    decode_request,
    encode_error_event,
    encode_error_reply,
    encode_event,
    encode_reply,
)
from domainserver.protocol.frames import binary_frame, binary_frames
from entities.errors import ERROR_CODES, BadFrame, BadRequest, NotOwner, TooLarge

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=20)
    | st.binary(max_size=20)
    | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@given(
    op=st.text(min_size=1, max_size=12),
    rid=st.integers(0, 2**31),
    args=st.dictionaries(
        st.text(max_size=8).filter(lambda k: k not in ("op", "id")), values, max_size=5
    ),
)
def test_decoded_request_reencodes_the_same(op, rid, args):
    frame = msgpack.packb({"op": op, "id": rid, **args}, use_bin_type=True)
    request = decode_request(frame)
    assert (request.op, request.id, request.args) == (op, rid, {"op": op, "id": rid, **args})
    assert all(request.arg(k) == v for k, v in args.items())
    again = msgpack.packb(request.args, use_bin_type=True)
    assert decode_request(again) == request


@pytest.mark.parametrize(
    "data,error",
    [
        (b"\xc1", BadFrame),
        (msgpack.packb([1]), BadFrame),
        (msgpack.packb("op"), BadFrame),
        (b"", BadFrame),
        (msgpack.packb({"op": "x"}), BadRequest),
        (msgpack.packb({"id": 1}), BadRequest),
        (msgpack.packb({"op": 1, "id": 1}), BadRequest),
        (msgpack.packb({"op": "x", "id": "1"}), BadRequest),
        (msgpack.packb({"op": "x", "id": True}), BadRequest),
        (msgpack.packb({"op": "x", "id": 1.5}), BadRequest),
    ],
)
def test_bad_frames(data, error):
    with pytest.raises(error):
        decode_request(data)


def test_size_limit():
    frame = msgpack.packb({"op": "say", "id": 1, "text": "x" * 100})
    with pytest.raises(TooLarge):
        decode_request(frame, max_size=50)
    assert decode_request(frame, max_size=len(frame)).op == "say"


def test_reply_and_error_shapes():
    assert msgpack.unpackb(encode_reply(3, {"a": 1})) == {"re": 3, "ok": True, "a": 1}
    assert msgpack.unpackb(encode_reply(3)) == {"re": 3, "ok": True}
    err = msgpack.unpackb(encode_error_reply(4, NotOwner("nope")))
    assert err == {"re": 4, "ok": False, "error": {"code": "not_owner", "message": "nope"}}
    ev = msgpack.unpackb(encode_error_event(BadFrame("x")))
    assert ev == {"ev": "error", "error": {"code": "bad_frame", "message": "x"}}
    assert msgpack.unpackb(encode_event("chat", {"text": "t"})) == {"ev": "chat", "text": "t"}


def test_error_codes_are_the_contracts_and_one_for_server_faults():
    # The contract's codes, plus `internal` for a fault of the server (docs/PROTOCOL_NOTES.md):
    # a client must never be told its request was bad when the server failed.
    assert ERROR_CODES - {"internal"} == {
        "bad_request",
        "bad_frame",
        "too_large",
        "not_authenticated",
        "auth_failed",
        "banned",
        "not_allowed",
        "not_found",
        "not_owner",
        "owner_immutable",
        "quota_exceeded",
        "rate_limited",
        "script_not_allowed",
    }


def parse_frames(data: bytes) -> list[bytes]:
    """An independent RFC 6455 reader for server (unmasked) frames."""
    out, i = [], 0
    while i < len(data):
        b0, b1 = data[i], data[i + 1]
        assert b0 == 0x82 and not b1 & 0x80
        n, i = b1 & 0x7F, i + 2
        if n == 126:
            (n,), i = struct.unpack("!H", data[i : i + 2]), i + 2
        elif n == 127:
            (n,), i = struct.unpack("!Q", data[i : i + 8]), i + 8
        out.append(data[i : i + n])
        i += n
    return out


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_frame_lengths(size):
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert parse_frames(binary_frame(payload)) == [payload]


@given(st.lists(st.binary(max_size=300), max_size=20))
def test_frames_concatenate(payloads):
    assert parse_frames(binary_frames(payloads)) == payloads
