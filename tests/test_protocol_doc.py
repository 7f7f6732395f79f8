"""docs/PROTOCOL.md stays true: every op the server has is named there, and every op and
route it says is implemented exists in the server."""

import re
from pathlib import Path

from domainserver import ServerConfig, create_app
from domainserver.wire import OPS

DOC = (Path(__file__).resolve().parent.parent / "docs" / "PROTOCOL.md").read_text()
CONTRACT_OPS = ["whoami", "rez", "get", "edit", "delete", "set_override", "move", "look",
                "say", "entity_say", "mute", "unmute", "mutes", "report", "find", "remove",
                "kick", "ban", "unban", "locate", "reports", "resolve"]  # fmt: skip


def test_every_op_of_the_server_is_in_the_doc():
    assert [op for op in OPS if f"`{op}`" not in DOC] == []


def test_every_contract_op_the_doc_calls_implemented_exists():
    status = DOC[DOC.index("## What is implemented"): DOC.index("## Transport")]
    rows = [line for line in status.splitlines() if line.startswith("| §2.")]
    claimed = {op for row in rows if "| implemented" in row
               for op in re.findall(r"`([a-z_]+)`", row)}  # fmt: skip
    assert claimed >= {"report", "reports", "resolve", "find"}
    assert sorted(claimed - set(OPS)) == []
    assert set(CONTRACT_OPS) <= claimed


def test_every_route_the_doc_names_exists(tmp_path):
    app = create_app(ServerConfig(db_path=str(tmp_path / "x.db"), handle_signals=False))
    routes = {r.resource.canonical for r in app.router.routes() if r.resource is not None}
    for path in ["/ws", "/healthz", "/metrics", "/api/v1/blacklist", "/api/v1/blacklist/{token}",
                 "/api/v1/domain", "/api/v1/banfeed", "/api/v1/openapi.yaml"]:  # fmt: skip
        assert f"`{path}" in DOC or f"`GET {path}" in DOC, path
        assert path in routes, path
