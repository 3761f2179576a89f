"""SuggestionPolicy around a scripted rank function (no index, no encoder)."""

from __future__ import annotations

import uuid

import pytest

from assist.guidance.suggestions import SuggestionOptions, SuggestionPolicy, card
from assist.knowledge.corpus import Article
from assist.knowledge.search import Hit


def make_article(id_: str, *, source: str | None = None) -> Article:
    intent = id_.replace("-", " ")
    return Article(
        id=id_,
        title=f"Title {id_}",
        answer=f"Answer {id_}",
        intent=intent,
        tags=(intent,),
        language="en",
        phrasings=(f"phrasing {id_}",),
        source=source,
        related=(),
        body="",
        path=f"articles/{id_}.md",
    )


ARTICLES = {
    a.id: a
    for a in (
        make_article("replace-card", source="https://example.test/replace"),
        make_article("check-balance"),
        make_article("pay-bill"),
        make_article("order-checks"),
        make_article("reset-password"),
    )
}


class ScriptedRank:
    """Answers a query with the article named by the first keyword in it, at a set confidence."""

    def __init__(self, confidence: float = 0.9, table: dict[str, tuple[str, float]] | None = None) -> None:
        self.queries: list[str] = []
        self.table = table or {
            "card": ("replace-card", confidence),
            "balance": ("check-balance", confidence),
            "bill": ("pay-bill", confidence),
            "checks": ("order-checks", confidence),
            "password": ("reset-password", confidence),
        }

    def __call__(self, query: str) -> list[Hit]:
        self.queries.append(query)
        hits = [
            Hit(ARTICLES[article_id], conf, conf, conf, 0.0)
            for word, (article_id, conf) in self.table.items()
            if word in query.lower()
        ]
        hits.sort(key=lambda h: -h.confidence)
        hits.append(Hit(ARTICLES["order-checks"], 0.01, 0.0, 0.0, 0.0))  # a weak tail, never shown
        return hits


def policy(rank: ScriptedRank | None = None, **options: float) -> SuggestionPolicy:
    return SuggestionPolicy(rank or ScriptedRank(), SuggestionOptions(**options))  # type: ignore[arg-type]


def final(p: SuggestionPolicy, text: str, at_s: float, utterance_id: int = 1) -> list[dict[str, object]]:
    return p.on_customer(text, utterance_id=utterance_id, final=True, end_s=at_s)


def ids(cards: list[dict[str, object]]) -> list[object]:
    return [c["article_id"] for c in cards]


# -- a confident final ---------------------------------------------------------------------------


def test_confident_final_gives_one_card() -> None:
    text = "I lost my debit card yesterday evening"
    cards = SuggestionPolicy(ScriptedRank(0.8123)).on_customer(text, utterance_id=7, final=True, end_s=12.3456)
    assert len(cards) == 1
    c = cards[0]
    assert c["type"] == "suggestion"
    assert c["card_id"] == "kb:replace-card"
    assert c["article_id"] == "replace-card"
    assert c["intent"] == "replace card"
    assert c["title"] == "Title replace-card"
    assert c["answer"] == "Answer replace-card"
    assert c["confidence"] == 0.812
    assert c["trigger"] == {"text": text, "utterance_id": 7, "final": True}
    assert c["at_s"] == 12.35  # rounded to 2 places
    assert c["source"] == {"title": "Title replace-card", "url": "https://example.test/replace"}
    entity = c["agentassist"]
    uuid.UUID(entity["id"])
    [suggestion] = entity["suggestions"]
    assert suggestion["type"] == "article"
    assert suggestion["id"] == "replace-card"
    assert suggestion["confidence"] == 0.812
    assert suggestion["title"] == "Title replace-card"
    assert suggestion["excerpts"] == ["Answer replace-card"]
    assert suggestion["documentUri"] == "https://example.test/replace"
    assert suggestion["metadata"] == {"intent": "replace card"}


def test_card_without_source() -> None:
    hit = Hit(ARTICLES["pay-bill"], 0.7, 0.7, 0.7, 0.0)
    c = card(hit, "pay my bill", 3, 1.0, False)
    assert c["source"] is None
    assert c["agentassist"]["suggestions"][0]["documentUri"] == ""
    assert c["trigger"]["final"] is False


def test_below_threshold_says_nothing() -> None:
    p = policy(ScriptedRank(0.5), threshold=0.55)
    assert final(p, "I lost my debit card yesterday evening", 1.0) == []
    assert p.on_screen == []


def test_at_threshold_is_shown() -> None:
    p = policy(ScriptedRank(0.55), threshold=0.55)
    assert ids(final(p, "I lost my debit card yesterday evening", 1.0)) == ["replace-card"]


def test_no_hits_says_nothing() -> None:
    p = SuggestionPolicy(lambda query: [])
    assert p.on_customer("hello there how are you today", utterance_id=1, final=True, end_s=1.0) == []


def test_only_the_best_hit_becomes_a_card() -> None:
    rank = ScriptedRank(table={"card": ("replace-card", 0.9), "balance": ("check-balance", 0.8)})
    cards = final(policy(rank), "my card and my balance are both wrong today", 1.0)
    assert ids(cards) == ["replace-card"]


# -- repeats, max cards, cooldown ------------------------------------------------------------------


def test_same_article_not_repeated_while_on_screen() -> None:
    p = policy()
    assert ids(final(p, "I lost my debit card last night", 1.0, 1)) == ["replace-card"]
    assert final(p, "yes it was my debit card from you", 10.0, 2) == []
    assert final(p, "the card is definitely gone I think", 500.0, 3) == []  # still on screen
    assert p.on_screen == ["replace-card"]


def test_at_most_max_cards_and_the_oldest_stays_away() -> None:
    p = policy(max_cards=3, cooldown_s=90.0)
    assert ids(final(p, "I lost my debit card last night", 1.0, 1)) == ["replace-card"]
    assert ids(final(p, "what is my current account balance", 10.0, 2)) == ["check-balance"]
    assert ids(final(p, "I need to pay my phone bill", 20.0, 3)) == ["pay-bill"]
    assert ids(final(p, "can I order some new checks please", 30.0, 4)) == ["order-checks"]
    assert p.on_screen == ["check-balance", "pay-bill", "order-checks"]
    assert p.away_until["replace-card"] == 120.0
    # the card that left stays away for the cooldown ...
    assert final(p, "and about my lost debit card again", 119.0, 5) == []
    # ... then may come back (pushing the next oldest out)
    assert ids(final(p, "and about my lost debit card again", 120.0, 6)) == ["replace-card"]
    assert p.on_screen == ["pay-bill", "order-checks", "replace-card"]
    assert len(p.on_screen) <= 3


def test_dismissed_card_stays_away_for_the_cooldown_then_may_return() -> None:
    p = policy(cooldown_s=90.0)
    final(p, "I lost my debit card last night", 1.0, 1)
    p.on_feedback("replace-card", "dismissed", at_s=5.0)
    assert p.on_screen == []
    assert final(p, "I really need a new debit card", 50.0, 2) == []
    assert final(p, "I really need a new debit card", 94.9, 3) == []
    assert ids(final(p, "I really need a new debit card", 95.0, 4)) == ["replace-card"]


def test_other_feedback_keeps_the_card() -> None:
    p = policy()
    final(p, "I lost my debit card last night", 1.0, 1)
    p.on_feedback("replace-card", "used", at_s=5.0)
    p.on_feedback("check-balance", "dismissed", at_s=5.0)  # not on screen: nothing changes
    assert p.on_screen == ["replace-card"]
    assert "check-balance" not in p.away_until


# -- short finals and context ----------------------------------------------------------------------


def test_short_final_is_matched_with_the_previous_customer_turn() -> None:
    rank = ScriptedRank(table={"card": ("replace-card", 0.9)})
    p = policy(rank)
    assert final(p, "I have a question about something", 1.0, 1) == []
    cards = final(p, "my debit card", 5.0, 2)
    assert "I have a question about something my debit card" in rank.queries
    assert rank.queries[-2:] == ["I have a question about something my debit card", "my debit card"]
    assert ids(cards) == ["replace-card"]
    assert cards[0]["trigger"]["text"] == "my debit card"
    assert cards[0]["trigger"]["utterance_id"] == 2


def test_combined_query_wins_when_it_is_more_confident() -> None:
    rank = ScriptedRank(table={"lost": ("replace-card", 0.5)})
    p = policy(rank, threshold=0.55)
    assert final(p, "I think I lost it somewhere yesterday", 1.0, 1) == []  # not sure enough yet
    rank.table = {"lost": ("replace-card", 0.9), "debit": ("check-balance", 0.6)}
    cards = final(p, "the debit one", 5.0, 2)
    # alone, "the debit one" gives check-balance at 0.6; with the previous turn, replace-card at 0.9
    assert ids(cards) == ["replace-card"]
    assert cards[0]["confidence"] == 0.9
    assert cards[0]["trigger"]["text"] == "the debit one"


def test_short_final_long_after_the_previous_turn_is_matched_alone() -> None:
    rank = ScriptedRank()
    p = policy(rank, context_window_s=30.0)
    final(p, "I have a question about something", 1.0, 1)
    rank.queries.clear()
    final(p, "my debit card", 40.0, 2)
    assert rank.queries == ["my debit card"]


def test_long_final_is_matched_alone() -> None:
    rank = ScriptedRank()
    p = policy(rank)
    final(p, "hello there I have a question", 1.0, 1)
    rank.queries.clear()
    final(p, "I would like to replace my debit card", 3.0, 2)
    assert rank.queries == ["I would like to replace my debit card"]


def test_first_short_final_has_no_context() -> None:
    rank = ScriptedRank()
    final(policy(rank), "my card", 1.0)
    assert rank.queries == ["my card"]


# -- interims --------------------------------------------------------------------------------------


def interim(p: SuggestionPolicy, text: str, at_s: float, utterance_id: int = 1) -> list[dict[str, object]]:
    return p.on_customer(text, utterance_id=utterance_id, final=False, end_s=at_s)


def test_short_interims_are_not_ranked() -> None:
    rank = ScriptedRank(0.99)
    p = policy(rank, interim_min_words=5)
    assert interim(p, "I lost my card", 1.0) == []
    assert rank.queries == []


def test_interim_needs_the_higher_threshold() -> None:
    p = policy(ScriptedRank(0.7), threshold=0.55, interim_threshold=0.75)
    assert interim(p, "I lost my debit card yesterday", 1.0) == []
    p2 = policy(ScriptedRank(0.8), threshold=0.55, interim_threshold=0.75)
    cards = interim(p2, "I lost my debit card yesterday", 1.0, 4)
    assert ids(cards) == ["replace-card"]
    assert cards[0]["trigger"] == {
        "text": "I lost my debit card yesterday",
        "utterance_id": 4,
        "final": False,
    }


def test_same_interim_text_is_not_ranked_twice() -> None:
    rank = ScriptedRank(0.7)
    p = policy(rank)
    interim(p, "I lost my debit card yesterday", 1.0, 1)
    interim(p, "I lost my debit card yesterday", 1.2, 1)
    assert rank.queries == ["I lost my debit card yesterday"]
    interim(p, "I lost my debit card yesterday at", 1.4, 1)  # grown: ranked again
    interim(p, "I lost my debit card yesterday", 9.0, 2)  # another utterance: ranked again
    assert len(rank.queries) == 3


def test_interims_are_not_context_for_finals() -> None:
    rank = ScriptedRank()
    p = policy(rank)
    interim(p, "hello there I have a question", 1.0, 1)
    rank.queries.clear()
    final(p, "my card", 2.0, 2)
    assert rank.queries == ["my card"]


def test_final_after_its_interim_card_does_not_repeat_it() -> None:
    p = policy(ScriptedRank(0.9))
    assert ids(interim(p, "I lost my debit card yesterday", 1.0, 1)) == ["replace-card"]
    assert final(p, "I lost my debit card yesterday evening", 2.0, 1) == []


@pytest.mark.parametrize("words", [4, 5])
def test_interim_min_words_boundary(words: int) -> None:
    rank = ScriptedRank(0.99)
    p = policy(rank, interim_min_words=5)
    text = " ".join(["card"] * words)
    cards = interim(p, text, 1.0)
    assert bool(cards) is (words >= 5)
