"""``python -m assist access``: the tokens it prints work on a server with the same settings, a
revocation and a rotation land in the access file the server re-reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assist.access.gate import AccessGate
from assist.access.tokens import ROLES
from assist.cli import main
from assist.config import load_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith("ASSIST_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSIST_DATA_DIR", str(tmp_path))
    return tmp_path


def server_gate() -> AccessGate:
    settings = load_settings()  # what server.py reads: the same persisted secret
    return AccessGate(settings.secret_key, {r: settings.role_token(r) for r in ROLES}, settings.access_path)


def test_token_revoke_rotate(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", "token", "alice", "--hours", "1"]) == 0
    token = capsys.readouterr().out.strip()
    gate = server_gate()
    alice = gate.authenticate(token)
    assert alice is not None and alice.is_agent("alice")
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600

    assert main(["access", "token", "bob", "--link", "https://assist.example.com/"]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://assist.example.com/sidebar?agent=bob#token=at1.")

    assert main(["access", "revoke", "alice"]) == 0
    gate.refresh()
    assert gate.authenticate(token) is None and not gate.still_valid(alice)

    old_qa = load_settings().role_token("qa")
    assert main(["access", "rotate", "qa", "--grace-minutes", "5"]) == 0
    new_qa = capsys.readouterr().out.strip().splitlines()[-1]
    gate.refresh()
    assert gate.authenticate(new_qa) is not None and gate.authenticate(old_qa) is not None  # grace
    assert main(["access", "rotate", "qa", "--grace-minutes", "0"]) == 0
    newest = capsys.readouterr().out.strip().splitlines()[-1]
    gate.refresh()
    assert gate.authenticate(newest) is not None
    assert gate.authenticate(new_qa) is None and gate.authenticate(old_qa) is None

    assert main(["access", "show"]) == 0
    shown = capsys.readouterr().out
    assert "qa: 1 key(s)" in shown and "agent alice" in shown and newest not in shown


def test_bad_agent_ids_are_refused(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["access", "token", "has space"]) == 2
    assert "agent id" in capsys.readouterr().err
    assert main(["access", "revoke", "a.b"]) == 2
