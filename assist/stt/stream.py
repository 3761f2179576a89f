"""One speaker's 16 kHz audio → VAD → utterance policy → decode requests (synchronous, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from assist.audio.vad import RATE_HZ, SileroVad
from assist.events import Speaker
from assist.stt.policy import (
    Decision,
    EndpointOptions,
    EndReason,
    InterimDue,
    UtteranceEnded,
    UtterancePolicy,
)

IDLE_KEEP_S = 1.0  # audio kept while nobody speaks: enough for the pre-roll of the next onset


@dataclass(frozen=True, slots=True)
class DecodeRequest:
    kind: Literal["interim", "final"]
    speaker: Speaker
    utterance_id: int
    audio: npt.NDArray[np.float32]
    start_s: float
    end_s: float  # end of the audio handed to the decoder
    speech_end_s: float  # end of detected speech (finals); == end_s for interims
    trigger_s: float  # stream position when the request was made
    revision: int  # increases with every request of the stream: later beats earlier
    reason: EndReason | None = None


class SpeakerStream:
    """Holds one speaker's recent audio and turns VAD decisions into decode requests."""

    def __init__(self, speaker: Speaker, vad: SileroVad, options: EndpointOptions | None = None):
        self.speaker = speaker
        self._vad = vad.stream()
        self._policy = UtterancePolicy(options)
        self._buffer = np.zeros(0, dtype=np.float32)
        self._buffer_start = 0  # stream sample index of _buffer[0]
        self._revision = 0
        self.received_samples = 0

    @property
    def position_s(self) -> float:
        return self.received_samples / RATE_HZ

    @property
    def speaking(self) -> bool:
        """An utterance is open (speech heard and not yet ended)."""
        return self._policy.in_speech

    def process(self, samples: npt.NDArray[np.float32]) -> list[DecodeRequest]:
        self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
        self.received_samples += len(samples)
        requests: list[DecodeRequest] = []
        for prob in self._vad.process(samples):
            requests.extend(self._requests(self._policy.step(float(prob))))
        self._trim()
        return requests

    def split(self, utterance_id: int, at_s: float, *, require_pause: bool = False) -> list[DecodeRequest]:
        """A sentence ended inside the utterance in progress (see ``UtterancePolicy.split``):
        its final request, if the cut is still possible."""
        return self._requests(self._policy.split(utterance_id, int(at_s * RATE_HZ), require_pause=require_pause))

    def finish(self) -> list[DecodeRequest]:
        """End of stream: the tail of an utterance in progress becomes a final."""
        return self._requests(self._policy.finish(self.received_samples))

    def _requests(self, decisions: list[Decision]) -> list[DecodeRequest]:
        requests = []
        trigger_s = self._policy.position_sample / RATE_HZ
        for decision in decisions:
            if isinstance(decision, InterimDue):
                requests.append(
                    self._request(
                        "interim",
                        decision.utterance_id,
                        decision.start_sample,
                        decision.end_sample,
                        decision.end_sample,
                        trigger_s,
                        None,
                    )
                )
            elif isinstance(decision, UtteranceEnded):
                requests.append(
                    self._request(
                        "final",
                        decision.utterance_id,
                        decision.start_sample,
                        decision.end_sample,
                        decision.speech_end_sample,
                        min(trigger_s, self.position_s),
                        decision.reason,
                    )
                )
        return requests

    def _request(
        self,
        kind: Literal["interim", "final"],
        utterance_id: int,
        start: int,
        end: int,
        speech_end: int,
        trigger_s: float,
        reason: EndReason | None,
    ) -> DecodeRequest:
        end = min(end, self.received_samples)
        audio = self._buffer[max(0, start - self._buffer_start) : end - self._buffer_start].copy()
        self._revision += 1
        return DecodeRequest(
            kind=kind,
            speaker=self.speaker,
            utterance_id=utterance_id,
            audio=audio,
            start_s=start / RATE_HZ,
            end_s=end / RATE_HZ,
            speech_end_s=min(speech_end, end) / RATE_HZ,
            trigger_s=max(trigger_s, end / RATE_HZ) if kind == "final" else end / RATE_HZ,
            revision=self._revision,
            reason=reason,
        )

    def _trim(self) -> None:
        open_start = self._policy.open_start_sample
        keep_from = open_start if open_start is not None else max(0, self.received_samples - int(IDLE_KEEP_S * RATE_HZ))
        drop = keep_from - self._buffer_start
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._buffer_start = keep_from
