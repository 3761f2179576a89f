"""Whether a call solved the problem: the customer's closing words and the agent's "I can't",
and the summary's outcome that reads them (the agent's "anything else?" is not a resolution)."""

from __future__ import annotations

import pytest

from assist.qa.callview import call_view
from assist.qa.resolution import closing, could_not_fix
from assist.qa.summary import summarize
from tests.unit.qa.calls import CallBuilder


def ended_with(*customer_last: str, agent_before: str = "I've refunded the charge."):
    builder = CallBuilder()
    builder.agent("Thanks for calling, how can I help?").customer("My bill is wrong this month.")
    builder.agent(agent_before).agent("Is there anything else I can help you with?")
    for text in customer_last:
        builder.customer(text)
    return builder.end()


@pytest.mark.parametrize(
    ("last", "close"),
    [
        ("No, that's all, brilliant.", "content"),
        ("Lovely, that's sorted then.", "content"),
        ("No. Thanks.", "polite"),
        ("Cheers.", "polite"),
        ("Okay, fine.", "resigned"),
        ("Fine.", "resigned"),
        ("Alright. I'll wait for the text, I guess.", "resigned"),
        ("Never mind, I'll sort it out myself.", "resigned"),
        ("Okay, thanks, I suppose.", "resigned"),  # resigned wins over polite
        ("Thanks for nothing.", "resigned"),
        ("Fine, I'll wait for the call then.", "resigned"),  # opens with the concession
        ("We'll wait and see.", "resigned"),
        ("Right, so for now, nothing great.", "resigned"),  # praise denied
        ("I'll see if I can dig up an adapter somewhere.", "resigned"),  # left to fix it themselves
        ("Thank you, I will wait for the call.", "resigned"),
        ("No. I'll think about it.", "resigned"),
        ("Brilliant, I'd switch if you weren't so good.", "content"),  # a counterfactual, not a denial
        ("No.", "neither"),
    ],
)
def test_how_the_customer_ended(last: str, close: str) -> None:
    ending = closing(call_view(ended_with(last)))
    assert ending.close == close
    assert (ending.utterance is None) == (close == "neither")
    if ending.utterance is not None:
        assert ending.utterance.text == last


def test_chinese_closings() -> None:
    def close(text: str) -> str:
        events = CallBuilder(language="zh").agent("请问还有什么可以帮您？").customer(text).end()
        return closing(call_view(events)).close

    assert close("好吧，算了。") == "resigned"
    assert close("太好了，解决了，谢谢。") == "content"
    assert close("好的，谢谢。") == "polite"
    assert close("那就好，辛苦了。") == "content"
    assert close("知道了。") == "polite"
    assert close("好吧，那我等着，看你们怎么处理。") == "resigned"
    assert close("那我等等看吧。") == "resigned"
    assert close("没了，我自己再算算吧。") == "resigned"
    assert close("不说了，挂了。") == "resigned"


def test_pleased_words_in_a_complaint_are_sarcasm_not_contentment() -> None:
    sarcasm = "Oh, wonderful, locking the door after the horse has bolted. I'd like the manager."
    builder = CallBuilder().agent("I've put a block on premium texts now.").customer(sarcasm)
    assert closing(call_view(builder.signal("escalation").end())).close == "neither"
    pleased = CallBuilder().agent("I've put a block on premium texts now.").customer(sarcasm)
    assert closing(call_view(pleased.end())).close == "content"  # no complaint signal: taken at its word


def test_only_the_last_two_customer_answers_count_each_as_a_whole() -> None:
    builder = CallBuilder().agent("I've refunded the charge.").customer("Great, perfect.")
    earlier = builder.agent("Anything else?").customer("Hmm.").agent("Are you sure?").customer("No.").end()
    assert closing(call_view(earlier)).close == "neither"
    # One answer heard as three utterances, then a goodbye: the answer is read whole.
    split = CallBuilder().agent("I've refunded the charge.").agent("Anything else?")
    split.customer("Wonderful.").customer("That was easy.").customer("Thank you so much.")
    ending = closing(call_view(split.agent("My pleasure.").customer("I will.").customer("Bye now.").end()))
    assert ending.close == "content" and ending.utterance is not None and ending.utterance.text == "Wonderful."


@pytest.mark.parametrize(
    ("last", "agent_before", "outcome"),
    [
        ("Okay, fine.", "I've refunded the charge.", "unresolved"),  # "anything else?" is no resolution
        ("No, that's all, brilliant.", "Unfortunately I can't refund it.", "resolved"),  # content wins
        ("Okay, thanks.", "I'm afraid I don't have a repair time yet.", "unresolved"),  # only polite
        ("Okay, thanks.", "I've refunded the charge.", "resolved"),
        ("No.", "It's all sorted now.", "resolved"),
        ("No.", "Let me see what I can find.", "unresolved"),
        # Handed to a ticket or a call back: the call itself solved nothing.
        ("Okay, thanks.", "I've raised a ticket and the team will get back to you within 48 hours.", "unresolved"),
        ("Okay, thanks.", "I've logged a fault report for you.", "unresolved"),
        ("Thank you.", "A specialist will call you back tomorrow morning.", "unresolved"),
        ("Thank you.", "So I'm passing it to our network team to look at properly.", "unresolved"),
        ("Lovely, thanks.", "I've raised a ticket, they'll be in touch within 48 hours.", "resolved"),  # content
        # An action taken, with its result to come, is not a deferral.
        ("Okay, thanks.", "I've booked the engineer for Tuesday between 8 and 12.", "resolved"),
        ("Okay, thanks.", "The refund will show on your next bill in 3 to 5 days.", "resolved"),
    ],
)
def test_outcome_reads_the_customer_not_the_agents_closing_question(last: str, agent_before: str, outcome: str) -> None:
    assert summarize(ended_with(last, agent_before=agent_before)).outcome == outcome


def test_a_chinese_work_order_is_a_deferral() -> None:
    def outcome(agent: str) -> str:
        builder = CallBuilder(language="zh").customer("我在国外，手机上不了网。").agent("我帮您查一下。")
        return summarize(builder.agent(agent).customer("好的，谢谢。").end()).outcome

    assert outcome("已经给您提交了故障单，48小时内会回复您。") == "unresolved"
    assert outcome("专人会在24小时内联系您。") == "unresolved"
    assert outcome("已经帮您处理好了，重启一下手机就可以。") == "resolved"


def test_the_agent_saying_it_cannot_be_fixed_is_found_late_in_the_call() -> None:
    early = (
        CallBuilder()
        .agent("Unfortunately I can't see your account yet, can you give me your number?")
        .customer("Sure, it's 555 0101.")
        .agent("Thanks, I have refunded the charge.")
        .customer("Okay.")
        .end()
    )
    assert could_not_fix(call_view(early)) is None
    late = ended_with("Okay.", agent_before="I'm afraid there's nothing more I can do today.")
    found = could_not_fix(call_view(late))
    assert found is not None and "nothing more" in found.text
