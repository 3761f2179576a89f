"""``assist call``: the URL the server prints works, problems are one line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from assist.cli import main
from assist.cli.call import describe, native_url
from tests.conftest import free_port


@pytest.mark.parametrize(
    ("server", "url"),
    [
        ("http://127.0.0.1:8080", "ws://127.0.0.1:8080/native"),
        ("http://127.0.0.1:8080/", "ws://127.0.0.1:8080/native"),
        ("https://assist.example.com/cc", "wss://assist.example.com/cc/native"),
        ("ws://h:1", "ws://h:1/native"),
    ],
)
def test_the_printed_url_is_accepted(server: str, url: str) -> None:
    assert native_url(server) == url


@pytest.mark.parametrize("server", ["127.0.0.1:8080", "ftp://x", "http://", ""])
def test_a_bad_url_is_named(server: str) -> None:
    with pytest.raises(ValueError, match="not a URL"):
        native_url(server)


def test_messages_read_as_lines() -> None:
    final = {"type": "final", "speaker": "customer", "start_s": 63.2, "text": "I lost my card"}
    assert describe(final) == "[1:03] customer: I lost my card"
    assert describe({"type": "suggestion", "title": "Replace a card", "pinned": True}) == "  answer: Replace a card"
    assert describe({"type": "interim", "text": "I lost"}) is None


def test_problems_are_one_line_and_a_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["call", str(tmp_path / "missing.wav")]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"error: no such audio file: {tmp_path / 'missing.wav'}"
    bogus = tmp_path / "bogus.wav"
    bogus.write_text("not audio")
    assert main(["call", str(bogus)]) == 2
    assert "cannot read audio file" in capsys.readouterr().err
    clip = tmp_path / "clip.wav"
    sf.write(clip, np.zeros((1600, 2), np.float32), 16000)
    assert main(["call", str(clip), "--server", "localhost:8080"]) == 2
    assert "not a URL" in capsys.readouterr().err
    assert main(["call", str(clip), "--server", f"http://127.0.0.1:{free_port()}"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach the server" in err and "Traceback" not in err
