"""Settings from the environment: the speech core's turn revisions."""

from __future__ import annotations

import pytest

from assist.config import Settings


def test_turn_revision_languages_come_from_json_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert defaults.stt_revise_turns == ("zh",) and defaults.stt_revise_long_turns == ("en",)
    monkeypatch.setenv("ASSIST_STT_REVISE_TURNS", '["zh", "en"]')
    monkeypatch.setenv("ASSIST_STT_REVISE_LONG_TURNS", "[]")
    settings = Settings()
    assert settings.stt_revise_turns == ("zh", "en") and settings.stt_revise_long_turns == ()
