"""The customer's tone per utterance: VADER for English, the lexicon for Chinese; and the
falling-tone sign it drives."""

from __future__ import annotations

from assist.qa.callview import call_view
from assist.retention.signs import falling_sentiment
from assist.retention.tone import LexiconTone, VaderTone, tone_for


def test_vader_reads_warmth_and_its_loss() -> None:
    vader = tone_for("en").model
    assert isinstance(vader, VaderTone)
    assert vader.polarity("Lovely, thank you so much, that's brilliant.") > 0.5
    assert vader.polarity("This is such a waste of time.") < 0
    assert tone_for("en") is tone_for("en")  # one model per process


def test_chinese_tone_comes_from_the_lexicon() -> None:
    tone = tone_for("zh").model
    assert isinstance(tone, LexiconTone)
    assert tone.polarity("太好了，谢谢！") > 0 > tone.polarity("太离谱了，浪费时间。")


def _call(customer: list[str]) -> list[dict]:
    events: list[dict] = [{"type": "call_started", "caller": {}, "language": "en"}]
    for n, text in enumerate(customer):
        events.append(
            {"type": "final", "speaker": "customer", "utterance_id": n, "start_s": 5.0 * n, "end_s": 5.0 * n + 2,
             "text": text, "emitted_s": 5.0 * n + 2.4}
        )  # fmt: skip
    return events


def test_a_warm_start_and_a_cold_end_is_a_falling_tone_with_the_coldest_words_as_evidence() -> None:
    falling = _call(
        [
            "Hi! Lovely to get through, I'm hoping you can help me with my broadband.",
            "Great, thanks, yes it's the one at home.",
            "I already did that yesterday.",
            "It still doesn't work. I'll believe it when I see it.",
        ]
    )
    sign = falling_sentiment(call_view(falling))
    assert sign is not None and sign.kind == "falling_sentiment"
    assert "still doesn't work" in sign.evidence[0]["text"]
    steady = _call(["Hi, my bill looks high.", "Yes, it's 4410.", "I see, that makes sense, thanks."])
    assert falling_sentiment(call_view(steady)) is None
