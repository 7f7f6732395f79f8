"""`domainserver init`: a starter domain whose owner is the operator, with a console key
printed once and stored hashed; `serve` on it says where the console is."""

import hashlib
import re
import stat

import aiohttp

from domainserver.client import Identity
from permissions import KNOWN_CAPS, load_policy

from .conftest import run_cli
from .process import serve


def _key_of(stdout):
    (key,) = re.findall(r"^    (\S{40,})$", stdout, re.M)
    return key


def test_init_makes_an_owner_a_key_file_and_a_hashed_console_key(tmp_path):
    where = tmp_path / "my domain"
    done = run_cli("init", str(where))
    assert done.returncode == 0, done.stderr
    key = _key_of(done.stdout)
    policy = load_policy(str(where / "domain.toml"))
    me = Identity.load(where / "operator.pem")
    assert policy.domain.id == "my-domain"
    grant = policy.grant_for(me.token)
    assert grant.role.name == "owner" and set(grant.role.caps) == KNOWN_CAPS
    assert max(r.rank for r in policy.roles.values()) == grant.role.rank
    found = policy.api_key(key)
    assert found is not None and found.name == "console"
    assert {"avatars:write", "bans:write", "entities:write", "reports:write",
            "log:read", "metrics:read", "policy:read", "policy:write"} <= found.scopes
    text = (where / "domain.toml").read_text()
    assert key not in text and hashlib.sha256(key.encode()).hexdigest() in text
    assert text.count("#") > 20  # a commented file, for a person to read
    for secret in ("operator.pem", "domain.toml"):
        assert stat.S_IMODE((where / secret).stat().st_mode) == 0o600
    assert "http://127.0.0.1:8080/console" in done.stdout
    assert f"serve --config {where / 'server.toml'}" in done.stdout
    assert me.token in done.stdout and key in done.stdout


def test_init_never_overwrites(tmp_path):
    assert run_cli("init", str(tmp_path)).returncode == 0
    before = (tmp_path / "operator.pem").read_bytes()
    again = run_cli("init", str(tmp_path))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr
    assert again.stdout == ""
    assert (tmp_path / "operator.pem").read_bytes() == before


async def test_serve_on_an_init_domain_prints_the_console_and_admits_the_key(tmp_path):
    from .process import free_port

    port = free_port()
    done = run_cli("init", str(tmp_path / "d"), "--port", str(port))
    key = _key_of(done.stdout)
    served = await serve(tmp_path, "--config", str(tmp_path / "d" / "server.toml"),
                         port=port)  # fmt: skip
    try:
        await served.wait_log(f"console: http://127.0.0.1:{port}/console")
        async with aiohttp.ClientSession() as http:
            headers = {"Authorization": f"Bearer {key}"}
            async with http.get(f"{served.http}/api/v1/operator/avatars", headers=headers) as r:
                assert r.status == 200
    finally:
        assert served.stop() == 0
