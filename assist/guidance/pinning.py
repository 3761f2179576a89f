"""Which knowledge card is the pinned answer: one card the agent can rely on, not a feed.

The suggestion policy decides *whether* a card is worth showing; this decides its *place*. The
first card pins. A later card takes the pin only when it is clearly better: surer than the
pinned one by a margin, or, once the pinned answer has had time to be used, a strong match for
another topic (the customer moved on). Everything else is kept as a one-line "also" under the
pin. An agent's "not useful" unpins at once. Pure logic: no I/O, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class PinOptions:
    margin: float = 0.10  # surer than the pinned card by this much: clearly better
    strong: float = 0.72  # a match this sure can be a new topic ...
    settle_s: float = 15.0  # ... once the pinned answer has been up this long


@dataclass(slots=True)
class _Pinned:
    card_id: str
    intent: str
    confidence: float
    since_s: float


@dataclass
class PinBoard:
    options: PinOptions = field(default_factory=PinOptions)
    pinned: _Pinned | None = None

    @property
    def intent(self) -> str | None:
        """The current topic: the pinned answer's intent."""
        return self.pinned.intent if self.pinned else None

    def place(self, card: dict[str, Any], at_s: float) -> dict[str, Any]:
        """The card with its place: ``pinned`` (and ``replaces``, the card it unpins) or not."""
        confidence = float(card.get("confidence") or 0.0)
        current = self.pinned
        if current is None or self._takes_pin(current, card, confidence, at_s):
            self.pinned = _Pinned(str(card["card_id"]), str(card.get("intent") or ""), confidence, at_s)
            return {**card, "pinned": True, "replaces": current.card_id if current else None}
        return {**card, "pinned": False, "replaces": None}

    def _takes_pin(self, current: _Pinned, card: dict[str, Any], confidence: float, at_s: float) -> bool:
        if confidence >= current.confidence + self.options.margin:
            return True
        new_topic = card.get("intent") != current.intent
        settled = at_s - current.since_s >= self.options.settle_s
        from_final = bool((card.get("trigger") or {}).get("final", True))
        return new_topic and settled and from_final and confidence >= self.options.strong

    def on_feedback(self, card_id: str, action: str) -> bool:
        """True when the feedback unpinned the card (the next good match pins)."""
        if self.pinned is not None and self.pinned.card_id == card_id and action in ("dismissed", "not_helpful"):
            self.pinned = None
            return True
        return False
