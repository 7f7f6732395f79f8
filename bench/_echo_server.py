"""The baseline for bench/rez_throughput.py: a bare aiohttp WebSocket msgpack echo server.

It does the least a msgpack request/reply server can do per frame (decode the map, encode a
reply with the request's id and its entity, send it) and nothing else: no auth, no policy,
no index, no storage, no broadcast.  Usage: python bench/_echo_server.py PORT
"""

from __future__ import annotations

import os
import sys

import msgpack
from aiohttp import WSMsgType, web

_packb = msgpack.Packer(use_bin_type=True, datetime=False).pack


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def ws_handler(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(max_msg_size=1 << 20)
    await ws.prepare(request)
    await ws.send_bytes(_packb({"ev": "challenge", "nonce": os.urandom(32), "domain": "echo"}))
    async for msg in ws:
        if msg.type != WSMsgType.BINARY:
            continue
        m = msgpack.unpackb(msg.data, raw=False, strict_map_key=False)
        await ws.send_bytes(_packb({"re": m["id"], "ok": True, "entity": m.get("entity")}))
    return ws


def main() -> None:
    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
