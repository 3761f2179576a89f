"""The after-call risk score: loud and quiet signs with their evidence, weights from YAML, and
the customer's value that ranks the worklist."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from assist.errors import ConfigError
from assist.qa.callview import call_view
from assist.qa.summary import summarize
from assist.retention.score import assess, customer_value, load_weights
from assist.retention.signs import CallFacts, EarlierCall

DAY = 86400.0
NOW = 1_800_000_000.0
VIP = {"name": "Sarah Thompson", "segment": "vip", "tenure_years": 9, "monthly_spend": 145}
STANDARD = {"name": "Emily Carter", "segment": "standard", "tenure_years": 0.3, "monthly_spend": 25}


def call(turns: list[tuple[str, str, float]], *, caller: dict[str, Any] | None = None, signals=(), language="en"):
    """Events of a finished call: (speaker, text, start_s) turns, each 2 s long."""
    events: list[dict[str, Any]] = [{"type": "call_started", "caller": caller or {}, "language": language}]
    ids = {"customer": 0, "agent": 0}
    for speaker, text, start_s in turns:
        events.append(
            {"type": "final", "speaker": speaker, "utterance_id": ids[speaker], "start_s": start_s,
             "end_s": start_s + 2.0, "text": text, "emitted_s": start_s + 2.4}
        )  # fmt: skip
        ids[speaker] += 1
    events += [{"type": "signal", **s} for s in signals]
    last = max(t[2] for t in turns) + 3.0
    events.append({"type": "call_ended", "reason": "completed", "emitted_s": last})
    return events


def facts(events, *, earlier=(), intents=("billing dispute",), profile=None) -> CallFacts:
    return CallFacts(
        call_view(events), summarize(events).to_dict(), NOW, intents, earlier, profile or events[0]["caller"]
    )


WEIGHTS = load_weights()
LEAVING = "I want to cancel my account, I'm switching to another provider."
COMPLAINT = "This is ridiculous, you charged me twice this month."


def kinds(risk) -> list[str]:
    return [s.kind for s in risk.signs]


def test_a_customer_who_talks_of_leaving_is_at_risk_with_the_words_as_evidence() -> None:
    events = call(
        [
            ("agent", "Thanks for calling Lumen Mobile, how can I help?", 0.0),
            ("customer", LEAVING, 3.0),
            ("agent", "I'm sorry to hear that. Let me look at your account.", 6.0),
            ("customer", "No, just close it.", 9.0),
        ],
        signals=[{"kind": "churn", "at_s": 5.0, "evidence": LEAVING}],
    )
    risk = assess(facts(events), WEIGHTS)
    assert risk.at_risk and "churn_words" in kinds(risk)
    churn = next(s for s in risk.signs if s.kind == "churn_words")
    assert "switching" in churn.evidence[0]["text"]


def test_a_complaint_that_was_resolved_is_not_at_risk() -> None:
    events = call(
        [
            ("agent", "Good morning, how can I help?", 0.0),
            ("customer", COMPLAINT, 3.0),
            ("agent", "I'm sorry. I have refunded the second charge, it's all sorted.", 6.0),
            ("customer", "Great, thank you so much, that's perfect.", 9.0),
            ("agent", "Is there anything else I can help you with?", 12.0),
            ("customer", "No, that's all, thanks.", 15.0),
        ],
        signals=[{"kind": "dissatisfaction", "at_s": 5.0, "evidence": COMPLAINT}],
    )
    risk = assess(facts(events), WEIGHTS)
    assert not risk.at_risk, risk


def test_a_silent_unhappy_customer_is_found_without_a_single_complaint_word() -> None:
    """Curt answers, long pauses, "fine, whatever" at the end of a call that solved nothing."""
    events = call(
        [
            ("agent", "Hello, how can I help you today?", 0.0),
            ("customer", "My internet keeps dropping every evening since last week and I work from home.", 3.0),
            ("agent", "Have you tried restarting the router?", 7.0),
            ("customer", "Yes.", 15.0),
            ("agent", "And the cables are all plugged in properly?", 18.0),
            ("customer", "Yes.", 26.0),
            ("agent", "I can't see a fault on the line from here.", 29.0),
            ("customer", "Okay.", 37.0),
            ("agent", "You could try again tomorrow and call us back.", 40.0),
            ("customer", "Fine, whatever.", 48.0),
        ]
    )
    risk = assess(facts(events, intents=("slow broadband",)), WEIGHTS)
    assert risk.at_risk, risk
    assert {"curt_answers", "long_silences", "agreed_without_accepting", "unresolved"} <= set(kinds(risk))
    assert "churn_words" not in kinds(risk) and "dissatisfaction" not in kinds(risk)


def test_a_call_back_on_the_same_topic_is_a_repeat_with_the_earlier_call_as_evidence() -> None:
    events = call([("agent", "Hello.", 0.0), ("customer", "I'm calling about my bill again.", 3.0)])
    earlier = [EarlierCall("c-1", NOW - 3 * DAY, ("billing dispute",), "unresolved", "bill questioned")]
    risk = assess(facts(events, earlier=earlier), WEIGHTS)
    repeat = next(s for s in risk.signs if s.kind == "repeat_call")
    assert repeat.evidence[0]["call_id"] == "c-1" and "2 times" in repeat.note
    long_ago = [EarlierCall("c-0", NOW - 60 * DAY, ("billing dispute",))]
    assert "repeat_call" not in kinds(assess(facts(events, earlier=long_ago), WEIGHTS))


def test_a_customer_who_says_they_called_before_is_a_repeat_without_an_earlier_call_in_the_log() -> None:
    events = call(
        [
            ("agent", "Hello, how can I help?", 0.0),
            ("customer", "I called about this last week and it's still slow.", 3.0),
            ("agent", "Let me look.", 7.0),
        ]
    )
    repeat = next(s for s in assess(facts(events), WEIGHTS).signs if s.kind == "repeat_call")
    assert "last week" in repeat.evidence[0]["text"] and "said they had called" in repeat.note


def test_a_polite_customer_left_without_a_fix_is_at_risk() -> None:
    """No complaint, no curt answers, a "thanks" at the end: the problem stays, and the agent said so."""
    events = call(
        [
            ("agent", "Thanks for calling Lumen Mobile, how can I help?", 0.0),
            ("customer", "I'm abroad and my phone has had no data at all since I landed.", 3.0),
            ("agent", "Roaming is on for your line. Could you restart the phone?", 7.0),
            ("customer", "I've done that twice already this morning.", 10.0),
            ("agent", "I'm afraid I can't fix it from here. I'll raise a ticket, they reply within 48 hours.", 13.0),
            ("customer", "Okay. Thanks.", 17.0),
        ]
    )
    risk = assess(facts(events, profile=VIP), WEIGHTS)
    assert risk.at_risk, risk
    assert {"unresolved", "could_not_fix"} <= set(kinds(risk))


def test_a_complaint_that_ends_content_is_not_at_risk_and_says_why() -> None:
    events = call(
        [
            ("customer", COMPLAINT + " I want to make a complaint.", 0.0),
            ("agent", "I'm sorry. I have refunded the second charge and added a credit.", 4.0),
            ("customer", "Oh brilliant, that's sorted then. Cheers.", 8.0),
        ],
        signals=[
            {"kind": "dissatisfaction", "at_s": 2.0, "evidence": COMPLAINT},
            {"kind": "escalation", "at_s": 2.0, "evidence": "I want to make a complaint."},
        ],
    )
    risk = assess(facts(events), WEIGHTS)
    assert not risk.at_risk, risk
    content = next(s for s in risk.signs if s.kind == "ended_content")
    assert "brilliant" in content.evidence[0]["text"]


def test_ending_content_takes_back_complaints_but_not_a_repeat_call_or_words_of_leaving() -> None:
    content = ("customer", "Brilliant, that's sorted then, cheers.", 9.0)
    repeat = call([("agent", "Hello.", 0.0), ("customer", "It's about my bill again.", 3.0), content])
    earlier = [EarlierCall("c-1", NOW - 3 * DAY, ("billing dispute",), "resolved", "bill explained")]
    risk = assess(facts(repeat, earlier=earlier), WEIGHTS)
    assert {"repeat_call", "ended_content"} <= set(kinds(risk))
    assert risk.score == pytest.approx(1 - math.exp(-WEIGHTS.weights["repeat_call"] * 0.8), abs=0.002)
    leaving = call([("customer", LEAVING, 0.0), content], signals=[{"kind": "churn", "at_s": 2.0, "evidence": LEAVING}])
    assert assess(facts(leaving), WEIGHTS).at_risk


def _answers(late: list[tuple[str, float]]) -> list[tuple[str, str, float]]:
    """Three long answers, then three answers as ``late`` says (texts at offsets), each after the agent."""
    turns, at = [], 0.0
    for n in range(6):
        turns.append(("agent", "好的，我帮您看一下。", at))
        if n < 3:
            turns.append(("customer", "我想问一下我的合约哪天到期，到期以后能不能换机。", at + 3))
        else:
            turns += [("customer", text, at + offset) for text, offset in late]
        at += 12
    return turns


def test_an_answer_split_at_its_pauses_is_one_answer_not_several_curt_ones() -> None:
    """The recogniser ends a Chinese utterance at every comma pause: curtness is per answer."""
    fragments = _answers([("查一下，", 3.0), ("合约的，", 5.5), ("到期日。", 8.0)])  # as long, heard in three
    assert "curt_answers" not in kinds(assess(facts(call(fragments, language="zh")), WEIGHTS))
    curt = _answers([("嗯。", 3.0)])
    assert "curt_answers" in kinds(assess(facts(call(curt, language="zh")), WEIGHTS))


def _first_request(text: str, intent: str, last: str) -> list[dict[str, Any]]:
    events = call([("customer", text, 0.0), ("agent", "Let me look at that for you.", 4.0), ("customer", last, 8.0)])
    card = {"type": "suggestion", "intent": intent, "trigger": {"utterance_id": 0, "text": text}, "at_s": 2.0}
    return [*events[:2], card, *events[2:]]


def test_a_first_request_matched_to_leaving_counts_however_it_was_heard() -> None:
    """The knowledge base matched "I want to leave Lumen", heard as "I want to lean human", to
    cancel service: a switch considered, which a call that ends well takes back."""
    heard = "I want to lean human. How much is that going to cost me?"
    left_open = assess(facts(_first_request(heard, "cancel service", "Okay. Fine.")), WEIGHTS)
    assert "churn_considered" in kinds(left_open) and left_open.at_risk
    content = assess(facts(_first_request(heard, "cancel service", "Brilliant, that's sorted, cheers.")), WEIGHTS)
    assert "churn_considered" in kinds(content) and not content.at_risk
    add_on = _first_request("Can you cancel my Travel Pass?", "cancel service", "Okay. Fine.")
    assert "churn_considered" not in kinds(assess(facts(add_on), WEIGHTS))
    other = _first_request(heard, "explain bill", "Okay. Fine.")
    assert "churn_considered" not in kinds(assess(facts(other), WEIGHTS))


def test_the_first_request_is_read_again_from_the_transcript_as_it_stands() -> None:
    """The live card was matched on the fast final ("I want to turn my", a complaint); the
    context window revised it to "I want to end my". After the call the knowledge base reads the
    customer's opening again, revisions included: a greeting matches nothing, and "service." is
    short, so it is matched together with the utterance before it."""
    read: list[str] = []

    def intent_of(text: str, language: str) -> str | None:
        read.append(text)
        return "cancel service" if "end my service" in text else None

    events = call(
        [("customer", "Hi there.", 0.0), ("customer", "I want to turn my", 2.5), ("customer", "service.", 5.0)]
    )
    card = {"type": "suggestion", "intent": "make complaint", "trigger": {"utterance_id": 1}, "at_s": 5.0}
    revised = {"type": "final", "speaker": "customer", "utterance_id": 1, "start_s": 2.5, "end_s": 4.5,
               "text": "I want to end my", "emitted_s": 14.0, "revision": 1}  # fmt: skip
    events = [*events[:-1], card, revised, events[-1]]
    risk = assess(facts(events), WEIGHTS, intent_of)
    [sign] = [s for s in risk.signs if s.kind == "churn_considered"]
    assert sign.evidence[0]["text"] == "service." and "I want to end my service." in read
    assert "churn_considered" not in kinds(assess(facts(events), WEIGHTS))  # the live card: a complaint
    nothing = assess(facts(events), WEIGHTS, lambda text, language: None)
    assert "churn_considered" not in kinds(nothing)  # nothing matched now: not the first card either


def test_ending_my_service_is_words_of_leaving() -> None:
    events = call([("customer", "Hi. I want to end my service with you, all of it.", 0.0), ("agent", "...", 4.0)])
    assert "churn_words" in kinds(assess(facts(events), WEIGHTS))


def test_an_escalation_that_leaves_the_problem_open_is_unresolved_too() -> None:
    turns = [
        ("customer", "The engineer was moved again, let me speak to your supervisor.", 0.0),
        ("agent", "The team leader will call you back within 24 hours.", 4.0),
    ]
    open_ = assess(facts(call([*turns, ("customer", "Tomorrow morning then.", 8.0)])), WEIGHTS)
    assert {"escalation", "unresolved"} <= set(kinds(open_)) and open_.at_risk
    pleased = assess(facts(call([*turns, ("customer", "Brilliant, that's sorted, thanks.", 8.0)])), WEIGHTS)
    assert "unresolved" not in kinds(pleased) and not pleased.at_risk


def test_a_valuable_customer_left_without_a_fix_is_a_sign_of_its_own() -> None:
    """The same polite call handed to a ticket: a VIP goes on the worklist, a standard customer
    does not (the call is still unresolved for both)."""
    events = call(
        [
            ("agent", "Thanks for calling Lumen Mobile, how can I help?", 0.0),
            ("customer", "My international calls are charged per minute although I have the pack.", 3.0),
            ("agent", "I can see the charges. I've raised a ticket with billing.", 7.0),
            ("agent", "They will get back to you within 48 hours.", 10.0),
            ("customer", "Okay. Thank you.", 13.0),
        ]
    )
    vip, standard = assess(facts(events, profile=VIP), WEIGHTS), assess(facts(events, profile=STANDARD), WEIGHTS)
    assert vip.at_risk and "valuable_unresolved" in kinds(vip), vip
    assert "unresolved" in kinds(standard) and "valuable_unresolved" not in kinds(standard)
    assert not standard.at_risk, standard


def test_cancelling_an_add_on_logged_as_churn_is_not_leaving() -> None:
    """Calls logged before the live signal knew add-ons may carry a churn signal for one."""
    text = "I'd like to cancel the Travel Pass on my account, please."
    events = call(
        [("agent", "Hello, how can I help?", 0.0), ("customer", text, 3.0), ("customer", "Lovely, thanks.", 8.0)],
        signals=[{"kind": "churn", "at_s": 5.0, "evidence": text}],
    )
    assert "churn_words" not in kinds(assess(facts(events), WEIGHTS))


def test_words_of_leaving_are_read_from_the_transcript_as_it_stands() -> None:
    """No live signal (held back by its cooldown, or a phrase the tracker did not know when the
    call was logged): the transcript says it."""
    events = call(
        [
            ("customer", "I'm moving my number to another network, I need the code.", 0.0),
            ("agent", "I can help with that.", 4.0),
            ("customer", "Could I speak to someone above you first?", 8.0),
        ]
    )
    risk = assess(facts(events), WEIGHTS)
    assert {"churn_words", "escalation"} <= set(kinds(risk)) and risk.at_risk
    churn = next(s for s in risk.signs if s.kind == "churn_words")
    assert "another network" in churn.evidence[0]["text"]


def test_an_add_on_split_at_a_pause_and_cancelled_again_is_not_leaving() -> None:
    events = call(
        [
            ("customer", "Can you cancel the travel?", 0.0),
            ("customer", "pass on my account.", 2.2),
            ("agent", "It costs nothing while you're at home.", 5.0),
            ("customer", "Even so, please cancel it.", 9.0),
            ("customer", "Lovely, thanks.", 14.0),
        ],
        signals=[{"kind": "churn", "at_s": 2.0, "evidence": "Can you cancel the travel?"}],
    )
    assert "churn_words" not in kinds(assess(facts(events), WEIGHTS))
    leaving = call([("customer", "Please cancel it, I'm done with you.", 0.0)])
    assert "churn_words" in kinds(assess(facts(leaving), WEIGHTS))  # nothing else was cancelled


@pytest.mark.parametrize(
    ("language", "threat", "decision", "pleased"),
    [
        ("en", "If you can't sort this out I'll switch to another provider.", LEAVING, "Brilliant, that's sorted."),
        ("zh", "你们再不给力，我就携号转网了。", "我决定携号转网了。", "太好了，解决了，谢谢。"),
    ],
)
def test_a_switch_considered_is_taken_back_by_a_good_end_a_decision_is_not(
    language: str, threat: str, decision: str, pleased: str
) -> None:
    """A customer who says they would leave if it is not fixed, and it is fixed, stays off the list."""

    def risk(text: str):
        events = call([("customer", text, 0.0), ("agent", "...", 4.0), ("customer", pleased, 8.0)], language=language)
        return assess(facts(events), WEIGHTS)

    assert "churn_considered" in kinds(risk(threat)) and not risk(threat).at_risk  # the good end takes it back
    assert "churn_words" in kinds(risk(decision)) and risk(decision).at_risk  # it never does a decision


def test_cancelling_a_chinese_pack_is_not_leaving() -> None:
    pack, account = "我想把国际通话包取消掉。", "我要取消宽带，携号转网。"
    for text, leaving in ((pack, False), (account, True)):
        events = call(
            [("agent", "您好，请问有什么可以帮您？", 0.0), ("customer", text, 3.0)],
            signals=[{"kind": "churn", "at_s": 5.0, "evidence": text}],
            language="zh",
        )
        assert ("churn_words" in kinds(assess(facts(events), WEIGHTS))) is leaving


def test_the_same_question_asked_twice_is_found() -> None:
    events = call(
        [
            ("customer", "When will the technician come to fix my line?", 0.0),
            ("agent", "Let me check the booking system for you.", 3.0),
            ("customer", "So when will the technician come to fix the line?", 12.0),
        ]
    )
    assert "repeated_question" in kinds(assess(facts(events), WEIGHTS))


def test_quiet_signs_in_chinese() -> None:
    events = call(
        [
            ("agent", "您好，流明通信，请问有什么可以帮您？", 0.0),
            ("customer", "我家的宽带这个礼拜已经断了三次了，每天晚上都上不了网。", 3.0),
            ("agent", "您重启过路由器吗？", 7.0),
            ("customer", "重启了。", 15.0),
            ("agent", "线路这边看不到故障。", 18.0),
            ("customer", "嗯。", 26.0),
            ("agent", "您明天再观察一下吧。", 29.0),
            ("customer", "好吧。", 37.0),
            ("agent", "那您明天再看看，不行再打过来。", 40.0),
            ("customer", "算了。", 48.0),
        ],
        language="zh",
    )
    risk = assess(facts(events, intents=("broadband outage",)), WEIGHTS)
    assert risk.at_risk and {"curt_answers", "long_silences", "agreed_without_accepting"} <= set(kinds(risk))


def test_value_ranks_segments_first_then_spend_and_tenure() -> None:
    assert customer_value(VIP, WEIGHTS) > customer_value({"segment": "gold"}, WEIGHTS)
    assert customer_value({"segment": "gold", "monthly_spend": 0}, WEIGHTS) > customer_value(
        {"segment": "standard", "monthly_spend": 5000, "tenure_years": 30}, WEIGHTS
    )
    assert customer_value({}, WEIGHTS) == WEIGHTS.value.unknown
    # At equal risk, the more valuable customer comes first on the worklist.
    events = call([("customer", "I want to cancel my account.", 0.0)], signals=[{"kind": "churn", "at_s": 2.0}])
    vip, standard = (assess(facts(events, profile=p), WEIGHTS) for p in (VIP, STANDARD))
    assert vip.score == standard.score and vip.priority > standard.priority


def test_weights_come_from_a_yaml_file_and_a_mistake_names_it(tmp_path: Path) -> None:
    own = tmp_path / "retention.yaml"
    own.write_text("at_risk: 0.9\nweights: {churn_words: 0.1}\n")
    events = call([("customer", "I want to cancel my account.", 0.0)], signals=[{"kind": "churn", "at_s": 2.0}])
    assert not assess(facts(events), load_weights(own)).at_risk
    own.write_text("at_risk: 2\nweights: {}\n")
    with pytest.raises(ConfigError, match=r"retention\.yaml"):
        load_weights(own)


def test_a_switch_nearly_made_last_year_and_a_number_coming_to_us_are_not_decisions_to_leave() -> None:
    nearly = "Honestly, I nearly switched to another company last year, but your fiber never drops."
    pleased = "No, that's great, thanks."
    risk = assess(facts(call([("customer", nearly, 0.0), ("agent", "...", 4.0), ("customer", pleased, 8.0)])), WEIGHTS)
    assert "churn_considered" in kinds(risk) and not risk.at_risk
    joining = "He's on another network, and we'd like to bring his number over onto our account."
    risk = assess(facts(call([("customer", joining, 0.0), ("agent", "...", 4.0)])), WEIGHTS)
    assert not {"churn_words", "churn_considered"} & set(kinds(risk))
    leaving = "I'm moving my number to another network, bring it over to them."
    assert "churn_words" in kinds(assess(facts(call([("customer", leaving, 0.0), ("agent", "...", 4.0)])), WEIGHTS))
