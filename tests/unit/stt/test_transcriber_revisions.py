"""Finals are never held back by a slow decode: a final that still looks wrong is published at
once and revised in place when a decode on the whole window disagrees (fake engine, scripted VAD)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pytest

from assist.events import FinalTranscript, TranscriptEvent
from assist.stt.cpu import describe_cpu
from assist.stt.engine import DecodedWord, DecodeItem, DecodeOutput, EngineOptions, WhisperEngine
from assist.stt.policy import EndpointOptions
from assist.stt.scheduler import DecodeScheduler
from assist.stt.transcriber import CallTranscriber, SttService, SttSettings
from tests.unit.stt.test_stream import RATE_HZ, LoudnessVad, _call

WAIT_S = 10.0


class ScriptedEngine(WhisperEngine):
    """Answers each purpose with a scripted output; the revision can be held until released."""

    def __init__(self, final: DecodeOutput, revision: DecodeOutput) -> None:
        self.name = "tiny.en"
        self.multilingual = False
        self.options = EngineOptions()
        self.final, self.revision = final, revision
        self.purposes: list[str] = []
        self.release_revision = threading.Event()

    def decode(self, items: Sequence[DecodeItem]) -> list[DecodeOutput]:
        outputs = []
        for item in items:
            self.purposes.append(item.purpose)
            if item.purpose == "revision":
                assert self.release_revision.wait(WAIT_S)
                outputs.append(self.revision)
            elif item.purpose == "final":
                outputs.append(self.final)
            else:
                outputs.append(DecodeOutput("interim text", -0.2, 0.0, 4.0, non_speech=False))
        return outputs


class FakeService(SttService):
    """The real service around a scripted engine and VAD: no model is loaded."""

    def __init__(self, engine: ScriptedEngine) -> None:
        self.settings = SttSettings(calibrate=False)
        self.vad = LoudnessVad()
        self._engines = {"tiny.en": engine}
        self.cpu = describe_cpu()
        self.calibration = None
        self.endpoint = EndpointOptions()
        self.scheduler = DecodeScheduler(self._engines, workers=1)


def _output(text: str, anomaly: str | None, padded_s: float) -> DecodeOutput:
    return DecodeOutput(text, -0.3, 0.01, padded_s, non_speech=False, anomaly=anomaly)


async def _speak(engine: ScriptedEngine) -> tuple[FakeService, CallTranscriber]:
    """A call whose customer says one 1.5 s utterance (pushed, not yet finished)."""
    service = FakeService(engine)
    call = service.new_call("c1", clock=lambda: 0.0)
    audio = _call(silence_s=0.5, burst_s=1.5, tail_s=1.0)
    for begin in range(0, len(audio), RATE_HZ // 10):
        await call.push("customer", audio[begin : begin + RATE_HZ // 10])
    return service, call


async def _finish(call: CallTranscriber) -> list[TranscriptEvent]:
    await call.finish()
    events = []
    while not call.events.empty():
        events.append(call.events.get_nowait())
    return events


async def _events_until(call, predicate, events: list[TranscriptEvent]) -> None:
    import asyncio

    async def wait() -> None:
        while not predicate(events):
            events.append(await call.events.get())

    await asyncio.wait_for(wait(), WAIT_S)


@pytest.mark.parametrize("anomaly", ["repetition", "too_many_tokens"])
async def test_a_looping_final_is_published_at_once_then_revised_in_place(anomaly: str) -> None:
    engine = ScriptedEngine(_output("savings savings", anomaly, 10.0), _output("my savings account", None, 30.0))
    service, call = await _speak(engine)
    events: list[TranscriptEvent] = []
    finals = lambda evs: [e for e in evs if isinstance(e, FinalTranscript)]  # noqa: E731
    # The final arrives while the revision is still held: nothing slow stood in its way.
    await _events_until(call, lambda evs: len(finals(evs)) == 1, events)
    assert finals(events)[0].text == "savings savings" and finals(events)[0].revision == 0
    engine.release_revision.set()
    await _events_until(call, lambda evs: len(finals(evs)) == 2, events)
    first, revised = finals(events)
    assert revised.revision == 1 and revised.text == "my savings account"
    assert (revised.speaker, revised.utterance_id) == (first.speaker, first.utterance_id)
    await call.finish()
    service.close()


async def test_a_low_confidence_final_gets_no_extra_decode() -> None:
    engine = ScriptedEngine(_output("maybe this", "low_logprob", 10.0), _output("unused", None, 30.0))
    service, call = await _speak(engine)
    events = await _finish(call)
    finals = [e for e in events if isinstance(e, FinalTranscript)]
    assert [f.text for f in finals] == ["maybe this"]
    assert "revision" not in engine.purposes and engine.purposes.count("final") == 1
    service.close()


async def test_a_revision_that_agrees_is_not_sent_again() -> None:
    first, again = _output("My savings account.", "repetition", 10.0), _output("my savings account", None, 30.0)
    engine = ScriptedEngine(first, again)
    engine.release_revision.set()
    service, call = await _speak(engine)
    events = await _finish(call)
    assert "revision" in engine.purposes
    assert [f.revision for f in events if isinstance(f, FinalTranscript)] == [0]
    service.close()


Script = list[tuple[str, int, float]]  # (word, the clause it is said in, seconds into that clause)


class TurnEngine(ScriptedEngine):
    """Clauses of equal length: each decoded alone as ``alone`` says; decoded together, the next
    of ``joined`` ((clauses in the decode, words) per decode)."""

    def __init__(self, alone: list[str], *joined: tuple[int, Script], anomaly: str | None = None) -> None:
        super().__init__(_output("", None, 10.0), _output("", None, 30.0))
        self.alone, self.joined, self.anomaly = iter(alone), iter(joined), anomaly

    def decode(self, items: Sequence[DecodeItem]) -> list[DecodeOutput]:
        outputs = []
        for item in items:
            self.purposes.append(item.purpose)
            if item.purpose == "final":
                outputs.append(_output(next(self.alone, "?"), None, 10.0))
            elif item.purpose == "turn":
                parts, script = next(self.joined)
                part_s = item.audio_s / parts
                words = tuple(
                    DecodedWord(w, part * part_s + at, part * part_s + at + 0.1, 0.9) for w, part, at in script
                )
                text = " ".join(w.text for w in words)
                outputs.append(DecodeOutput(text, -0.2, 0.01, 30.0, False, self.anomaly, words))
            else:
                outputs.append(DecodeOutput("", -0.2, 0.0, 4.0, non_speech=True))
        return outputs


async def _clauses(
    engine: ScriptedEngine,
    language: str,
    revise_turns: tuple[str, ...] = ("zh",),
    revise_windows: tuple[str, ...] = (),
    clauses: int = 2,
    max_revision_backlog: int = 8,
) -> list[FinalTranscript]:
    """A customer says ``clauses`` clauses 0.45 s apart, then stops; the call ends. Its finals."""
    service = FakeService(engine)
    service._engines["base"] = engine
    service.settings = SttSettings(
        calibrate=False,
        revise_turns=revise_turns,
        revise_windows=revise_windows,
        max_revision_backlog=max_revision_backlog,
    )
    call = service.new_call(f"{language}-1", language=language, clock=lambda: 0.0)
    said = [_call(0.5, 1.2, 0.0, seed=1)] + [_call(0.45, 1.2, 0.0, seed=2 + n) for n in range(clauses - 2)]
    audio = np.concatenate([*said, _call(0.45, 1.2, 2.0, seed=clauses)])
    for begin in range(0, len(audio), RATE_HZ // 10):
        await call.push("customer", audio[begin : begin + RATE_HZ // 10])
    events = [e for e in await _finish(call) if isinstance(e, FinalTranscript)]
    # Nothing published is kept once no turn can revise it any more (revised or dropped).
    assert call._latest == {} and call._revising == set()
    service.close()
    return events


async def test_a_mandarin_turn_is_decoded_again_as_a_whole_and_each_clause_revised_in_place() -> None:
    joined = [("喂，", 0, 0.2), ("你好。", 0, 0.5), ("我想问一下", 1, 0.1), ("我的账单。", 1, 0.6)]
    engine = TurnEngine(["你好", "我想问一下我的单"], (2, joined))
    finals = await _clauses(engine, "zh")
    assert [(f.utterance_id, f.revision, f.text) for f in finals if f.revision == 0] == [
        (0, 0, "你好"),
        (1, 0, "我想问一下我的单"),
    ]
    revised = {f.utterance_id: f for f in finals if f.revision == 1}
    assert revised[0].text == "喂，你好。" and revised[1].text == "我想问一下我的账单。"
    assert engine.purposes.count("turn") == 1  # one decode for the turn
    first = next(f for f in finals if f.utterance_id == 1 and f.revision == 0)
    assert (revised[1].start_s, revised[1].end_s) == (first.start_s, first.end_s)  # replaces it in place


SAID = [("I", 0, 0.2), ("tried", 0, 0.4), ("the", 0, 0.6), ("ATM.", 0, 0.8)]
SAID += [("It", 1, 0.2), ("kept", 1, 0.4), ("my", 1, 0.6), ("bank", 1, 0.7), ("card.", 1, 0.8)]


async def test_english_turns_of_clauses_ended_by_pauses_are_not_decoded_again_as_turns() -> None:
    engine = TurnEngine(["I tried the ATM.", "It kept my card"], (2, SAID))
    finals = await _clauses(engine, "en")
    assert [f.revision for f in finals] == [0, 0]
    assert "turn" not in engine.purposes


async def test_english_turn_revisions_when_configured_keep_the_spaces_between_words() -> None:
    engine = TurnEngine(["I tried the ATM.", "It kept my card"], (2, SAID))
    finals = await _clauses(engine, "en", revise_turns=("en",))
    revised = [f for f in finals if f.revision == 1]
    assert [(f.utterance_id, f.text) for f in revised] == [(1, "It kept my bank card.")]


async def test_a_window_the_decoder_ended_early_is_decoded_again_from_where_it_stopped() -> None:
    """Whisper stops part way through a window (here after the first clause): the clauses it
    left without words keep their finals until a decode of the rest hears them."""
    first: Script = [("Hi,", 0, 0.2), ("I", 0, 0.5), ("tried", 0, 0.8)]
    rest: Script = [("the", 0, 0.2), ("ATM.", 0, 0.6), ("It", 1, 0.2), ("kept", 1, 0.4), ("my", 1, 0.6)]
    rest += [("bank", 1, 0.7), ("card.", 1, 0.8)]
    engine = TurnEngine(["Hi I tried", "the 80M", "It kept my card"], (3, first), (2, rest))
    finals = await _clauses(engine, "en", revise_windows=("en",), clauses=3)
    assert engine.purposes.count("turn") == 2  # the window, then the two clauses it left
    revised = {f.utterance_id: f.text for f in finals if f.revision == 1}
    # The first clause, the only one heard before the stop, may have been cut short: it stands.
    assert revised == {1: "the ATM.", 2: "It kept my bank card."}


async def test_a_window_is_shed_when_the_decoders_are_behind_and_its_finals_stand() -> None:
    engine = TurnEngine(["I tried the ATM.", "It kept my card"], (2, SAID))
    finals = await _clauses(engine, "en", revise_windows=("en",), max_revision_backlog=0)  # always behind
    assert [(f.revision, f.text) for f in finals] == [(0, "I tried the ATM."), (0, "It kept my card")]
    assert "turn" not in engine.purposes  # and nothing is left held (checked in _clauses)


SENTENCE = ["I", "would", "like", "to", "reset", "my", "password."]
RESET: Script = [("Hello.", 0, 0.0)] + [(w, clause, 0.1 + 0.1 * n) for clause in (0, 1) for n, w in enumerate(SENTENCE)]


@pytest.mark.parametrize(
    ("alone", "revised"),
    [
        # Said twice, heard twice by the fast finals: the speaker repeated themselves.
        (
            ["Hi. I would like to reset my password.", "I would like to reset my password."],
            {0: "Hello. I would like to reset my password."},
        ),
        # Twice in the finals but not the whole phrase twice: the window is not trusted.
        (["Hi. I would like to reset my pass word.", "I would like to reset my password"], {}),
        # Said once: the window's second copy is a decoder loop, and the fast finals stand.
        (["Hi. I would like to", "reset my pass word."], {}),
    ],
)
async def test_a_window_that_repeats_a_sentence_is_kept_only_where_the_finals_heard_it_twice(
    alone: list[str], revised: dict[int, str]
) -> None:
    engine = TurnEngine(alone, (2, RESET), anomaly="repetition")
    finals = await _clauses(engine, "en", revise_windows=("en",))
    assert {f.utterance_id: f.text for f in finals if f.revision == 1} == revised
