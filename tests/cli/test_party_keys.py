"""``deconfliction party key``: make a key pair, register, list, revoke, and sign a
request that the service's check accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from deconfliction.cli.app import build
from deconfliction.signatures import verify_request


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build(), list(args))
    return result.exit_code, result.stdout


def test_make_register_sign_and_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    assert run("party", "add", "Alpha", "--role", "operator", "-d", url)[0] == 0
    key_file = tmp_path / "alpha.pem"
    code, public = run("party", "key", "new", str(key_file))
    assert code == 0
    public = public.strip()
    assert len(public) == 64
    assert run("party", "key", "new", str(key_file))[0] != 0  # never overwritten
    code, key_id = run("party", "key", "add", "Alpha", public, "--keyid", "alpha-1", "-d", url)
    assert (code, key_id.strip()) == (0, "alpha-1")
    body = tmp_path / "body.json"
    body.write_bytes(b'{"to":"Bravo","text":"hi"}')
    code, out = run(
        "party",
        "key",
        "sign",
        "POST",
        "http://h/v1/messages",
        str(body),
        "--key",
        str(key_file),
        "--keyid",
        "alpha-1",
    )
    assert code == 0, out
    headers = [tuple(line.split(": ", 1)) for line in out.strip().splitlines()]
    signed = verify_request(
        "POST",
        "http://h/v1/messages",
        headers,
        body.read_bytes(),
        {"alpha-1": public},
        datetime.now(UTC),
    )
    assert signed.key_id == "alpha-1"
    assert run("party", "key", "revoke", "Alpha", "alpha-1", "-d", url)[0] == 0
    code, out = run("party", "key", "list", "Alpha", "-d", url)
    assert code == 0
    assert "alpha-1" in out
