"""`domainserver apikey` stores the key's hash in the permissions file itself (keeping the
rest of the file as written) and a running server accepts the key without a restart."""

import asyncio
import hashlib

import aiohttp

from .conftest import policy_text, run_cli
from .process import serve


def test_apikey_appends_the_hashed_entry_and_keeps_the_file(tmp_path, people):
    perms = tmp_path / "p.toml"
    original = "# our domain; do not lose this comment\n" + policy_text(people)
    perms.write_text(original)
    perms.chmod(0o640)
    out = run_cli("apikey", "scripts", "--scope", "blacklist:read", "--permissions", str(perms))
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    text = perms.read_text()
    assert text.startswith(original)
    assert key not in text  # stored hashed
    assert f'sha256 = "{hashlib.sha256(key.encode()).hexdigest()}"' in text
    assert '[api_keys.scripts]\n' in text and 'scopes = ["blacklist:read"]' in text
    assert perms.stat().st_mode & 0o777 == 0o640
    assert run_cli("check", str(perms)).returncode == 0


def test_apikey_refuses_unknown_scopes_and_names_with_the_known_ones(tmp_path, people):
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))
    before = perms.read_text()
    out = run_cli("apikey", "x", "--scope", "blacklist:reed", "--permissions", str(perms))
    assert out.returncode == 2
    assert 'unknown scope "blacklist:reed"; did you mean "blacklist:read"?' in out.stderr
    assert "known: " in out.stderr and "bans:read" in out.stderr
    bad_name = run_cli("apikey", "my key]", "--permissions", str(perms))
    assert bad_name.returncode == 2 and "letters, digits" in bad_name.stderr
    taken = run_cli("apikey", "script", "--permissions", str(perms))  # in the test policy
    assert taken.returncode == 2 and "already" in taken.stderr
    nofile = run_cli("apikey", "x")
    assert nofile.returncode == 2 and "--permissions FILE" in nofile.stderr
    assert perms.read_text() == before
    assert "Traceback" not in out.stderr + bad_name.stderr + taken.stderr + nofile.stderr


async def test_a_running_server_accepts_the_new_key(tmp_path, people):
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))
    served = await serve(tmp_path, "--permissions", str(perms), "--db", str(tmp_path / "w.db"))
    try:
        out = await asyncio.to_thread(
            run_cli, "apikey", "fresh", "--permissions", str(perms)
        )
        assert out.returncode == 0, out.stderr
        headers = {"Authorization": f"Bearer {out.stdout.strip()}"}
        status = None
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                async with http.get(f"{served.http}/api/v1/blacklist", headers=headers) as r:
                    status = r.status
                if status == 200:
                    break
                await asyncio.sleep(0.05)
        assert status == 200
        await served.wait_log("permissions reloaded from")
        assert "api key fresh added (scopes: blacklist:read)" in served.log()
    finally:
        assert served.stop() == 0
