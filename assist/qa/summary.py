"""Post-call summary and transfer note: pure functions of a call's event stream.

``summarize(events)`` says why the customer called (the knowledge cards' intents), what was done
(cards the agent used, actions the agent said it took), offers made and accepted, signals
raised, the outcome, and promises still open. ``transfer_note(events)`` condenses that for the
next agent when a call is transferred mid-call, so the customer never repeats themselves. Both
work on a live call (no ``call_ended`` yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from assist.guidance.signals import lexicon_score, utterance_dissatisfaction
from assist.qa.callview import CallView, Event, Utterance, call_view, offer_mention, problem_utterance
from assist.qa.resolution import closing, could_not_fix, deferred
from assist.qa.scorecard_config import default_scorecard
from assist.qa.text import PatternTable, PhraseSet

Outcome = str  # "resolved" | "escalated" | "unresolved" | "abandoned"
ABANDONED_S = 15.0
MAX_REASONS = 3
OFFER_MARKS = ("used", "offered", "accepted", "declined")

# Regular expressions over normalised text: English on words ("I've" reads "i have"), Chinese on
# the text without spaces.
_DONE = (
    "cancelled|canceled|blocked|frozen|froze|sent|ordered|raised|reset|updated|changed|scheduled|booked|added|"
    "applied|credited|refunded|issued|waived|processed|transferred|arranged|logged|submitted|reversed|removed|"
    "activated|unlocked|paid|set up|reported|disputed|escalated|replaced|requested|upgraded|downgraded|moved"
)
_TO_DO = (
    "cancel|block|freeze|send|order|raise|reset|update|change|schedule|book|add|apply|credit|refund|issue|waive|"
    "process|arrange|log|submit|reverse|remove|activate|unlock|pay|set up|report|dispute|escalate|replace|"
    "request|upgrade|downgrade|move"
)
ACTIONS: dict[str, list[str]] = {
    "en": [
        rf"\b(?:i|we) (?:have |had )?(?:just |already |now |also )?(?:{_DONE})\b",
        rf"\b(?:i|we) (?:will|am going to|are going to) (?:just |now |also )?(?:{_TO_DO})\b",
        rf"\b(?:has|have) (?:now |just |already )?been (?:{_DONE})\b",
        rf"\blet me (?:just )?(?:{_TO_DO})\b",
        r"\brefund",
    ],
    "zh": [
        r"已经?(?:帮|为|给)您",
        r"(?:帮|给|为)您(?:取消|办理|申请|开通|冻结|挂失|补办|退|改|提交|登记|预约|处理)",
        r"已经?(?:取消|冻结|挂失|退|提交|处理|开通|发送|办理|补办|登记|预约)",
        r"退款",
        r"补偿",
    ],
}
FOLLOW_UPS: dict[str, list[str]] = {
    "en": [
        r"\bcall you back\b",
        r"\bwithin (?:\w+ ){0,4}?(?:days?|hours?|weeks?)\b",
        r"\b(?:i|we) will (?:send|email|text|post|mail|follow up|be in touch|get back|let you know|update you|"
        r"contact you|call you)\b",
        r"\byou (?:will|should) (?:receive|get|see|hear)\b",
        r"\bget back to you\b",
        r"\bfollow up\b",
    ],
    "zh": [
        r"回电",
        r"回复您",
        r"个工作日",
        r"工作日内",
        r"会(?:发送|寄|发给|通知|联系)",
        r"会收到",
        r"短信通知",
        r"跟进",
    ],
}
TRANSFERS: dict[str, list[str]] = {
    "en": [
        r"\btransfer(?:ring)? you\b",
        r"\bput you through\b",
        r"\bconnect(?:ing)? you (?:to|with)\b",
        r"\bpass(?:ing)? you (?:over )?to\b",
        r"\bescalat(?:e|ed|ing) (?:this|your|it)\b",
    ],
    "zh": [r"转接", r"转给", r"为您转", r"升级处理", r"转到"],
}
# What the agent says when the problem is dealt with. Questions such as "anything else?" are
# not here: they are asked on calls that solved nothing too. The customer's own closing words
# (assist/qa/closing.py) decide when they are heard.
RESOLVED: dict[str, list[str]] = {
    "en": [
        r"\b(?:has|have) that sorted\b",
        r"\ball (?:set|sorted|done)\b",
        r"\bthat (?:solves|sorts|fixes) (?:it|that|the problem)\b",
        r"\b(?:is|has been|was) (?:fixed|resolved|sorted)\b",
    ],
    "zh": [r"已经(?:帮您)?(?:处理好|解决|办好|修复)", r"处理好了", r"办好了", r"已经恢复"],
}
ACCEPTS: dict[str, list[str]] = {
    "en": [
        r"^(?:yes|yeah|yep|yup|sure|ok|okay|alright|great|absolutely|definitely|please|go ahead)\b",
        r"\bsounds (?:good|great|fine|perfect)\b",
        r"\bthat would be (?:great|good|nice|lovely|perfect)\b",
        r"\b(?:please do|go ahead|lets do (?:it|that)|i will take it|that works|why not|i would like that)\b",
        r"\bsign me up\b",
    ],
    "zh": [r"好的", r"好啊", r"可以", r"行啊", r"^行", r"没问题", r"办吧", r"就这样", r"要的", r"需要"],
}
DECLINES: dict[str, list[str]] = {
    "en": [
        r"^no\b(?! problem| worries)",
        r"\bno thanks?\b",
        r"\bno thank you\b",
        r"\bnot (?:interested|now|really|today|for me)\b",
        r"\bmaybe later\b",
        r"\bi will pass\b",
        r"\bdo not (?:need|want)\b",
        r"\bno need\b",
        r"\bnope\b",
    ],
    "zh": [r"不用", r"不要", r"不需要", r"算了", r"不了", r"不考虑", r"暂时不", r"不可以", r"不行"],
}


_ACTIONS, _FOLLOW_UPS, _TRANSFERS, _RESOLVED, _ACCEPTS, _DECLINES = (
    PatternTable.of(t) for t in (ACTIONS, FOLLOW_UPS, TRANSFERS, RESOLVED, ACCEPTS, DECLINES)
)


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote(text: str, limit: int = 120) -> str:
    return f"“{_clip(text, limit)}”"


# -- the parts of a summary ------------------------------------------------------------------------------


@dataclass
class _Reason:
    intent: str
    title: str
    first: int
    confidence: float = 0.0
    used: bool = False
    dismissed: bool = False

    @property
    def weight(self) -> float:
        """Confidence, raised by the agent using the card and by appearing early."""
        return self.confidence + 0.5 * self.used - 0.4 * self.dismissed + 0.3 / (1 + self.first)


def reasons(view: CallView) -> list[dict[str, str]]:
    """Why the customer called: the intents of the knowledge cards shown, best first."""
    found: dict[str, _Reason] = {}
    for _, card in view.suggestions:
        intent = str(card.get("intent") or card.get("article_id") or "").strip()
        if not intent:
            continue
        entry = found.setdefault(intent, _Reason(intent, str(card.get("title") or intent), len(found)))
        entry.confidence = max(entry.confidence, float(card.get("confidence") or 0.0))
        actions = view.actions_on(str(card.get("card_id")))
        entry.used |= "used" in actions or "helpful" in actions
        entry.dismissed |= "dismissed" in actions or "not_helpful" in actions
    ranked = sorted(found.values(), key=lambda r: -r.weight)[:MAX_REASONS]
    return [{"intent": r.intent, "title": r.title} for r in ranked]


def cards_used(view: CallView) -> list[dict[str, str]]:
    titles = {str(e.get("card_id")): str(e.get("title") or "") for _, e in (*view.suggestions, *view.offers)}
    used: dict[str, dict[str, str]] = {}
    for _, feedback in view.feedback:
        card_id = str(feedback.get("card_id"))
        if feedback.get("action") == "used" and card_id not in used:
            used[card_id] = {"card_id": card_id, "title": titles.get(card_id) or card_id}
    return list(used.values())


def _said(view: CallView, table: PatternTable, speaker: str = "agent") -> list[Utterance]:
    return [u for u in view.said_by(speaker) if table.matches(u.normalized, view.language)]


def _brief(utterance: Utterance) -> dict[str, Any]:
    return {"utterance_id": utterance.utterance_id, "start_s": utterance.start_s, "text": utterance.text}


def _response(view: CallView, mention: Utterance) -> str | None:
    """The customer's answer right after the agent mentioned an offer: 'yes', 'no' or None."""
    answer = next((u for u in view.said_by("customer") if u.key > mention.key), None)
    if answer is None or answer.start_s - mention.end_s > 30.0:
        return None
    if _DECLINES.matches(answer.normalized, view.language):
        return "no"
    return "yes" if _ACCEPTS.matches(answer.normalized, view.language) else None


def offers(view: CallView) -> list[dict[str, Any]]:
    out = []
    for position, offer in view.offers:
        actions = view.actions_on(str(offer.get("card_id")))
        mention = offer_mention(view, position, offer)
        response = _response(view, mention) if mention is not None else None
        accepted = "accepted" in actions or (response == "yes" and "declined" not in actions)
        out.append(
            {
                "offer_id": offer.get("offer_id"),
                "card_id": offer.get("card_id"),
                "title": offer.get("title"),
                "made": mention is not None or any(a in OFFER_MARKS for a in actions),
                "accepted": accepted,
                "declined": not accepted and ("declined" in actions or response == "no"),
            }
        )
    return out


def signal_kinds(view: CallView) -> list[str]:
    return list(dict.fromkeys(str(s.get("kind")) for s in view.signals if s.get("kind")))


def outcome(view: CallView) -> Outcome:
    """Transfer or escalation → escalated; a short call the agent never spoke in → abandoned;
    then the customer's closing words (assist/qa/resolution.py): resigned ("okay, fine", 算了) →
    unresolved; content ("brilliant, that's sorted") → resolved; otherwise the agent saying they
    cannot fix it, or handing it to a ticket or a call back, → unresolved; a polite "thanks", or
    the agent saying it is fixed → resolved."""
    agent = view.said_by("agent")
    if view.ended is not None and not agent and view.duration_s < ABANDONED_S:
        return "abandoned"
    reason = str(view.ended.get("reason") or "") if view.ended is not None else ""
    if "escalation" in signal_kinds(view) or "transfer" in reason or _said(view, _TRANSFERS):
        return "escalated"
    close = closing(view).close
    if close == "resigned":
        return "unresolved"
    if close == "content":
        return "resolved"
    if could_not_fix(view) is not None or deferred(view) is not None:
        return "unresolved"
    if close == "polite" or _said(view, _RESOLVED):
        return "resolved"
    return "unresolved"


def verified(view: CallView) -> bool:
    """Whether the agent asked an identity question (the default scorecard's verification phrases)."""
    checks = [item.phrases for item in default_scorecard().items if item.rule == "before"]
    phrases = checks[0] if checks else PhraseSet()
    return any(phrases.search(u.normalized, view.language) for u in view.said_by("agent"))


def mood(view: CallView) -> str:
    """How the customer feels: from the signals raised and the last few customer utterances."""
    kinds = {str(s.get("kind")): str(s.get("severity") or "") for s in view.signals}
    notes = []
    if "escalation" in kinds:
        notes.append("asked to escalate")
    if "churn" in kinds:
        notes.append("mentioned leaving")
    level = ""
    if "escalation" in kinds or kinds.get("dissatisfaction") == "high":
        level = "very unhappy"
    elif notes or "dissatisfaction" in kinds:
        level = "unhappy"
    recent = view.said_by("customer")[-3:]
    now = max((utterance_dissatisfaction(u.text, view.language) for u in recent), default=0.0)
    positive = any(lexicon_score(u.text, "positive", view.language)[0] > 0 for u in recent)
    if level and now < 0.2 and positive:
        level = f"was {level}, calmer now"
    elif not level:
        level = "unhappy" if now >= 0.5 else "slightly negative" if now >= 0.2 else "positive" if positive else "calm"
    return f"{level} ({', '.join(notes)})" if notes else level


def caller_label(caller: Mapping[str, Any]) -> str | None:
    """'Sarah Thompson (vip, 9 years, Unlimited Max)', or None when the caller is unknown."""
    details = [str(caller.get("segment") or "")]
    if caller.get("tenure_years"):
        details.append(f"{float(caller['tenure_years']):g} years")
    if caller.get("plan"):
        details.append(str(caller["plan"]))
    details = [d for d in details if d]
    name = str(caller.get("name") or "").strip()
    if not name and not details:
        return None
    return f"{name or 'known caller'} ({', '.join(details)})" if details else name


# -- the summary -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallSummary:
    call_id: str | None
    agent_id: str | None
    language: str
    live: bool  # no call_ended yet
    duration_s: float
    caller: str | None  # name and segment, when the directory knew the number
    reasons: list[dict[str, str]]  # {intent, title}, best first
    request: str | None  # what the customer said when stating the problem
    cards_used: list[dict[str, str]]  # {card_id, title}
    actions: list[dict[str, Any]]  # {utterance_id, start_s, text}: what the agent said it did
    offers: list[dict[str, Any]]  # {offer_id, card_id, title, made, accepted, declined}
    signals: list[str]  # kinds, in order of first appearance
    outcome: Outcome
    follow_ups: list[dict[str, Any]]  # {utterance_id, start_s, text}: promises still open
    verified: bool
    mood: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _offer_state(offer: Mapping[str, Any]) -> str:
    if offer["accepted"]:
        return "accepted"
    if offer["declined"]:
        return "declined"
    return "made, no answer yet" if offer["made"] else "shown, not made"


def _render(s: CallSummary) -> str:
    """One paragraph for humans."""
    who = s.caller or "The customer"
    if s.reasons:
        opening = f"{who} called about {' and '.join(r['title'] for r in s.reasons)}."
    elif s.request:
        opening = f"{who} called saying {_quote(s.request)}."
    else:
        opening = f"{who} called about an unidentified reason."
    parts = [opening]
    done = [f"used {', '.join(_quote(c['title']) for c in s.cards_used)}"] if s.cards_used else []
    if s.actions:
        done.append(f"said {'; '.join(_quote(a['text'], 100) for a in s.actions[:3])}")
    parts.append(f"The agent {' and '.join(done)}." if done else "No action was recorded.")
    for offer in s.offers:
        parts.append(f"Offer {offer['title']}: {_offer_state(offer)}.")
    if s.signals:
        parts.append(f"Signals: {', '.join(s.signals)}.")
    parts.append(f"Identity {'checked' if s.verified else 'not checked'}; customer mood: {s.mood}.")
    parts.append(f"Outcome: {s.outcome}{' so far (call in progress)' if s.live else ''}.")
    if s.follow_ups:
        parts.append(f"Follow-up: {'; '.join(_quote(f['text'], 100) for f in s.follow_ups)}.")
    return " ".join(parts)


def summarize(events: Iterable[Event]) -> CallSummary:
    """Summarise a call from its events in order (a live call's events so far are fine)."""
    view = call_view(events)
    problem = problem_utterance(view)
    summary = CallSummary(
        call_id=view.call_id,
        agent_id=view.agent_id,
        language=view.language,
        live=view.ended is None,
        duration_s=round(view.duration_s, 2),
        caller=caller_label(view.caller),
        reasons=reasons(view),
        request=_clip(problem.text, 200) if problem else None,
        cards_used=cards_used(view),
        actions=[_brief(u) for u in _said(view, _ACTIONS)],
        offers=offers(view),
        signals=signal_kinds(view),
        outcome=outcome(view),
        follow_ups=[_brief(u) for u in _said(view, _FOLLOW_UPS)],
        verified=verified(view),
        mood=mood(view),
        text="",
    )
    return CallSummary(**{**asdict(summary), "text": _render(summary)})


def transfer_note(events: Iterable[Event]) -> str:
    """A short note for the next agent when the call is transferred, so the customer does not
    repeat themselves: caller, reason, what was done, verification, offers, mood."""
    s = summarize(events)
    reason = "; ".join(f"{r['intent']} ({r['title']})" for r in s.reasons) or "not identified yet"
    if s.request:
        reason += f"; customer said {_quote(s.request, 100)}"
    done = [f"used {_quote(c['title'])}" for c in s.cards_used] + [_quote(a["text"], 80) for a in s.actions[-3:]]
    offer_states = [f"{o['title']} ({_offer_state(o)})" for o in s.offers]
    parts = [
        f"Caller: {s.caller or 'unknown'}.",
        f"Reason: {reason}.",
        f"Already done: {'; '.join(done) or 'nothing yet'}.",
        f"Verified: {'yes' if s.verified else 'no'}.",
        f"Offers: {', '.join(offer_states) or 'none'}.",
        f"Mood: {s.mood}.",
    ]
    if s.follow_ups:
        parts.append(f"Promised: {'; '.join(_quote(f['text'], 160) for f in s.follow_ups)}.")
    return " ".join(parts)
