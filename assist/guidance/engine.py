"""Guidance for a process (the loaded knowledge base, offers, directory) and for each call.

``GuidanceService`` loads everything once and can ``reload()`` the knowledge base from disk
without a restart (the new index is built aside, then swapped in: calls in progress keep
working). ``CallGuidance`` turns one call's transcript events into suggestion, offer and
signal messages. Its methods block (embedding a query takes milliseconds): the session calls
them from a worker thread.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assist.guidance.offers import Offer, OfferPolicy, load_offers
from assist.guidance.pinning import PinBoard
from assist.guidance.profiles import CustomerDirectory, CustomerProfile
from assist.guidance.signals import SignalTracker
from assist.guidance.suggestions import SuggestionOptions, SuggestionPolicy
from assist.knowledge.corpus import KnowledgeBase, load_kb
from assist.knowledge.embed import EncoderSet
from assist.knowledge.index import build_index
from assist.knowledge.search import Matcher, MatchOptions

log = logging.getLogger(__name__)
Message = dict[str, Any]


@dataclass
class _Loaded:
    kb: KnowledgeBase
    matcher: Matcher
    offers: list[Offer]
    directory: CustomerDirectory
    mtime: float
    loaded_at: float = field(default_factory=time.time)


def _latest_mtime(root: Path) -> float:
    paths = [root, *root.rglob("*")]
    return max((p.stat().st_mtime for p in paths if p.exists()), default=0.0)


class GuidanceService:
    def __init__(
        self,
        kb_dir: Path,
        cache_dir: Path | None,
        *,
        options: MatchOptions | None = None,
        encoders: EncoderSet | None = None,
    ) -> None:
        self.kb_dir = Path(kb_dir)
        self.cache_dir = cache_dir
        self.options = options or MatchOptions()
        self.encoders = encoders or EncoderSet()
        self._lock = threading.Lock()
        self._current = self._load()

    def _load(self) -> _Loaded:
        mtime = _latest_mtime(self.kb_dir)
        kb = load_kb(self.kb_dir)  # raises KnowledgeError with file:line for every mistake
        options = self.options
        if kb.match_threshold is not None:
            options = dataclasses.replace(options, threshold=kb.match_threshold)
        matcher = Matcher(build_index(kb, self.encoders, self.cache_dir), self.encoders, options)
        offers = load_offers(self.kb_dir / "offers.yaml")
        directory = CustomerDirectory.from_csv(self.kb_dir / "customers.csv")
        for language in sorted({a.language for a in kb.articles}):
            matcher.rank("warm up", language=language)  # first inference of each encoder is slow
        log.info(
            "knowledge base %s: %d articles, %d offers, %d customers",
            kb.name,
            len(kb.articles),
            len(offers),
            len(directory),
        )
        return _Loaded(kb, matcher, offers, directory, mtime)

    @property
    def kb(self) -> KnowledgeBase:
        return self._current.kb

    @property
    def matcher(self) -> Matcher:
        return self._current.matcher

    def reload(self) -> dict[str, Any]:
        """Load the knowledge base again; on a mistake the old one stays in service."""
        with self._lock:
            fresh = self._load()
            self._current = fresh
        return self.status()

    def changed_on_disk(self) -> bool:
        return _latest_mtime(self.kb_dir) > self._current.mtime

    def status(self) -> dict[str, Any]:
        current = self._current
        return {
            "name": current.kb.name,
            "articles": len(current.kb.articles),
            "intents": len(current.kb.intents()),
            "content_hash": current.kb.content_hash,
            "offers": len(current.offers),
            "customers": len(current.directory),
            "loaded_at": current.loaded_at,
        }

    def intent_of(self, text: str, language: str) -> str | None:
        """The intent of the article a final saying this would put on screen (the threshold the
        live cards use), None when nothing would show. For reading a call again after it ended."""
        hits = self._current.matcher.match(text, language=language, k=1)
        return hits[0].article.intent if hits else None

    def lookup(self, number: str | None) -> CustomerProfile | None:
        return self._current.directory.lookup(number)

    def new_call(self, *, language: str, caller_number: str | None) -> CallGuidance:
        current = self._current  # a reload mid-call does not change this call's view
        return CallGuidance(current.matcher, current.offers, current.directory.lookup(caller_number), language)


class CallGuidance:
    def __init__(
        self,
        matcher: Matcher,
        offers: list[Offer],
        profile: CustomerProfile | None,
        language: str,
        options: SuggestionOptions | None = None,
    ) -> None:
        self.language = language
        self.profile = profile
        opts = options or SuggestionOptions(threshold=matcher.options.threshold)
        self.suggestions = SuggestionPolicy(lambda q: matcher.rank(q, language=language, k=3), opts)
        self.offers = OfferPolicy(offers, profile, language)
        self.signals = SignalTracker(language)
        self.pins = PinBoard()
        self._last_mood: tuple[str, int, str | None, int] = ("calm", 0, None, 0)
        self._lock = threading.Lock()

    def on_transcript(self, message: Message) -> list[Message]:
        kind, speaker, text = message.get("type"), message.get("speaker"), message.get("text") or ""
        if kind not in ("interim", "final") or not text:
            return []
        with self._lock:
            if kind == "interim":
                self.signals.on_activity(float(message["end_s"]))
                if speaker != "customer":
                    return []
                cards = self._placed(
                    self.suggestions.on_customer(
                        text, utterance_id=int(message["utterance_id"]), final=False, end_s=float(message["end_s"])
                    )
                )
                return cards + self._offers_for(cards)
            out: list[Message] = []
            for alert in self.signals.on_final(str(speaker), text, float(message["start_s"]), float(message["end_s"])):
                out.append(alert)
                if alert["kind"] in ("churn", "dissatisfaction"):
                    trigger = "churn" if alert["kind"] == "churn" else "dissatisfied"
                    out += self.offers.on_trigger(trigger, reason=alert["title"])
            if speaker == "customer":
                cards = self._placed(
                    self.suggestions.on_customer(
                        text, utterance_id=int(message["utterance_id"]), final=True, end_s=float(message["end_s"])
                    )
                )
                out += cards + self._offers_for(cards)
                out += self._mood(float(message["end_s"]))
            return out

    def _placed(self, cards: list[Message]) -> list[Message]:
        return [self.pins.place(card, float(card["at_s"])) for card in cards]

    def _mood(self, at_s: float) -> list[Message]:
        """How the customer sounds, and the topic: the sidebar's indicator, the supervisor's row.
        Sent when it changes (a page starts from calm, no topic)."""
        level = self.signals.level
        trend = self.signals.history[-8:]
        direction = (
            0 if len(trend) < 2 else (1 if trend[-1] > trend[-2] + 0.02 else -1 if trend[-1] < trend[-2] - 0.02 else 0)
        )
        label = (
            "upset"
            if level >= self.signals.options.dissatisfaction_high
            else ("uneasy" if level >= self.signals.options.dissatisfaction_alert * 0.6 else "calm")
        )
        key = (label, direction, self.pins.intent, round(level / 0.05))
        if key == self._last_mood:
            return []
        self._last_mood = key
        return [
            {
                "type": "mood",
                "level": round(level, 3),
                "label": label,
                "direction": direction,  # 1 worsening, -1 improving, 0 steady
                "trend": trend,
                "intent": self.pins.intent,
                "at_s": round(at_s, 2),
            }
        ]

    def _offers_for(self, cards: list[Message]) -> list[Message]:
        out: list[Message] = []
        for card in cards:
            out += self.offers.on_trigger(str(card["intent"]), reason=f"customer asked: {card['title']}")
        return out

    def tick(self, now_s: float) -> list[Message]:
        with self._lock:
            return self.signals.tick(now_s)

    def on_feedback(self, card_id: str, action: str, at_s: float) -> None:
        if card_id.startswith("kb:"):
            with self._lock:
                self.suggestions.on_feedback(card_id[3:], action, at_s)
                self.pins.on_feedback(card_id, action)
