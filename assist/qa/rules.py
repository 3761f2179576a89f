"""The QA scorecard rules: a pure function of a call's event stream and a scorecard.

Each rule answers one scorecard item for one call (passed, failed or not applicable, with the
utterance that decided it and a note); the score is the weighted share of applicable items.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from assist.qa.callview import (
    CallView,
    Event,
    Utterance,
    call_view,
    first_match,
    negative_moment,
    offer_mention,
    problem_utterance,
)
from assist.qa.scorecard_config import PHRASE_RULES, Scorecard, ScorecardItem, default_scorecard

Status = Literal["passed", "failed", "not_applicable"]


# -- results -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult:
    id: str
    title: str
    status: Status
    weight: float
    evidence: dict[str, Any] | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "weight": self.weight,
            "evidence": dict(self.evidence) if self.evidence else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class QaResult:
    scorecard_name: str
    scorecard_version: str
    call_id: str | None
    agent_id: str | None
    language: str
    items: tuple[ItemResult, ...]
    score: float | None  # 0-100 over applicable items; None when nothing applied

    def item(self, item_id: str) -> ItemResult:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def to_dict(self) -> dict[str, Any]:
        counts = {s: sum(i.status == s for i in self.items) for s in ("passed", "failed", "not_applicable")}
        return {
            "call_id": self.call_id,
            "agent_id": self.agent_id,
            "language": self.language,
            "scorecard": {"name": self.scorecard_name, "version": self.scorecard_version},
            "score": self.score,
            "counts": counts,
            "items": [item.to_dict() for item in self.items],
        }


def _result(item: ScorecardItem, status: Status, note: str, evidence: Utterance | None = None) -> ItemResult:
    return ItemResult(item.id, item.title, status, item.weight, evidence.evidence() if evidence else None, note)


def _phrase_check(
    item: ScorecardItem, scope: Sequence[Utterance], language: str, where: str, failed_evidence: Utterance | None = None
) -> ItemResult:
    found = first_match(item.phrases, scope, language)
    if found is not None:
        return _result(item, "passed", f"{item.speaker} said “{found[2]}” {where}", found[0])
    return _result(item, "failed", f"no matching phrase from the {item.speaker} {where}", failed_evidence)


# -- rules: each answers one item for one call ----------------------------------------------------------


def _rule_opening(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    scope = [
        u
        for n, u in enumerate(turns)
        if (item.first_n is not None and n < item.first_n) or (item.within_s is not None and u.start_s <= item.within_s)
    ]
    limits = []
    if item.within_s is not None:
        limits.append(f"the first {item.within_s:g} s")
    if item.first_n is not None:
        limits.append(f"the first {item.first_n} utterances")
    return _phrase_check(item, scope, view.language, "in " + " or ".join(limits))


def _rule_closing(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    return _phrase_check(item, turns[-item.last_n :], view.language, f"in the last {item.last_n} utterances")


def _rule_anywhere(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    return _phrase_check(item, turns, view.language, "during the call")


def _rule_before(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    guarded = first_match(item.before_phrases, turns, view.language)
    if guarded is None:
        return _result(item, "not_applicable", "no account details were discussed")
    g_utterance, g_position, g_phrase = guarded
    check = first_match(item.phrases, turns, view.language)
    if check is not None:
        c_utterance, c_position, c_phrase = check
        if c_utterance.key < g_utterance.key or (c_utterance is g_utterance and c_position < g_position):
            return _result(item, "passed", f"“{c_phrase}” before account details (“{g_phrase}”)", c_utterance)
    return _result(item, "failed", f"account details (“{g_phrase}”) came before any identity check", g_utterance)


def _window(turns: list[Utterance], after: tuple[float, int], limit: int | None) -> list[Utterance]:
    following = [u for u in turns if u.key > after]
    return following[:limit] if limit is not None else following


def _rule_after_problem(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    problem = problem_utterance(view, item.min_problem_words)
    if problem is None:
        return _result(item, "not_applicable", "the customer did not state a problem")
    scope = _window(turns, problem.key, item.within_n)
    where = "after the customer stated the problem"
    if item.within_n is not None:
        where = f"within {item.within_n} replies after the customer stated the problem"
    return _phrase_check(item, scope, view.language, where, failed_evidence=problem)


def _rule_after_negative(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    moment = negative_moment(view, item.signal_kinds, item.negative_phrases)
    if moment is None:
        return _result(item, "not_applicable", "the customer was not negative")
    position, utterance, why = moment
    where = f"after the customer was negative ({why})"
    return _phrase_check(item, _window(turns, position, item.within_n), view.language, where, utterance)


def _rule_offer(item: ScorecardItem, view: CallView, turns: list[Utterance]) -> ItemResult:
    if not view.offers:
        return _result(item, "not_applicable", "no offer was shown")
    for position, offer in view.offers:
        title = str(offer.get("title") or offer.get("offer_id") or "offer")
        marked = [a for a in view.actions_on(str(offer.get("card_id"))) if a in item.feedback_actions]
        if marked:
            return _result(item, "passed", f"offer “{title}” marked {marked[0]} by the agent")
        mention = offer_mention(view, position, offer, item.min_title_words)
        if mention is not None:
            return _result(item, "passed", f"agent mentioned offer “{title}”", mention)
    titles = ", ".join(f"“{o.get('title') or o.get('offer_id')}”" for _, o in view.offers)
    return _result(item, "failed", f"offer {titles} shown but not mentioned")


_RULES = {
    "opening": _rule_opening,
    "before": _rule_before,
    "after_problem": _rule_after_problem,
    "after_negative": _rule_after_negative,
    "anywhere": _rule_anywhere,
    "closing": _rule_closing,
    "offer_mentioned": _rule_offer,
}


def score_item(item: ScorecardItem, view: CallView) -> ItemResult:
    turns = view.said_by(item.speaker)
    if item.rule in PHRASE_RULES:
        if not turns:
            return _result(item, "not_applicable", f"the {item.speaker} did not speak")
        if not item.phrases.for_language(view.language):
            return _result(item, "not_applicable", f"no phrases for language '{view.language}'")
    return _RULES[item.rule](item, view, turns)


def score_call(events: Iterable[Event], scorecard: Scorecard | None = None) -> QaResult:
    """Score one call (its events in order) on the scorecard (default: the packaged one)."""
    card = scorecard or default_scorecard()
    view = call_view(events)
    items = tuple(score_item(item, view) for item in card.items)
    applicable = sum(i.weight for i in items if i.status != "not_applicable")
    passed = sum(i.weight for i in items if i.status == "passed")
    score = round(100 * passed / applicable, 1) if applicable else None
    return QaResult(card.name, card.version, view.call_id, view.agent_id, view.language, items, score)
