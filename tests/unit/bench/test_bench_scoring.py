"""Matching streamed finals to timed reference utterances: latency, lost, merged."""

from __future__ import annotations

import pytest

from assist.bench.scoring import RefSegment, score_utterances, wer
from assist.events import FinalTranscript, SttTimings

TIMINGS = SttTimings(0.0, 0.0, 0.0, 0.0, 1, 0.0)


def final(speaker: str, start_s: float, end_s: float, emitted_s: float, utterance: int = 1) -> FinalTranscript:
    return FinalTranscript(speaker, utterance, start_s, end_s, "words", emitted_s, TIMINGS, "en", 0.9)  # type: ignore[arg-type]


def test_each_utterance_gets_its_own_final() -> None:
    refs = [RefSegment("agent", 1.0, 3.0, "hello"), RefSegment("customer", 4.0, 6.0, "hi")]
    scores = score_utterances(refs, [final("agent", 1.0, 3.1, 3.4), final("customer", 4.0, 6.0, 6.5, 2)])
    assert [s.final_latency_s for s in scores] == pytest.approx([0.4, 0.5])
    assert not any(s.merged for s in scores)


def test_a_short_pause_merges_and_counts_from_the_first_utterances_own_end() -> None:
    # 0.15 s between the two sentences: one final holds both, emitted after the second.
    refs = [RefSegment("agent", 1.0, 3.0, "hello this is the bank"), RefSegment("agent", 3.15, 4.5, "how can i help")]
    scores = score_utterances(refs, [final("agent", 1.0, 4.5, 4.9)])
    assert scores[0].merged and not scores[1].merged
    assert scores[0].final_latency_s == pytest.approx(1.9)  # penalised, not hidden
    assert scores[1].final_latency_s == pytest.approx(0.4)


def test_an_utterance_no_final_covers_is_lost() -> None:
    refs = [RefSegment("customer", 1.0, 2.0, "yes")]
    (score,) = score_utterances(refs, [final("agent", 1.0, 2.0, 2.3)])
    assert score.final_latency_s is None and not score.merged


def test_chinese_is_scored_by_characters_after_script_and_number_normalisation() -> None:
    from assist.bench.scoring import error_unit, normalise

    assert normalise("我的帳單多收了一百二十元。") == "我 的 账 单 多 收 了 1 2 0 元"
    assert error_unit(["开通国际漫游", "hello"]) == "CER"
    assert error_unit(["hello there"]) == "WER"
    # One character misheard in eight (慢 for 漫): CER 1/8, whatever the punctuation, script or numerals.
    assert wer(["我想开通国际漫游。"], ["我想开通國際慢遊"]) == pytest.approx(1 / 8)
    assert wer(["上个月多扣了120元"], ["上个月多扣了一百二十元！"]) == 0.0


def test_digits_one_by_one_scores_which_digits_were_heard_not_how_they_were_grouped() -> None:
    reference = "my number is seven one five one three nine"
    grouped = "My number is 715 1 3 9."
    assert wer([reference], [grouped]) > 0.4  # Whisper's normaliser: 71513 against "715 one 3 9"
    assert wer([reference], [grouped], split_digits=True) == 0.0
    assert wer([reference], ["My number is 715 1 3 8."], split_digits=True) == 1 / 9  # one digit wrong: one error
    assert wer(["one hundred and twenty eight dollars"], ["$128"], split_digits=True) == 0.0
