"""The call view: what a call's events say, and the moments in it that rules and models read."""

from __future__ import annotations

from assist.qa.callview import call_view, negative_moment, offer_mention, problem_utterance
from assist.qa.text import PhraseSet
from tests.unit.qa.calls import CallBuilder, live_call


def test_a_live_call_reads_as_a_view() -> None:
    view = call_view(live_call())
    assert (view.call_id, view.agent_id, view.language, view.ended) == ("call-live", "carol", "en", None)
    assert view.caller["name"] == "Sarah Thompson"
    assert [u.key for u in view.utterances] == sorted(u.key for u in view.utterances)
    assert (len(view.suggestions), len(view.offers), len(view.signals)) == (2, 1, 2)


def test_a_revised_final_replaces_the_one_it_revises() -> None:
    events = (
        CallBuilder()
        .agent("Thanks, I mean, before I do...")
        .customer("That's the kind offer that no.")
        .agent("Anything else?")
        .revise("customer", "That's a kind offer, but no.")
        .customer("Bye now.")
        .revise("customer", "")  # an empty revision retracts it
        .end()
    )
    view = call_view(events)
    assert [u.text for u in view.said_by("customer")] == ["That's a kind offer, but no."]
    assert len(view.utterances) == 3


def test_problem_utterance_is_the_first_card_trigger_else_the_first_request() -> None:
    view = call_view(live_call())
    problem = problem_utterance(view)
    assert problem is not None and problem.text.startswith("My internet has been down")
    plain = call_view(CallBuilder().agent("Hello").customer("Hi, my name is Ann Lee").customer("I lost my card").end())
    found = problem_utterance(plain, min_words=3)
    assert found is not None and found.text == "I lost my card"


def test_negative_moment_from_signal_kinds_or_phrases() -> None:
    events = (
        CallBuilder()
        .agent("Hello, how can I help?")
        .customer("My router is broken again and I'm fed up with it.")
        .signal("dissatisfaction")
        .end()
    )
    view = call_view(events)
    moment = negative_moment(view, {"dissatisfaction"}, PhraseSet())
    assert moment is not None and moment[1] is not None
    assert moment[1].text.startswith("My router")
    assert moment[2] == "dissatisfaction signal"
    by_phrase = negative_moment(view, frozenset(), PhraseSet.of({"en": ["fed up"]}))
    assert by_phrase is not None and by_phrase[2] == "customer said “fed up”"
    assert negative_moment(view, {"churn"}, PhraseSet()) is None


def test_an_offer_counts_as_mentioned_only_after_it_was_shown() -> None:
    view = call_view(live_call())
    position, offer = view.offers[0]
    mention = offer_mention(view, position, offer)
    assert mention is not None and "loyalty discount" in mention.text
    assert offer_mention(view, len(live_call()), offer) is None
