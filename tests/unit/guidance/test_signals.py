"""SignalTracker: churn, escalation, dissatisfaction trend, hold, silence, talk-over (en, zh)."""

from __future__ import annotations

from typing import Any

import pytest

from assist.guidance.signals import (
    SignalOptions,
    SignalTracker,
    lexicon_score,
    utterance_dissatisfaction,
)


def kinds(alerts: list[dict[str, Any]]) -> list[str]:
    return [a["kind"] for a in alerts]


def only(alerts: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["kind"] == kind]


# -- churn and escalation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I want to cancel my account"),
        ("en", "I'm going to switch to another provider"),
        ("en", "Just close my account please"),
        ("zh", "我要携号转网"),
        ("zh", "我要销户"),
        ("en", "I'm moving my number to another network, so I need the code."),
        ("en", "Hey, I'm moving my number to another carrier."),
        ("en", "I want to cancel everything."),
        ("zh", "我准备换个运营商了。"),
    ],
)
def test_churn_words_raise_a_high_churn_alert(language: str, text: str) -> None:
    tracker = SignalTracker(language)
    alerts = tracker.on_final("customer", text, 10.0, 12.5)
    [churn] = only(alerts, "churn")
    assert churn["type"] == "signal"
    assert churn["severity"] == "high"
    assert churn["evidence"] == text
    assert churn["at_s"] == 12.5
    assert churn["title"]
    assert churn["message"].startswith("customer mentions: ")


@pytest.mark.parametrize(
    ("language", "text", "leaving"),
    [
        ("en", "I'm back from Japan and I'd like to cancel the Travel Pass on my account, please.", False),
        ("en", "Can you cancel the World Talk add-on?", False),
        ("en", "Cancel my travel pass and my whole account, I'm done.", True),
        ("en", "Cancel the data pack, I'm switching to another provider anyway.", True),
        ("zh", "我想把国际通话包取消掉。", False),
        ("zh", "我要取消宽带，携号转网。", True),
    ],
)
def test_cancelling_an_add_on_is_not_churn(language: str, text: str, leaving: bool) -> None:
    """ "Cancel" names an add-on as often as the account: only leaving raises the alert."""
    alerts = SignalTracker(language).on_final("customer", text, 10.0, 12.5)
    assert bool(only(alerts, "churn")) is leaving


def test_a_new_phone_is_not_leaving_and_someone_above_you_is_escalation() -> None:
    tracker = SignalTracker("en")
    assert not tracker.on_final("customer", "I just bought a new phone and want to move my number over to it.", 0, 2)
    assert kinds(tracker.on_final("customer", "Could I speak to someone above you, please?", 3, 5)) == ["escalation"]


def test_churn_message_names_the_words() -> None:
    [churn] = only(SignalTracker("en").on_final("customer", "I'll switch to another provider", 0, 2), "churn")
    assert "switch to another" in churn["message"]
    assert "another provider" in churn["message"]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "I would like to check my balance"),
        ("en", "I might leave early today"),  # 'leave' alone is too weak
        ("zh", "我想查一下余额"),
    ],
)
def test_ordinary_words_are_not_churn(language: str, text: str) -> None:
    assert SignalTracker(language).on_final("customer", text, 0, 2) == []


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "let me speak to your manager"),
        ("en", "I want to make a complaint"),
        ("zh", "我要投诉"),
        ("zh", "叫你们经理来"),
    ],
)
def test_escalation(language: str, text: str) -> None:
    alerts = SignalTracker(language).on_final("customer", text, 3.0, 4.0)
    [escalation] = only(alerts, "escalation")
    assert escalation["severity"] == "high"
    assert escalation["evidence"] == text
    assert "churn" not in kinds(alerts)


def test_churn_and_escalation_in_one_utterance() -> None:
    alerts = SignalTracker("en").on_final("customer", "Get me a manager or I cancel my account", 0, 3)
    assert set(kinds(alerts)) == {"churn", "escalation"}


def test_english_phrases_match_whole_words_only() -> None:
    assert lexicon_score("the managerial team", "escalation", "en") == (0.0, [])
    assert lexicon_score("my MANAGER", "escalation", "en") == (1.0, ["manager"])


# -- dissatisfaction -------------------------------------------------------------------------------


def test_utterance_dissatisfaction_scores() -> None:
    assert utterance_dissatisfaction("I would like to check my balance", "en") == 0.0
    assert utterance_dissatisfaction("thank you so much", "en") == 0.0
    assert utterance_dissatisfaction("this is a bit annoying", "en") == pytest.approx(0.7)
    assert utterance_dissatisfaction("this is ridiculous and unacceptable!", "en") == 1.0
    assert utterance_dissatisfaction("我真的很生气，太差了！", "zh") == 1.0
    # thanks soften a complaint
    assert utterance_dissatisfaction("annoying, but thanks", "en") < utterance_dissatisfaction("annoying", "en")


def test_rising_anger_gives_one_dissatisfaction_alert_with_trend() -> None:
    tracker = SignalTracker("en")
    utterances = [
        "this is a bit annoying",  # 0.7 → level 0.35, below the alert line
        "I am really frustrated, this is terrible",  # 1.0 → level 0.675, rising → alert
        "this is ridiculous and unacceptable!",  # 1.0 → 0.8375, still rising but in cooldown
    ]
    alerts = []
    for i, text in enumerate(utterances):
        alerts += tracker.on_final("customer", text, i * 5.0, i * 5.0 + 3)
    dissatisfaction = only(alerts, "dissatisfaction")
    assert len(dissatisfaction) == 1
    alert = dissatisfaction[0]
    assert alert["evidence"] == utterances[1]
    assert alert["severity"] == "warning"
    assert alert["trend"] == [0.35, 0.675]
    assert alert["message"].startswith("customer sentiment 0.68")
    assert tracker.history == [0.35, 0.675, 0.838]
    assert tracker.level == pytest.approx(0.8375)


def test_dissatisfaction_high_after_cooldown_while_still_rising() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "this is a bit annoying", 0, 2)
    first = only(
        tracker.on_final("customer", "I am really frustrated, this is terrible", 5, 8),
        "dissatisfaction",
    )
    assert len(first) == 1
    later = only(
        tracker.on_final("customer", "this is ridiculous and unacceptable!", 60, 63),
        "dissatisfaction",
    )
    assert len(later) == 1
    assert later[0]["severity"] == "high"
    assert later[0]["trend"] == tracker.history[-5:]


def test_no_alert_when_the_level_is_high_but_falling() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "this is ridiculous and unacceptable!", 0, 2)  # 0.5 → alert
    # long after the cooldown, a calm utterance: level 0.25, falling
    assert tracker.on_final("customer", "ok I see, fine", 100, 102) == []
    options = SignalOptions(dissatisfaction_alert=0.2)
    tracker = SignalTracker("en", options)
    tracker.on_final("customer", "this is ridiculous", 0, 2)
    assert only(tracker.on_final("customer", "I see", 100, 101), "dissatisfaction") == []


def test_neutral_utterances_raise_nothing() -> None:
    tracker = SignalTracker("en")
    for i, text in enumerate(
        [
            "Hi, I'd like to check my balance",
            "It's the checking account",
            "Thanks, that's great",
            "That's all, have a nice day",
        ]
    ):
        assert tracker.on_final("customer", text, i * 5.0, i * 5.0 + 2) == []
    assert tracker.level == 0.0


def test_chinese_dissatisfaction_trend() -> None:
    tracker = SignalTracker("zh")
    alerts = []
    for i, text in enumerate(["这也太慢了", "我真的很生气，太差了！", "说了多少遍了，气死我了！"]):
        alerts += tracker.on_final("customer", text, i * 4.0, i * 4.0 + 3)
    [alert] = only(alerts, "dissatisfaction")
    assert alert["evidence"] == "我真的很生气，太差了！"
    assert alert["trend"] == tracker.history[:2]


# -- cooldown ------------------------------------------------------------------------------------


def test_cooldown_limits_repeated_alerts_of_one_kind() -> None:
    options = SignalOptions(cooldown_s=45.0)
    tracker = SignalTracker("en", options)
    assert kinds(tracker.on_final("customer", "I want to cancel my account", 0, 2)) == ["churn"]
    assert tracker.on_final("customer", "seriously, cancel my account", 10, 12) == []
    assert tracker.on_final("customer", "cancel my account now", 40, 46.9) == []
    # another kind is not held back by churn's cooldown
    assert kinds(tracker.on_final("customer", "get me your supervisor", 44, 46)) == ["escalation"]
    # once the cooldown has passed, the same kind may alert again
    assert kinds(tracker.on_final("customer", "just cancel my account", 45, 47)) == ["churn"]


# -- hold and silence ----------------------------------------------------------------------------


def test_agent_hold_then_long_wait_raises_a_hold_alert() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "can you check my transfer", 0, 3)
    assert tracker.on_final("agent", "Sure, please hold while I check", 4, 6) == []
    assert tracker.hold_since_s == 6
    assert tracker.tick(30) == []  # on hold, so no silence alert yet
    assert tracker.tick(65.9) == []
    [hold] = tracker.tick(66)
    assert hold["kind"] == "hold"
    assert hold["severity"] == "warning"
    assert hold["evidence"] is None
    assert hold["at_s"] == 66
    assert tracker.tick(70) == []  # once


def test_chinese_hold_phrase() -> None:
    tracker = SignalTracker("zh")
    tracker.on_final("agent", "请稍等，我帮您查一下", 0, 2)
    assert kinds(tracker.tick(62)) == ["hold"]


def test_customer_speaking_ends_the_hold() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("agent", "please hold", 0, 2)
    tracker.on_final("customer", "okay", 3, 4)
    assert tracker.hold_since_s is None
    assert kinds(tracker.tick(62)) == ["silence"]  # plain silence now, not a hold


def test_weak_hold_words_do_not_start_a_hold() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("agent", "let me check that", 0, 2)  # 0.6 < 0.8
    assert tracker.hold_since_s is None


def test_long_silence_alerts_once_until_activity() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "hello", 0, 5)
    assert tracker.tick(24.9) == []
    [silence] = tracker.tick(25)
    assert silence["kind"] == "silence"
    assert silence["severity"] == "warning"
    assert silence["evidence"] is None
    assert "20 s" in silence["message"]
    assert tracker.tick(30) == []
    assert tracker.tick(200) == []  # not repeated while still silent
    tracker.on_activity(210)  # someone speaks (an interim)
    assert tracker.tick(229) == []
    assert kinds(tracker.tick(230)) == ["silence"]


def test_a_final_resets_the_silence_clock() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "hello", 0, 5)
    tracker.on_final("agent", "how can I help", 15, 18)
    assert tracker.tick(37) == []
    assert kinds(tracker.tick(38)) == ["silence"]


def test_silence_within_cooldown_is_reported_once_the_cooldown_ends() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "hello", 0, 5)
    assert kinds(tracker.tick(25)) == ["silence"]
    tracker.on_activity(30)
    assert tracker.tick(50) == []  # 20 s quiet, but within the 45 s cooldown of the first alert
    later = [alert for now in range(51, 201) for alert in tracker.tick(float(now))]
    assert kinds(later) == ["silence"]


# -- talk-over -------------------------------------------------------------------------------------


def test_talk_over_when_finals_overlap_long_enough() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "I have been trying to explain", 0.0, 5.0)
    alerts = tracker.on_final("agent", "let me stop you there", 3.0, 6.0)  # 2.0 s overlap
    [talk] = only(alerts, "talk_over")
    assert talk["severity"] == "info"
    assert talk["evidence"] == "let me stop you there"
    assert "2.0 s" in talk["message"]


def test_short_overlap_is_not_talk_over() -> None:
    tracker = SignalTracker("en")
    tracker.on_final("customer", "I have a question", 0.0, 5.0)
    assert tracker.on_final("agent", "yes", 4.0, 6.0) == []  # 1.0 s
    assert tracker.on_final("agent", "go ahead", 6.0, 7.0) == []  # none


def test_talk_over_exactly_at_the_limit() -> None:
    tracker = SignalTracker("en", SignalOptions(talk_over_s=1.5))
    tracker.on_final("agent", "so what we can do is", 0.0, 4.0)
    assert kinds(tracker.on_final("customer", "wait wait", 2.5, 4.5)) == ["talk_over"]


# -- the agent's words -----------------------------------------------------------------------------


def test_agent_utterances_never_raise_churn_or_dissatisfaction() -> None:
    tracker = SignalTracker("en")
    for i, text in enumerate(
        [
            "I understand you want to cancel my colleague's offer and switch to another provider",
            "I'm sorry this is so frustrating, it's unacceptable and ridiculous!",
            "I can transfer you to a manager",
        ]
    ):
        alerts = tracker.on_final("agent", text, i * 10.0, i * 10.0 + 2)
        assert not {"churn", "dissatisfaction", "escalation"} & set(kinds(alerts))
    assert tracker.level == 0.0
    assert tracker.history == []


def test_agent_chinese_words_are_not_churn() -> None:
    tracker = SignalTracker("zh")
    assert tracker.on_final("agent", "您是要销户还是携号转网？", 0, 2) == []
