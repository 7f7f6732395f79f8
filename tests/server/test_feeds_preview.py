"""`domainserver feeds preview`: fetches a real server's feed, verifies it, and says whom it
would ban here and which members it conflicts with; a wrong key is refused."""

import asyncio
import sys

from domainserver.client import Identity


async def _cli(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "domainserver", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode()


async def test_preview_shows_whom_it_would_ban_and_the_conflicts(harness, people):
    griefer = Identity.generate()
    g = await harness.connect(griefer)
    await g.request("rez", entity={"type": "box", "position": [0, 0, 0]})
    moderator = await harness.connect(people.moderator)
    await moderator.request("ban", token=griefer.token, reason="x", keep_entities=True)
    await moderator.request("ban", token=people.trusted.token, reason="y")
    url = str(harness.server.make_url("/api/v1/banfeed"))
    key = harness.domain.key.text
    here = ["--permissions", str(harness.policy_path), "--db", str(harness.db)]
    code, out = await _cli("feeds", "preview", url, "--key", key, *here)
    assert code == 0, out
    assert "verified: domain 'testdomain'" in out and "2 in force" in out
    assert "it would ban 1 token(s) here (1 already banned locally, 1 owning entities here)" in out
    assert f"{griefer.token}  permanent, owns 1 entities here, banned locally" in out
    assert f"{people.trusted.token}  member with role builder" in out
    code, out = await _cli("feeds", "preview", url, "--key", "ed25519:" + "A" * 43 + "=",
                           "--action", "advisory")  # fmt: skip
    assert code == 1 and "REFUSED: the signature does not verify" in out
