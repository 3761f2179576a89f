"""The start banner: links with tokens on a loopback demo; elsewhere the tokens go to a file
only the server's user can read, never to stdout (which ends up in shared logs)."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest

from assist.config import Settings
from tests.conftest import REPO_ROOT


def server_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("assist_server_script", REPO_ROOT / "server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_loopback_demo_prints_links_with_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(secret_key="k", data_dir=tmp_path)
    server_module().print_urls(settings, "127.0.0.1", 8080)
    assert settings.role_token("supervisor") in capsys.readouterr().out
    assert not (tmp_path / "links.txt").exists()


def test_a_reachable_server_prints_no_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(secret_key="k", data_dir=tmp_path)
    server_module().print_urls(settings, "0.0.0.0", 8080)
    out = capsys.readouterr().out
    tokens = [settings.role_token("supervisor"), settings.role_token("qa"), settings.agent_token("demo-agent")]
    assert not any(token in out for token in tokens)
    links = tmp_path / "links.txt"
    assert str(links) in out and all(token in links.read_text() for token in tokens)
    assert stat.S_IMODE(links.stat().st_mode) == 0o600
