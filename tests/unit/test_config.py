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


def test_window_revisions_and_their_beam_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = Settings()
    assert defaults.stt_revise_windows == ("en", "zh") and defaults.stt_turn_beam_size == 5
    monkeypatch.setenv("ASSIST_STT_REVISE_WINDOWS", "[]")
    monkeypatch.setenv("ASSIST_STT_TURN_BEAM_SIZE", "1")
    settings = Settings()
    assert settings.stt_revise_windows == () and settings.stt_turn_beam_size == 1
