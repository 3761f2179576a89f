"""The pinned answer: the first card pins; only a clearly better card, or a strong match for a
new topic once the pin has settled, takes its place; "not useful" unpins."""

from __future__ import annotations

from typing import Any

from assist.guidance.pinning import PinBoard, PinOptions


def card(article: str, intent: str, confidence: float, *, final: bool = True) -> dict[str, Any]:
    return {"card_id": f"kb:{article}", "intent": intent, "confidence": confidence, "trigger": {"final": final}}


def test_the_first_card_pins_and_a_weaker_one_does_not_move_it() -> None:
    board = PinBoard()
    first = board.place(card("replace-card", "replace card", 0.80), at_s=10)
    assert first["pinned"] and first["replaces"] is None
    weak = board.place(card("card-delivery", "card delivery", 0.60), at_s=14)
    assert not weak["pinned"] and board.intent == "replace card"
    # Even much later, a merely likely match for another topic does not take the pin.
    assert not board.place(card("banker", "appointment", 0.66), at_s=90)["pinned"]


def test_a_clearly_better_card_takes_the_pin_at_once() -> None:
    board = PinBoard()
    board.place(card("card-delivery", "card delivery", 0.60), at_s=5)
    better = board.place(card("replace-card", "replace card", 0.74), at_s=6)
    assert better["pinned"] and better["replaces"] == "kb:card-delivery"
    assert board.intent == "replace card"


def test_a_new_topic_needs_a_strong_final_match_and_a_settled_pin() -> None:
    board = PinBoard(PinOptions(strong=0.72, settle_s=15, margin=0.10))
    board.place(card("replace-card", "replace card", 0.78), at_s=10)
    assert not board.place(card("close", "close account", 0.80), at_s=12)["pinned"], "too soon"
    assert not board.place(card("close", "close account", 0.80, final=False), at_s=40)["pinned"], "an interim"
    moved = board.place(card("close", "close account", 0.80), at_s=40)
    assert moved["pinned"] and moved["replaces"] == "kb:replace-card" and board.intent == "close account"


def test_not_useful_unpins_and_the_next_match_pins() -> None:
    board = PinBoard()
    board.place(card("replace-card", "replace card", 0.80), at_s=10)
    assert not board.on_feedback("kb:other", "dismissed")
    assert not board.on_feedback("kb:replace-card", "used")
    assert board.on_feedback("kb:replace-card", "not_helpful")
    assert board.intent is None
    assert board.place(card("card-delivery", "card delivery", 0.58), at_s=20)["pinned"]
