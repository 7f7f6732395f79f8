"""The deployment examples name real settings and real files, and the unit passes
`systemd-analyze verify` where that tool exists."""

import configparser
import re
import shutil
import subprocess
from pathlib import Path

from domainserver.settings import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
KNOWN_ENV = {s.env for s in SETTINGS if s.env} | {"DOMAINSERVER_CONFIG"}


def test_the_systemd_unit_runs_serve_reloads_with_hup_and_stops_in_time(tmp_path):
    text = (ROOT / "examples" / "domainserver.service").read_text()
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string(text)
    service = unit["Service"]
    assert service["ExecStart"].endswith("domainserver serve")
    assert "kill -HUP $MAINPID" in service["ExecReload"]
    assert int(service["TimeoutStopSec"]) >= 5
    names = set(re.findall(r"^Environment=(\w+)=", text, re.M))
    assert names and names <= KNOWN_ENV
    if shutil.which("systemd-analyze"):
        # Point ExecStart at an installed domainserver so verify can check it exists.
        exe = shutil.which("domainserver")
        assert exe is not None
        local = tmp_path / "domainserver.service"
        local.write_text(text.replace("/opt/domainserver/bin/domainserver", exe))
        out = subprocess.run(["systemd-analyze", "verify", str(local)],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert out.returncode == 0 and "domainserver.service" not in out.stderr, out.stderr


def test_the_dockerfile_copies_what_exists_and_sets_real_settings():
    text = (ROOT / "examples" / "Dockerfile").read_text()
    for src in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for name in src.split():
            assert (ROOT / name).exists(), name
    names = set(re.findall(r"(DOMAINSERVER_\w+)=", text))
    assert names and names <= KNOWN_ENV
    assert 'CMD ["serve"]' in text and "STOPSIGNAL SIGTERM" in text
