"""The key commands as an operator runs them: keygen writes a key (never over another) and
prints its signer and token, `token` shows the token a key has, `credential` needs its
domain, and a missing or wrong file is one clear line, never a traceback."""

import base64

import msgpack

from domainserver.client import Identity

from .conftest import policy_text, run_cli


def test_keygen_takes_the_file_as_documented_and_prints_signer_and_token(tmp_path):
    out = run_cli("keygen", str(tmp_path / "builders.pem"))
    assert out.returncode == 0, out.stderr
    token = Identity.load(tmp_path / "builders.pem").token
    assert 'signer = "ed25519:' in out.stdout and f"token  = {token}" in out.stdout
    assert run_cli("keygen", "--out", str(tmp_path / "other.pem")).returncode == 0


def test_keygen_never_overwrites_and_says_so(tmp_path):
    key = tmp_path / "k.pem"
    key.write_text("precious")
    out = run_cli("keygen", str(key))
    assert out.returncode == 2 and "exists; refusing to overwrite" in out.stderr
    assert "Traceback" not in out.stderr and key.read_text() == "precious"


def test_token_of_a_key_file_and_of_a_public_key(tmp_path):
    me = tmp_path / "me.pem"
    keygen = run_cli("keygen", str(me))
    signer = keygen.stdout.split('signer = "', 1)[1].split('"', 1)[0]
    expected = Identity.load(me).token
    assert run_cli("token", str(me)).stdout.strip() == expected
    assert run_cli("token", signer).stdout.strip() == expected
    missing = run_cli("token", str(tmp_path / "nope.pem"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a key")
    out = run_cli("token", str(garbage))
    assert out.returncode == 2 and "not an unencrypted PEM" in out.stderr
    assert "Traceback" not in out.stderr + missing.stderr


def test_credential_with_a_missing_signer_file_is_one_line(tmp_path):
    member = Identity.generate().token
    out = run_cli("credential", "--signer", str(tmp_path / "nope.pem"), "--group", "g",
                  "--member", member, "--domain", "d")  # fmt: skip
    assert out.returncode == 2 and "cannot read" in out.stderr and "Traceback" not in out.stderr


def test_credential_names_its_domain(tmp_path, people):
    key = tmp_path / "k.pem"
    keygen = run_cli("keygen", str(key))
    signer = keygen.stdout.split('signer = "', 1)[1].split('"', 1)[0]
    member = Identity.generate().token
    base = ["credential", "--signer", str(key), "--group", "guests", "--member", member]
    nodomain = run_cli(*base)
    assert nodomain.returncode == 2 and "--domain ID or --permissions FILE" in nodomain.stderr
    perms = tmp_path / "p.toml"
    perms.write_text(policy_text(people))  # no group "guests" yet
    out = run_cli(*base, "--permissions", str(perms))
    assert out.returncode == 2 and 'no group "guests"' in out.stderr
    group = f'[groups.guests]\nrole = "builder"\nsigner = "{signer}"\n'
    perms.write_text(policy_text(people, group))
    out = run_cli(*base, "--permissions", str(perms))
    assert out.returncode == 0, out.stderr
    data = msgpack.unpackb(base64.b64decode(out.stdout.strip()))
    assert data["v"] == 2 and data["domain"] == "testdomain" and data["member"] == member
