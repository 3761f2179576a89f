"""Long turns through the real speech core: a customer who runs sentences together with short
pauses gets a final per sentence (or close to it) while still talking, not one at the end."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest

from assist.bench.corpus import Monologue, render_long_turn
from assist.bench.dataset import Recording, texts_by_speaker
from assist.bench.scoring import RefSegment, score_utterances, settled_finals
from assist.bench.stt import stream_recording
from assist.bench.voices import voice
from assist.events import SPEAKERS, FinalTranscript
from assist.stt.transcriber import SttService

pytestmark = pytest.mark.model

SENTENCES = (
    "hi there's a charge on my credit card that i really don't recognise",
    "it's for two hundred and forty nine dollars from an electronics store in another state",
    "i've never shopped there and i had the card in my wallet the whole time",
    "i only noticed it this morning on the app",
    "i'd like to dispute it and get the money back if that's possible",
    "can you tell me how long the investigation usually takes",
)


@pytest.fixture(scope="module")
def long_turn() -> Recording:
    if shutil.which("flite") is None:
        pytest.fail("flite is not installed: run `make system-deps`")
    mono = Monologue("test-long-turn", "bank", "dispute charge", SENTENCES)
    audio, annotation = render_long_turn(mono, voice("rms"), voice("kal"), "test-long-turn")
    refs = [RefSegment(s["speaker"], s["start_s"], s["end_s"], s["text"]) for s in annotation["segments"]]
    stereo = np.asarray(audio, dtype=np.float32)
    return Recording("test-long-turn", stereo, SPEAKERS, refs, texts_by_speaker(refs, SPEAKERS), timed=True)


async def test_a_long_turn_gives_a_final_per_sentence_while_the_speaker_goes_on(
    stt_service: SttService, long_turn: Recording
) -> None:
    customer = [r for r in long_turn.references if r.speaker == "customer"]
    assert max(b.start_s - a.end_s for a, b in itertools.pairwise(customer)) < 0.3  # no real pause
    events = await stream_recording(stt_service, long_turn, realtime=False)
    finals = [f for f in settled_finals(events) if f.speaker == "customer" and f.text]
    # Before: one final when the speaker stopped. Now the turn is cut at sentence ends.
    assert len(finals) >= len(SENTENCES) - 2, [f.text for f in finals]
    # Most sentences' finals come while the customer is still talking.
    turn_end_s = customer[-1].end_s
    early = [f for f in finals if f.emitted_s < turn_end_s]
    assert len(early) >= len(SENTENCES) // 2
    # Nothing was lost on the way: every sentence is covered by a final.
    scores = score_utterances(long_turn.references, events)
    assert all(s.final_latency_s is not None for s in scores if s.speaker == "customer")


async def test_an_english_long_turn_is_decoded_again_in_a_window_and_revised_in_place(
    stt_service: SttService, long_turn: Recording
) -> None:
    """By default English decodes its finals again in windows of the speaker's speech (a long
    turn's sentences, each decoded alone first, together): the customer's sentences get revised
    finals, each replacing its own in place."""
    assert "en" in stt_service.settings.revise_windows and "en" not in stt_service.settings.revise_turns
    events = await stream_recording(stt_service, long_turn, realtime=False)
    finals = [e for e in events if isinstance(e, FinalTranscript)]
    revised = [f for f in finals if f.revision > 0]
    assert any(f.speaker == "customer" for f in revised)
    first = {f.utterance_id: f for f in finals if f.revision == 0}
    assert all((f.start_s, f.end_s) == (first[f.utterance_id].start_s, first[f.utterance_id].end_s) for f in revised)
