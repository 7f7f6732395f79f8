"""Server settings from one place: a settings file's [server] table, environment variables,
flags, in that rising precedence; every problem located like the permissions file's."""

import asyncio
import json
import os
from pathlib import Path

import pytest

from domainserver.client import Client, Identity, RequestFailed
from domainserver.settings import SETTINGS, SettingsError, load_settings

from .conftest import policy_text, run_cli
from .process import free_port, serve


def test_defaults_then_file_then_environment_then_flags(tmp_path):
    conf = tmp_path / "server.toml"
    conf.write_text('[server]\nport = 9000\nhost = "0.0.0.0"\ndatabase = "data/w.db"\n'
                    'log_level = "warning"\nmax_frame = 131072\nsynchronous = "NORMAL"\n')
    plain = load_settings({}, {})
    assert (plain.host, plain.port, plain.config.db_path) == ("127.0.0.1", 8080, "domain.db")
    assert plain.log_level == "info" and plain.config.permissions_path is None
    from_file = load_settings({}, {}, str(conf))
    assert from_file.port == 9000 and from_file.host == "0.0.0.0"
    assert from_file.config.db_path == str(tmp_path / "data" / "w.db")  # next to the file
    assert from_file.config.max_frame == 131072 and from_file.config.synchronous == "NORMAL"
    env = {"DOMAINSERVER_CONFIG": str(conf), "DOMAINSERVER_PORT": "9100",
           "DOMAINSERVER_LOG_LEVEL": "DEBUG"}
    from_env = load_settings({}, env)
    assert from_env.port == 9100 and from_env.log_level == "debug" and from_env.host == "0.0.0.0"
    assert from_env.sources["port"] == "DOMAINSERVER_PORT"
    flagged = load_settings({"port": 9200, "host": None}, env)
    assert flagged.port == 9200 and flagged.host == "0.0.0.0"


def test_every_problem_is_located_with_a_hint(tmp_path):
    conf = tmp_path / "server.toml"
    conf.write_text('[server]\nport = "80"\nlog_levle = "info"\n\nsynchronous = "SOMETIMES"\n'
                    '[other]\n')
    with pytest.raises(SettingsError) as err:
        load_settings({}, {"DOMAINSERVER_PORT": "eighty"}, str(conf))
    lines = [str(p) for p in err.value.problems]
    assert f"{conf}:2: server.port: must be an integer, got \"80\" (a string)" in lines
    assert f'{conf}:3: server: unknown key "log_levle"; did you mean "log_level"?' in lines
    assert any(line.startswith(f"{conf}:5: server.synchronous: must be one of") for line in lines)
    assert any(line.startswith(f'{conf}:6: unknown key "other"') for line in lines)
    assert "environment DOMAINSERVER_PORT:1: 'eighty': must be a whole number" in lines


def test_every_setting_is_documented_with_its_default():
    text = (Path(__file__).resolve().parents[2] / "docs" / "CONFIGURATION.md").read_text()
    for s in SETTINGS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{s.key}` |")), "")
        assert row, f"{s.key} is not in docs/CONFIGURATION.md"
        default = "none" if s.default is None else str(s.default).lower()
        assert f"`{default}`" in row.lower(), (s.key, default, row)
        if s.env:
            assert f"`{s.env}`" in row


def test_serve_help_shows_the_defaults():
    out = run_cli("serve", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    for needle in ["default: 127.0.0.1", "default: 8080", "default: domain.db",
                   "default: info", "default: text", "env DOMAINSERVER_PORT"]:
        assert needle in text, needle


def test_serve_refuses_a_bad_settings_file_with_its_line(tmp_path):
    conf = tmp_path / "server.toml"
    conf.write_text('[server]\nport = 70000\n')
    out = run_cli("serve", "--config", str(conf))
    assert out.returncode == 2
    assert f"{conf}:2: server.port: must be a port from 1 to 65535" in out.stderr
    assert "Traceback" not in out.stderr


async def test_serve_from_environment_variables_only(tmp_path, people):
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))
    port = free_port()
    env = dict(os.environ, DOMAINSERVER_PORT=str(port), DOMAINSERVER_DB=str(tmp_path / "e.db"),
               DOMAINSERVER_PERMISSIONS=str(perms), DOMAINSERVER_LOG_FORMAT="json")
    served = await serve(tmp_path, port=port, env=env)
    try:
        c = await Client.connect(served.url, people.moderator)
        assert c.challenge["domain"] == "testdomain" and c.hello["role"] == "moderator"
        await c.close()
        await served.wait_log('"event": "leave"')
    finally:
        assert served.stop() == 0
    assert (tmp_path / "e.db").exists()
    records = [json.loads(line) for line in served.log().splitlines() if line.strip()]
    assert records[0]["event"] == "serving"


async def test_the_log_says_who_came_and_went_what_reloaded_and_what_was_refused(
    tmp_path, people
):
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))
    served = await serve(tmp_path, "--permissions", str(perms), "--db", str(tmp_path / "w.db"),
                         "--log-format", "json")
    try:
        c = await Client.connect(served.url, people.trusted, name="Ada")
        for _ in range(3):  # no kick capability: not_allowed
            reply = await c.submit("kick", avatar=people.visitor.token)
            assert reply["error"]["code"] == "not_allowed"
        await c.close()
        perms.write_text(policy_text(people, f'[access]\nblacklist = ["{people.griefer.token}"]\n'))
        await served.wait_log('"event": "reload"')
        with pytest.raises(RequestFailed):
            await Client.connect(served.url, people.griefer)
        await served.wait_log('"event": "refused"')
    finally:
        assert served.stop() == 0
    records = [json.loads(line) for line in served.log().splitlines() if line.strip()]
    by = {}
    for r in records:
        by.setdefault(r.get("event"), []).append(r)
    join, leave = by["join"][0], by["leave"][0]
    assert join["token"] == people.trusted.token and join["role"] == "builder"
    assert leave["token"] == people.trusted.token and leave["refused"] == {"not_allowed": 3}
    assert "refused: not_allowed 3" in leave["message"]
    assert by["reload"][0]["changes"] == ["access blacklist +1 token"]
    refused = by["refused"][0]
    assert refused["code"] == "not_allowed" and people.griefer.token in refused["message"]
    assert all({"time", "level", "logger", "message"} <= set(r) for r in records)


async def test_log_level_warning_keeps_info_out(tmp_path):
    served = await serve(tmp_path, "--db", str(tmp_path / "w.db"), "--log-level", "warning")
    try:
        c = await Client.connect(served.url, Identity.generate())
        await c.close()
        await asyncio.sleep(0.2)
    finally:
        assert served.stop() == 0
    assert "join" not in served.log() and "serving" not in served.log()


def test_version():
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.startswith("domainserver ")
    assert out.stdout.split()[1][0].isdigit()
