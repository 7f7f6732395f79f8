"""The README's tour runs as written, line by line, in a fresh directory (on a free port
instead of 8080, so that it never collides with a server already running there)."""

import re
import socket
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tour_lines():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## A short tour"):]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return block


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_tour_runs_as_written(tmp_path):
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    script = tour_lines().replace("8080", str(free_port()))
    assert "kill %1" in script and "apikey" in script and "backup" in script
    out = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + "wait\n"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "domain.toml: ok" in out.stdout
    assert '{"tokens": [], "next": null}' in out.stdout  # the curl with the new key: 200
    assert re.search(r"^[a-z2-7]{32}$", out.stdout, re.M)  # domainserver token
    assert "backed up world.db to world-copy.db" in out.stdout and "integrity ok" in out.stdout
    assert "SIGHUP: permissions reloaded from domain.toml" in out.stderr
    assert "Traceback" not in out.stderr
    assert (tmp_path / "world-copy.db").exists()
