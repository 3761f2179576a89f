"""The start banner never prints a token: the sign-in links (tokens in the #fragment, which
browsers never send) go to a file only the server's user can read."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest

from assist.access.gate import AccessGate
from assist.access.policy import AccessPolicy, rotate_role, save_policy
from assist.access.tokens import token_digest
from assist.config import Settings
from tests.conftest import REPO_ROOT


def server_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("assist_server_script", REPO_ROOT / "server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_no_token_in_the_banner(tmp_path: Path, capsys: pytest.CaptureFixture[str], host: str) -> None:
    settings = Settings(secret_key="unit-test-secret-0123", data_dir=tmp_path)
    access = AccessGate(settings.secret_key, {r: settings.role_token(r) for r in ("supervisor", "qa")}, None)
    server_module().print_urls(settings, host, 8080, access)
    out = capsys.readouterr().out
    links = tmp_path / "links.txt"
    text = links.read_text()
    assert str(links) in out and stat.S_IMODE(links.stat().st_mode) == 0o600
    for role in ("supervisor", "qa"):
        assert settings.role_token(role) not in out and f"#token={settings.role_token(role)}" in text
    agent_token = text.split("sidebar?agent=demo-agent#token=")[1].split()[0]
    assert agent_token not in out
    principal = access.authenticate(agent_token)
    assert principal is not None and principal.is_agent("demo-agent")
    assert "?token=" not in text


def test_a_rotated_role_token_is_not_written_as_if_it_still_worked(tmp_path: Path) -> None:
    settings = Settings(secret_key="unit-test-secret-0123", data_dir=tmp_path)
    policy = AccessPolicy()
    rotate_role(policy, "qa", token_digest("new-qa"), [], now_s=0, grace_s=0)
    save_policy(settings.access_path, policy)
    access = AccessGate(
        settings.secret_key, {r: settings.role_token(r) for r in ("supervisor", "qa")}, settings.access_path
    )
    server_module().print_urls(settings, "127.0.0.1", 8080, access)
    text = (tmp_path / "links.txt").read_text()
    assert settings.role_token("qa") not in text and "assist access rotate" in text
    assert settings.role_token("supervisor") in text
