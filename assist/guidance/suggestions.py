"""When to show a knowledge card, and when to stay silent. Pure logic around a ranking function.

- Triggered by customer finals, and by interims that are long and confident enough (so the
  card can appear while the customer is still finishing the sentence).
- A short utterance ("my debit card") is matched together with the previous customer turn.
- Never repeats a card already on screen; a dismissed or expired card stays away for a
  cooldown; at most ``max_cards`` on screen; at most one new card per utterance.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from assist.knowledge.search import Hit

Rank = Callable[[str], list[Hit]]


@dataclass(frozen=True, slots=True)
class SuggestionOptions:
    threshold: float = 0.55  # the matcher's calibrated no-match line
    interim_threshold: float = 0.75  # an interim must be surer than a final
    interim_min_words: int = 5
    short_query_words: int = 5  # shorter finals are matched with the previous customer turn
    context_window_s: float = 30.0
    max_cards: int = 3
    cooldown_s: float = 90.0


@dataclass
class _Turn:
    text: str
    end_s: float


@dataclass
class SuggestionPolicy:
    rank: Rank
    options: SuggestionOptions = field(default_factory=SuggestionOptions)
    on_screen: list[str] = field(default_factory=list)  # article ids, oldest first
    away_until: dict[str, float] = field(default_factory=dict)  # article id → call time
    turns: list[_Turn] = field(default_factory=list)
    tried_interims: set[tuple[int, str]] = field(default_factory=set)

    def on_customer(self, text: str, *, utterance_id: int, final: bool, end_s: float) -> list[dict[str, Any]]:
        words = text.split()
        if not final:
            if len(words) < self.options.interim_min_words or (utterance_id, text) in self.tried_interims:
                return []
            self.tried_interims.add((utterance_id, text))
            return self._suggest([text], text, utterance_id, end_s, self.options.interim_threshold, final)
        queries = [text]
        previous = self.turns[-1] if self.turns else None
        if (
            previous
            and len(words) < self.options.short_query_words
            and end_s - previous.end_s <= self.options.context_window_s
        ):
            queries.insert(0, f"{previous.text} {text}")
        self.turns.append(_Turn(text, end_s))
        return self._suggest(queries, text, utterance_id, end_s, self.options.threshold, final)

    def _suggest(
        self, queries: list[str], trigger: str, utterance_id: int, at_s: float, threshold: float, final: bool
    ) -> list[dict[str, Any]]:
        started = time.perf_counter()
        best: Hit | None = None
        for query in queries:
            for hit in self.rank(query)[:1]:
                if best is None or hit.confidence > best.confidence:
                    best = hit
        if best is None or best.confidence < threshold:
            return []  # nothing useful to say
        article = best.article
        if article.id in self.on_screen or self.away_until.get(article.id, -1.0) > at_s:
            return []
        self.on_screen.append(article.id)
        if len(self.on_screen) > self.options.max_cards:
            expired = self.on_screen.pop(0)
            self.away_until[expired] = at_s + self.options.cooldown_s
        match_ms = (time.perf_counter() - started) * 1000
        return [card(best, trigger, utterance_id, at_s, final, match_ms=match_ms)]

    def on_feedback(self, article_id: str, action: str, at_s: float) -> None:
        if action == "dismissed" and article_id in self.on_screen:
            self.on_screen.remove(article_id)
            self.away_until[article_id] = at_s + self.options.cooldown_s


def card(
    hit: Hit, trigger: str, utterance_id: int, at_s: float, final: bool, *, match_ms: float | None = None
) -> dict[str, Any]:
    """A suggestion message; ``match_ms`` is the time the knowledge matcher took for it."""
    article = hit.article
    confidence = round(hit.confidence, 3)
    message: dict[str, Any] = {
        "type": "suggestion",
        "card_id": f"kb:{article.id}",
        "article_id": article.id,
        "intent": article.intent,
        "title": article.title,
        "answer": article.answer,
        "confidence": confidence,
        "source": {"title": article.title, "url": article.source} if article.source else None,
        "trigger": {"text": trigger, "utterance_id": utterance_id, "final": final},
        "at_s": round(at_s, 2),
        # The same card as a Genesys AudioHook agent-assist entity.
        "agentassist": {
            "id": str(uuid.uuid4()),
            "suggestions": [
                {
                    "type": "article",
                    "id": article.id,
                    "confidence": confidence,
                    "title": article.title,
                    "excerpts": [article.answer],
                    "documentUri": article.source or "",
                    "metadata": {"intent": article.intent},
                }
            ],
        },
    }
    if match_ms is not None:
        message["match_ms"] = round(match_ms, 2)
    return message
