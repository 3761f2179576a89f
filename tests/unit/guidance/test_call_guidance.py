"""CallGuidance end to end on a tiny knowledge base, fake encoders, the real bank offers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assist.guidance.engine import CallGuidance
from assist.guidance.offers import load_offers
from assist.guidance.profiles import CustomerDirectory, CustomerProfile
from assist.knowledge.corpus import Article, KnowledgeBase
from assist.knowledge.index import build_index
from assist.knowledge.search import Matcher
from tests.fakes import FakeEncoders

REPO_ROOT = Path(__file__).resolve().parents[3]
BANK = REPO_ROOT / "kb" / "bank"


def make_article(id_: str, intent: str, title: str, phrasings: list[str], language: str = "en") -> Article:
    return Article(
        id=id_,
        title=title,
        answer=f"How to {intent}.",
        intent=intent,
        tags=(intent,),
        language=language,
        phrasings=tuple(phrasings),
        source=None,
        related=(),
        body="",
        path=f"articles/{id_}.md",
    )


KB = KnowledgeBase(
    "tiny",
    "",
    ("en", "zh"),
    "en",
    (
        make_article(
            "replace-card",
            "replace card",
            "Replace a lost card",
            [
                "i lost my debit card can you send me a new one",
                "my card was stolen",
                "i need a new card",
            ],
        ),
        make_article(
            "check-balance",
            "check balance",
            "Check balance",
            ["what is my account balance", "how much money do i have"],
        ),
        make_article(
            "close-account",
            "close account",
            "Close an account",
            ["i want to close my account", "how do i shut down my checking account"],
        ),
        make_article(
            "pay-bill",
            "pay bill",
            "Pay a bill",
            ["pay my electricity bill", "i want to pay a bill"],
        ),
        make_article("zh-replace-card", "replace card", "补办银行卡", ["我的卡丢了", "补办银行卡"], "zh"),
        make_article(
            "zh-check-balance",
            "check balance",
            "查询余额",
            ["查询余额", "我的账户还有多少钱"],
            "zh",
        ),
    ),
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    encoders = FakeEncoders()
    return Matcher(build_index(KB, encoders, None), encoders)


@pytest.fixture(scope="module")
def gold() -> CustomerProfile:
    profile = CustomerDirectory.from_csv(BANK / "customers.csv").lookup("+12025550143")
    assert profile is not None
    assert profile.segment == "gold"
    assert profile.tenure_years >= 3
    return profile


@pytest.fixture
def call(matcher: Matcher, gold: CustomerProfile) -> CallGuidance:
    return CallGuidance(matcher, load_offers(BANK / "offers.yaml"), gold, "en")


_ids = iter(range(1, 10_000))


def guide(call: CallGuidance, message: dict[str, Any]) -> list[dict[str, Any]]:
    """What guidance says, without the mood updates (tested on their own below)."""
    return [m for m in call.on_transcript(message) if m["type"] != "mood"]


def final(speaker: str, text: str, start_s: float, end_s: float) -> dict[str, Any]:
    return {
        "type": "final",
        "speaker": speaker,
        "text": text,
        "start_s": start_s,
        "end_s": end_s,
        "utterance_id": next(_ids),
    }


def interim(speaker: str, text: str, end_s: float, utterance_id: int = 9999) -> dict[str, Any]:
    return {
        "type": "interim",
        "speaker": speaker,
        "text": text,
        "start_s": end_s - 1,
        "end_s": end_s,
        "utterance_id": utterance_id,
    }


def types(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["type"], m.get("card_id") or m.get("kind")) for m in messages]


# -- the fake matcher itself -----------------------------------------------------------------------


def test_the_tiny_matcher_is_confident_on_its_phrasings(matcher: Matcher) -> None:
    hits = matcher.match("I lost my debit card, can you send me a new one?")
    assert hits and hits[0].article.id == "replace-card"
    assert matcher.match("um okay") == []


# -- suggestions and offers --------------------------------------------------------------------


def test_card_question_gives_a_suggestion_then_its_offer(call: CallGuidance) -> None:
    message = final("customer", "I lost my debit card, can you send me a new one?", 2.0, 5.0)
    out = guide(call, message)
    assert types(out) == [
        ("suggestion", "kb:replace-card"),
        ("offer", "offer:premium-card-upgrade"),
    ]
    suggestion, offer = out
    assert suggestion["title"] == "Replace a lost card"
    assert suggestion["intent"] == "replace card"
    assert suggestion["confidence"] >= 0.55
    assert suggestion["trigger"]["utterance_id"] == message["utterance_id"]
    assert suggestion["trigger"]["final"] is True
    assert offer["trigger"] == "replace card"
    assert offer["reason"].startswith("customer asked: Replace a lost card · eligible: gold customer")
    # neither is repeated when the customer says it again
    assert guide(call, final("customer", "I lost my debit card, send me a new one", 8.0, 10.0)) == []


def test_churn_gives_a_churn_signal_and_the_retention_offer(call: CallGuidance) -> None:
    text = "This is it, I want to cancel my account and take my business elsewhere"
    out = guide(call, final("customer", text, 1.0, 4.0))
    kinds = types(out)
    assert ("signal", "churn") in kinds
    assert ("offer", "offer:retention-fee-waiver") in kinds
    churn_at = kinds.index(("signal", "churn"))
    assert kinds.index(("offer", "offer:retention-fee-waiver")) == churn_at + 1
    churn = out[churn_at]
    assert churn["severity"] == "high"
    assert churn["evidence"] == text
    offer = out[churn_at + 1]
    assert offer["trigger"] == "churn"
    assert offer["reason"].startswith("Churn risk · ")
    assert kinds.count(("offer", "offer:retention-fee-waiver")) == 1
    # later churn words bring no second retention offer
    later = guide(call, final("customer", "I said close my account", 80.0, 82.0))
    assert ("offer", "offer:retention-fee-waiver") not in types(later)


def test_dissatisfaction_unlocks_the_goodwill_offer(call: CallGuidance) -> None:
    out: list[dict[str, Any]] = []
    for i, text in enumerate(["this is a bit annoying", "I am really frustrated, this is terrible"]):
        out += guide(call, final("customer", text, i * 5.0, i * 5.0 + 3))
    kinds = types(out)
    assert ("signal", "dissatisfaction") in kinds
    assert kinds[kinds.index(("signal", "dissatisfaction")) + 1] == (
        "offer",
        "offer:goodwill-credit",
    )


def test_escalation_alone_unlocks_no_offer(call: CallGuidance) -> None:
    out = guide(call, final("customer", "let me speak to your supervisor", 1.0, 3.0))
    assert types(out) == [("signal", "escalation")]


def test_agent_finals_give_no_suggestions(call: CallGuidance) -> None:
    out = guide(call, final("agent", "I lost my debit card, can you send me a new one?", 1.0, 4.0))
    assert [m for m in out if m["type"] in ("suggestion", "offer")] == []
    assert call.suggestions.on_screen == []
    # the customer's own question still gets its card afterwards
    later = guide(call, final("customer", "I lost my debit card, can you send me a new one?", 5.0, 8.0))
    assert ("suggestion", "kb:replace-card") in types(later)


def test_agent_hold_and_silence_ticks(call: CallGuidance) -> None:
    guide(call, final("agent", "please hold while I check that", 1.0, 3.0))
    assert call.tick(30.0) == []
    assert types(call.tick(63.0)) == [("signal", "hold")]


# -- interims --------------------------------------------------------------------------------------


def test_interims_update_activity(call: CallGuidance) -> None:
    guide(call, final("customer", "hello", 0.0, 1.0))
    assert guide(call, interim("agent", "let me see what", 15.0)) == []
    assert call.signals.last_activity_s == 15.0
    assert call.tick(30.0) == []  # 15 s since the interim: not silent
    guide(call, interim("customer", "yes", 28.0))
    assert call.signals.last_activity_s == 28.0
    assert call.tick(47.0) == []
    assert types(call.tick(48.0)) == [("signal", "silence")]


def test_confident_customer_interim_gives_a_card_and_offer(call: CallGuidance) -> None:
    out = guide(call, interim("customer", "i lost my debit card can you send me a new one", 3.0, 42))
    assert types(out) == [
        ("suggestion", "kb:replace-card"),
        ("offer", "offer:premium-card-upgrade"),
    ]
    assert out[0]["trigger"] == {
        "text": "i lost my debit card can you send me a new one",
        "utterance_id": 42,
        "final": False,
    }
    # the final of that utterance repeats nothing
    assert guide(call, final("customer", "i lost my debit card can you send me a new one", 1.0, 4.0)) == []


def test_agent_interims_give_nothing(call: CallGuidance) -> None:
    assert guide(call, interim("agent", "i lost my debit card can you send me a new one", 3.0)) == []


@pytest.mark.parametrize(
    "message",
    [
        {
            "type": "final",
            "speaker": "customer",
            "text": "",
            "start_s": 0,
            "end_s": 1,
            "utterance_id": 1,
        },
        {"type": "final", "speaker": "customer", "start_s": 0, "end_s": 1, "utterance_id": 1},
        {"type": "status", "speaker": "customer", "text": "I lost my card", "end_s": 1},
    ],
)
def test_other_messages_are_ignored(call: CallGuidance, message: dict[str, Any]) -> None:
    assert guide(call, message) == []


# -- feedback, profile, language -------------------------------------------------------------------


def test_dismissed_card_feedback_reaches_the_suggestion_policy(call: CallGuidance) -> None:
    guide(call, final("customer", "I lost my debit card, can you send me a new one?", 1.0, 4.0))
    assert call.suggestions.on_screen == ["replace-card"]
    call.on_feedback("offer:premium-card-upgrade", "dismissed", 5.0)  # not a knowledge card
    assert call.suggestions.on_screen == ["replace-card"]
    call.on_feedback("kb:replace-card", "dismissed", 5.0)
    assert call.suggestions.on_screen == []
    assert call.suggestions.away_until["replace-card"] > 5.0


def test_unknown_caller_gets_suggestions_but_no_offers(matcher: Matcher) -> None:
    call = CallGuidance(matcher, load_offers(BANK / "offers.yaml"), None, "en")
    out = guide(call, final("customer", "I lost my debit card, can you send me a new one?", 1.0, 4.0))
    assert types(out) == [("suggestion", "kb:replace-card")]
    churn = guide(call, final("customer", "I want to cancel my account", 10.0, 12.0))
    assert not [m for m in churn if m["type"] == "offer"]


def test_standard_customer_gets_no_gold_offers(matcher: Matcher) -> None:
    standard = CustomerProfile(phone="+12025550178", segment="standard", tenure_years=1)
    call = CallGuidance(matcher, load_offers(BANK / "offers.yaml"), standard, "en")
    out = guide(call, final("customer", "I lost my debit card, can you send me a new one?", 1.0, 4.0))
    assert types(out) == [("suggestion", "kb:replace-card")]


def test_chinese_call_uses_chinese_articles_and_signals(matcher: Matcher, gold: CustomerProfile) -> None:
    call = CallGuidance(matcher, load_offers(BANK / "offers.yaml"), gold, "zh")
    out = guide(call, final("customer", "我的卡丢了", 1.0, 3.0))
    assert types(out) == [("suggestion", "kb:zh-replace-card")]  # the bank's offers are English only
    churn = guide(call, final("customer", "我要销户", 5.0, 6.0))
    assert ("signal", "churn") in types(churn)
    assert not [m for m in churn if m["type"] == "offer"]


def test_call_uses_the_matcher_threshold(matcher: Matcher, gold: CustomerProfile) -> None:
    call = CallGuidance(matcher, [], gold, "en")
    assert call.suggestions.options.threshold == matcher.options.threshold


def moods(call: CallGuidance, message: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in call.on_transcript(message) if m["type"] == "mood"]


def test_mood_tells_the_topic_and_the_trend_when_they_change(call: CallGuidance) -> None:
    topic = moods(call, final("customer", "I lost my debit card, can you send me a new one?", 2.0, 5.0))
    assert topic and topic[0]["intent"] == "replace card" and topic[0]["label"] == "calm"
    worse: list[dict[str, Any]] = []
    for i, text in enumerate(["this is ridiculous", "I am really angry, this is terrible!", "absolutely unacceptable"]):
        worse += moods(call, final("customer", text, 10.0 + 3 * i, 12.0 + 3 * i))
    assert worse and worse[-1]["label"] in ("uneasy", "upset") and worse[-1]["direction"] >= 0
    assert any(m["direction"] == 1 for m in worse) and worse[-1]["trend"] == sorted(worse[-1]["trend"])
    assert moods(call, final("agent", "I am sorry to hear that", 20.0, 21.0)) == []  # the customer's mood only
    same = worse[-1]
    again = moods(call, final("customer", "absolutely unacceptable", 22.0, 23.0))
    assert not again or (again[0]["label"], again[0]["level"]) != (same["label"], same["level"]), "only changes"
