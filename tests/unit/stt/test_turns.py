"""Turn revisions as pure logic: which finals make a turn, when it is due, and which clause
each word of the joined decode goes back to."""

from __future__ import annotations

import numpy as np
import pytest

from assist.stt.engine import DecodedWord
from assist.stt.turns import (
    Clause,
    TurnCollector,
    TurnOptions,
    joined_audio,
    settled_prefix,
    words_per_clause,
    words_per_clause_by_text,
)


def clause(uid: int, start_s: float, end_s: float, *, cut: bool = False) -> Clause:
    audio = np.full(int((end_s - start_s) * 16_000), uid, dtype=np.float32)
    return Clause(uid, start_s, end_s, audio, f"clause {uid}", cut=cut)


def test_clauses_a_short_pause_apart_are_one_turn_due_once_the_speaker_is_quiet() -> None:
    turns = TurnCollector(TurnOptions(join_gap_s=0.8, end_after_s=0.6))
    turns.add(clause(0, 0.0, 1.5))
    turns.add(clause(1, 1.9, 3.0))  # 0.4 s comma pause
    assert turns.due(3.3, speaking=False, finals_pending=0) == []  # not quiet long enough
    assert turns.due(4.0, speaking=True, finals_pending=0) == []  # speaking again
    assert turns.due(4.0, speaking=False, finals_pending=1) == []  # a final of the turn is still decoding
    [turn] = turns.due(4.0, speaking=False, finals_pending=0)
    assert [c.utterance_id for c in turn] == [0, 1]
    assert turns.due(9.0, speaking=False, finals_pending=0) == []  # once only


def test_a_clause_after_a_long_pause_closes_the_turn_and_single_clauses_are_left_alone() -> None:
    turns = TurnCollector()
    turns.add(clause(0, 0.0, 1.0))
    turns.add(clause(1, 1.3, 2.0))
    turns.add(clause(2, 6.0, 7.0))  # the next turn
    [turn] = turns.due(7.1, speaking=True, finals_pending=0)
    assert [c.utterance_id for c in turn] == [0, 1]
    assert turns.due(9.0, speaking=False, finals_pending=0) == []  # one clause: decoded whole already
    turns.add(clause(3, 9.5, 10.0))
    turns.add(clause(4, 10.2, 11.0))
    assert [[c.utterance_id for c in t] for t in turns.flush()] == [[3, 4]]


def test_long_turns_only_revises_turns_cut_inside_running_speech() -> None:
    turns = TurnCollector(TurnOptions(long_turns_only=True))
    turns.add(clause(0, 0.0, 1.5))
    turns.add(clause(1, 1.9, 3.0))  # two utterances ended by pauses: an ordinary turn
    assert turns.due(4.0, speaking=False, finals_pending=0) == []
    turns.add(clause(2, 10.0, 14.0, cut=True))  # a sentence cut while the speaker went on
    turns.add(clause(3, 14.0, 17.0))
    [turn] = turns.due(18.0, speaking=False, finals_pending=0)
    assert [c.utterance_id for c in turn] == [2, 3]
    turns.add(clause(4, 30.0, 33.0, cut=True))
    turns.add(clause(5, 33.0, 35.0))
    assert [[c.utterance_id for c in t] for t in turns.flush()] == [[4, 5]]


def test_a_turn_stays_inside_the_decoders_window() -> None:
    turns = TurnCollector(TurnOptions(max_turn_s=5.0))
    for n in range(4):
        turns.add(clause(n, 2.0 * n, 2.0 * n + 1.8))
    [first] = turns.due(7.9, speaking=True, finals_pending=0)
    assert [c.utterance_id for c in first] == [0, 1]  # the third would take it past 5 s


def test_audio_two_clauses_share_is_heard_once() -> None:
    """A sentence cut inside running speech: the next clause's pre-roll is the previous one's end."""
    turn = [clause(0, 0.0, 2.0), clause(1, 1.8, 3.0)]
    audio, boundaries, origins = joined_audio(turn)
    assert len(audio) == 3 * 16_000  # 0-3 s, the shared 0.2 s once
    assert boundaries == [0.0, 2.0] and origins[1] == pytest.approx(1.8)
    assert audio[int(2.1 * 16_000)] == 1


def test_words_go_back_to_the_clause_they_were_said_in() -> None:
    turn = [clause(0, 0.0, 1.0), clause(1, 1.4, 2.0)]
    audio, offsets, origins = joined_audio(turn)
    assert offsets == origins == [0.0, 1.0] and len(audio) == 16_000 + 9_600
    assert audio[0] == 0 and audio[-1] == 1
    said = [("你好，", 0.1, 0.6), ("我想", 0.8, 1.2), ("问一下。", 1.2, 1.5)]
    words = [DecodedWord(text, start, end, 0.9) for text, start, end in said]
    per = words_per_clause(words, offsets)
    assert [[w.text for w in ws] for ws in per] == [["你好，"], ["我想", "问一下。"]]


def test_words_follow_the_published_text_where_the_window_times_drift() -> None:
    """Whisper's times run late over a long window: by time, "Fine." would take "and" and every
    word after would move one utterance on; by text each goes back where it was said."""
    offsets = [0.0, 2.0, 2.6, 5.0]
    texts = ["I checked the app.", "Fine.", "And I'm still waiting.", "Thanks."]
    said = [("I", 0.3), ("checked", 0.6), ("the", 1.0), ("app.", 1.3), ("Fine.", 2.7), ("And", 3.1)]
    said += [("I'm", 3.4), ("still", 3.8), ("waiting.", 4.4), ("Thanks.", 5.6)]
    words = [DecodedWord(text, start, start + 0.3, 0.9) for text, start in said]
    by_time = words_per_clause(words, offsets)
    assert [w.text for w in by_time[1]] == []  # the drift: "Fine." fell into the next clause
    by_text = words_per_clause_by_text(words, offsets, texts)
    assert [[w.text for w in ws] for ws in by_text] == [
        ["I", "checked", "the", "app."],
        ["Fine."],
        ["And", "I'm", "still", "waiting."],
        ["Thanks."],
    ]


def test_words_only_the_window_heard_go_by_time_without_crossing_their_neighbours() -> None:
    offsets = [0.0, 2.0, 4.0]
    texts = ["my card was", "declined", "at the shop"]
    said = [("My", 0.1), ("card", 0.5), ("got", 2.5), ("declined", 2.9), ("at", 3.6), ("the", 4.2), ("shop", 4.6)]
    words = [DecodedWord(text, start, start + 0.3, 0.9) for text, start in said]
    per = words_per_clause_by_text(words, offsets, texts)
    # "got" matches nothing published: its time says clause 1, between "card" (0) and "declined" (1).
    assert [[w.text for w in ws] for ws in per] == [["My", "card"], ["got", "declined"], ["at", "the", "shop"]]
    late = [DecodedWord("um", 5.5, 5.8, 0.5), *words]  # a time past its matched neighbours: held back
    per = words_per_clause_by_text(late, offsets, texts)
    assert [w.text for w in per[0]] == ["um", "My", "card"]


def test_a_window_gathers_turns_until_it_holds_the_decoders_audio_and_waits_for_the_call_end() -> None:
    windows = TurnCollector(TurnOptions(windows=True, max_turn_s=10.0))
    for uid, start_s in enumerate([0.0, 5.0, 12.0, 20.0]):  # turns 3-4 s apart (the other speaker between)
        windows.add(clause(uid, start_s, start_s + 2.0))
    assert windows.due(30.0, speaking=False, finals_pending=0) == []  # 8 s held: not full, and quiet is no reason
    windows.add(clause(4, 31.0, 34.0))  # would make 11 s: the first window closes without it
    windows.add(clause(5, 35.0, 37.0))
    [window] = windows.due(37.5, speaking=True, finals_pending=0)
    assert [c.utterance_id for c in window] == [0, 1, 2, 3]
    assert windows.holds(4) and not windows.holds(3)
    assert [[c.utterance_id for c in w] for w in windows.flush()] == [[4, 5]]  # the rest at the end of the call


def test_a_decode_that_stopped_early_settles_the_clauses_before_it_and_decodes_the_rest_again() -> None:
    word = DecodedWord("x", 0.0, 0.1, 0.9)
    assert settled_prefix([[word], [word], [word]]) == (3, None)  # every clause heard
    assert settled_prefix([[word], [word], [word], [], []]) == (2, 2)  # the last heard one goes again
    assert settled_prefix([[word], [], [word], []]) == (0, 1)  # no progress from 0: start after it
    assert settled_prefix([[], [word], [word]]) == (0, 1)
    assert settled_prefix([[word], [word], []]) == (1, 1)  # the last heard one and the one it left
    assert settled_prefix([[word], [], []]) == (0, 1)
    assert settled_prefix([[], []]) == (0, None)  # one clause left: decoded alone already
