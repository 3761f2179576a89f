"""Post-call summary and transfer note (en, zh, live calls)."""

from __future__ import annotations

import json

from assist.qa.summary import summarize, transfer_note
from tests.unit.qa.calls import CallBuilder, bad_call, chinese_call, good_call, live_call


def test_good_call_summary() -> None:
    summary = summarize(good_call())
    assert summary.reasons == [
        {"intent": "replace card", "title": "Replace a lost, stolen or damaged card"},
        {"intent": "report fraud", "title": "Report fraud on your account"},
    ]
    assert summary.caller == "Patricia Brown (gold, 12 years, Premier Checking)"
    assert summary.cards_used == [{"card_id": "kb:replace-card", "title": "Replace a lost, stolen or damaged card"}]
    assert [a["text"] for a in summary.actions] == [
        "Okay. I've blocked your card and I'll raise a dispute for both of those transactions."
    ]
    assert summary.offers == [
        {
            "offer_id": "premium-card-upgrade",
            "card_id": "offer:premium-card-upgrade",
            "title": "Premium card upgrade",
            "made": True,
            "accepted": True,
            "declined": False,
        }
    ]
    assert summary.signals == ["dissatisfaction"]
    assert summary.outcome == "resolved"
    assert [f["text"] for f in summary.follow_ups] == ["Great. You'll receive the new card within 5 working days."]
    assert summary.verified is True
    assert summary.live is False
    assert summary.mood == "was unhappy, calmer now"
    assert summary.text.startswith("Patricia Brown (gold, 12 years, Premier Checking) called about Replace a lost")
    assert "Outcome: resolved." in summary.text


def test_summary_dict_is_json_ready() -> None:
    data = summarize(good_call()).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {
        "call_id",
        "agent_id",
        "language",
        "live",
        "duration_s",
        "caller",
        "reasons",
        "request",
        "cards_used",
        "actions",
        "offers",
        "signals",
        "outcome",
        "follow_ups",
        "verified",
        "mood",
        "text",
    }


def test_used_cards_rank_first_among_reasons() -> None:
    events = (
        CallBuilder()
        .customer("I can't log in and I think I need a new password.")
        .suggestion("app-not-working", "app not working", "The app is not working", 0.7)
        .suggestion("reset-password", "reset password", "Reset your password", 0.6)
        .feedback("kb:reset-password", "used")
        .feedback("kb:app-not-working", "dismissed")
        .events
    )
    assert [r["intent"] for r in summarize(events).reasons] == ["reset password", "app not working"]


def test_bad_call_is_escalated_and_the_offer_was_not_made() -> None:
    summary = summarize(bad_call())
    assert summary.outcome == "escalated"
    assert summary.offers[0]["made"] is False
    assert summary.actions == []
    assert summary.mood == "very unhappy (asked to escalate)"


def test_offer_declined() -> None:
    events = (
        CallBuilder()
        .agent("Hello")
        .customer("I lost my card.")
        .offer("premium-card-upgrade", "Premium card upgrade", "replace card")
        .agent("Would you like a premium card upgrade while we're at it?")
        .customer("No thanks, just the replacement.")
        .end()
    )
    [offer] = summarize(events).offers
    assert (offer["made"], offer["accepted"], offer["declined"]) == (True, False, True)


def test_offer_accepted_by_feedback() -> None:
    events = (
        CallBuilder()
        .customer("I lost my card.")
        .offer("premium-card-upgrade", "Premium card upgrade", "replace card")
        .feedback("offer:premium-card-upgrade", "accepted")
        .end()
    )
    [offer] = summarize(events).offers
    assert (offer["made"], offer["accepted"]) == (True, True)


def test_chinese_call_summary() -> None:
    summary = summarize(chinese_call())
    assert summary.language == "zh"
    assert summary.reasons == [{"intent": "double charge", "title": "重复扣费"}]
    assert len(summary.actions) == 1 and "提交退款" in summary.actions[0]["text"]
    assert summary.offers[0]["accepted"] is True
    assert summary.outcome == "resolved"
    assert summary.follow_ups and "工作日" in summary.follow_ups[0]["text"]
    assert summary.verified is True
    assert summary.mood == "was very unhappy, calmer now"


def test_short_call_without_agent_speech_is_abandoned() -> None:
    events = CallBuilder().customer("Hello? Is anyone there?").end("caller_hangup")
    summary = summarize(events)
    assert summary.outcome == "abandoned"
    assert summary.reasons == []
    assert summary.text.startswith("The customer called about an unidentified reason.")
    assert summarize(CallBuilder().end()).outcome == "abandoned"


def test_a_call_with_no_resolution_words_is_unresolved() -> None:
    events = (
        CallBuilder()
        .agent("Hello, how can I help?")
        .customer("Why is my bill higher this month than last month?")
        .agent("Let me check. It looks like your promotion ended.")
        .end()
    )
    assert summarize(events).outcome == "unresolved"


def test_transfer_note_for_a_live_call() -> None:
    events = live_call()
    summary = summarize(events)
    assert summary.live is True
    assert summary.outcome == "escalated"
    assert summary.signals == ["dissatisfaction", "churn"]
    note = transfer_note(events)
    assert note.startswith("Caller: Sarah Thompson (vip, 9 years, Unlimited Max + Fiber 900). Reason: broadband outage")
    assert "cancel service" in note
    assert "My internet has been down since Monday" in note
    assert "Already done: “Thank you. I've logged a fault ticket for your line.”" in note
    assert "Verified: yes." in note
    assert "Offers: Loyalty discount to stay (made, no answer yet)." in note
    assert "Mood: very unhappy (mentioned leaving)." in note
    assert "call you back within 24 hours" in note


def test_transfer_note_early_in_a_call() -> None:
    events = CallBuilder().agent("Hello, how can I help?").customer("Hi, it's about my bill.").events
    note = transfer_note(events)
    assert note == (
        "Caller: unknown. Reason: not identified yet; customer said “Hi, it's about my bill.”. "
        "Already done: nothing yet. Verified: no. Offers: none. Mood: calm."
    )
    assert transfer_note([]).startswith("Caller: unknown. Reason: not identified yet.")
