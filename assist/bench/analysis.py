"""From what the sockets received to measurements: per call, then per run. Pure functions.

Times are read on the client's clock and corrected by when the audio was actually sent, so a
latency is "the audio at position p left the client → the event about it arrived", whatever
the pace: at real time it is the latency an agent sees; faster, it is still the processing
delay. Server stage times come from the events' own fields (``latency_ms``, ``match_ms``,
``published_at``); per-frame stages (codec decode, resample, VAD) from the server's /metrics.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assist.bench.dataset import Recording
from assist.bench.reference import CallReference
from assist.bench.replay import CallRun
from assist.bench.scoring import TIME_TOLERANCE_S, RefSegment, error_unit, score_utterances, settled_finals, wer
from assist.events import FinalTranscript, InterimTranscript, SttTimings, TranscriptEvent
from assist.ingest.audiohook import parse_duration
from assist.qa.disposition import Disposition
from assist.stt.policy import EndpointOptions

Stats = dict[str, Any]
_NO_TIMINGS = SttTimings(0.0, 0.0, 0.0, 0.0, 1, 0.0)


def stats(values: list[float] | list[float | None]) -> Stats:
    """n, mean, p50, p95, max (None when there is nothing to measure)."""
    data = np.array([v for v in values if v is not None], dtype=float)
    if not len(data):
        return {"n": 0, "mean": None, "p50": None, "p95": None, "max": None}
    return {
        "n": len(data),
        "mean": float(data.mean()),
        "p50": float(np.percentile(data, 50)),
        "p95": float(np.percentile(data, 95)),
        "max": float(data.max()),
    }


def p95_with_lost(latencies: list[float | None]) -> float | None:
    """p95 where a lost utterance counts as infinitely late (so losing finals cannot pass);
    the same linear interpolation as ``stats``, so with nothing lost the two agree."""
    if not latencies:
        return None
    data = sorted(np.inf if v is None else float(v) for v in latencies)
    position = 0.95 * (len(data) - 1)
    below, above = data[math.floor(position)], data[math.ceil(position)]
    if math.isinf(above):
        return math.inf
    return below + (above - below) * (position - math.floor(position))


class SendClock:
    """When (seconds since the ingest socket opened) the audio at a call position was sent."""

    def __init__(self, sent: list[tuple[float, float]]) -> None:
        self._positions = [p for p, _ in sent]
        self._times = [t for _, t in sent]

    def at(self, position_s: float) -> float:
        if not self._positions:
            return position_s
        index = bisect.bisect_left(self._positions, position_s - 1e-6)
        return self._times[min(index, len(self._times) - 1)]

    def position(self, time_s: float) -> float:
        """The audio position that had been sent at ``time_s``."""
        index = bisect.bisect_right(self._times, time_s) - 1
        return self._positions[index] if index >= 0 else 0.0


@dataclass(frozen=True, slots=True)
class Card:
    intent: str | None
    received_s: float  # on the ingest clock
    at_s: float | None  # call position of the text that triggered it (None: not known)
    match_ms: float | None
    final: bool | None
    pinned: bool | None = None  # the sidebar's pinned answer (None: not said, an older server)


@dataclass
class CallMeasures:
    """Everything measured on one call (lists feed the run-wide distributions)."""

    name: str
    duration_s: float
    utterances: int = 0
    final_latency_s: list[float | None] = field(default_factory=list)  # per reference utterance
    merged: list[bool] = field(default_factory=list)  # per reference utterance: delivered with the next one
    first_text_s: list[float | None] = field(default_factory=list)
    floor_latency_s: list[float] = field(default_factory=list)  # endpoint silence + compute, same utterances
    floor_compute_s: list[float] = field(default_factory=list)
    interim_lag_s: list[float] = field(default_factory=list)  # audio sent → the interim showing it
    first_interim_s: float | None = None  # first audio sent → first interim received
    endpoint_s: list[float] = field(default_factory=list)
    queue_s: list[float] = field(default_factory=list)
    recognition_s: list[float] = field(default_factory=list)
    server_total_s: list[float] = field(default_factory=list)
    match_s: list[float] = field(default_factory=list)
    push_s: list[float] = field(default_factory=list)
    card_latency_s: float | None = None  # end of the intent utterance → the right card
    right_card: bool = False
    pinned_right: bool = False  # the right article was the pinned answer ...
    pinned_latency_s: float | None = None  # ... this long after the end of the intent utterance ...
    pinned_stayed: bool = False  # ... and no other topic took the pin afterwards
    disposition: str | None = None  # the wrap-up code proposed at the end (assist.qa.disposition)
    disposition_right: bool | None = None  # None: no code of the list covers the call's intent
    unrelated_cards: int = 0
    cards: list[Card] = field(default_factory=list)
    intents: tuple[str, ...] = ()
    hyp_texts: dict[str, str] = field(default_factory=dict)
    ref_texts: dict[str, str] = field(default_factory=dict)
    offline_texts: dict[str, str] = field(default_factory=dict)
    finals: int = 0
    sidebar_finals: int | None = None
    errors: list[str] = field(default_factory=list)
    refused: bool = False
    close_code: int | None = None

    @property
    def lost(self) -> int:
        return sum(1 for v in self.final_latency_s if v is None)

    def summary(self) -> dict[str, Any]:
        speakers = sorted(self.ref_texts)
        return {
            "call": self.name,
            "duration_s": round(self.duration_s, 2),
            "intents": list(self.intents),
            "utterances": self.utterances,
            "lost": self.lost,
            "merged": sum(self.merged),
            "final_latency_s": stats(self.final_latency_s),
            "first_text_s": stats(self.first_text_s),
            "first_interim_after_audio_s": self.first_interim_s,
            "interim_lag_s": stats(self.interim_lag_s),
            "wer": {
                sp: {
                    "streaming": wer([self.ref_texts[sp]], [self.hyp_texts.get(sp, "")]),
                    "offline": wer([self.ref_texts[sp]], [self.offline_texts[sp]])
                    if sp in self.offline_texts
                    else None,
                }
                for sp in speakers
            },
            "right_card": self.right_card,
            "card_latency_s": self.card_latency_s,
            "pinned_right": self.pinned_right,
            "pinned_latency_s": self.pinned_latency_s,
            "pinned_stayed": self.pinned_stayed,
            "disposition": self.disposition,
            "disposition_right": self.disposition_right,
            "unrelated_cards": self.unrelated_cards,
            "cards": [{"intent": c.intent, "received_s": round(c.received_s, 3), "final": c.final} for c in self.cards],
            "finals": self.finals,
            "sidebar_finals": self.sidebar_finals,
            "errors": self.errors,
            "refused": self.refused,
            "close_code": self.close_code,
        }


# -- reading the sockets ------------------------------------------------------------------------


def _rel(result_started_wall: float, at: float, origin_wall: float) -> float:
    return result_started_wall + at - origin_wall


def native_events(messages: list[tuple[float, dict[str, Any]]]) -> list[TranscriptEvent]:
    """interim/final messages → events whose ``emitted_s`` is the receive time."""
    events: list[TranscriptEvent] = []
    for at, m in messages:
        kind = m.get("type")
        if kind not in ("interim", "final") or m.get("speaker") not in ("customer", "agent"):
            continue
        common = (
            m["speaker"],
            int(m.get("utterance_id", 0)),
            float(m["start_s"]),
            float(m["end_s"]),
            m.get("text") or "",
            at,
        )
        if kind == "interim":
            events.append(InterimTranscript(*common, _NO_TIMINGS))
        else:
            confidence = float(m.get("confidence", 1.0))
            events.append(FinalTranscript(*common, _NO_TIMINGS, "en", confidence, revision=int(m.get("revision", 0))))
    return events


def audiohook_events(messages: list[tuple[float, dict[str, Any]]]) -> tuple[list[TranscriptEvent], list[Card]]:
    """AudioHook ``event`` messages → transcript events and cards (receive time as emitted_s)."""
    speakers = ("customer", "agent")  # channel 0 external, 1 internal
    events: list[TranscriptEvent] = []
    cards: list[Card] = []
    utterance_ids: dict[str, int] = {}  # transcript entity id -> utterance (a revision reuses the id)
    finals_seen: dict[int, int] = {}  # utterance -> finals so far: the next one is that revision
    for at, m in messages:
        if m.get("type") != "event":
            continue
        for entity in m.get("parameters", {}).get("entities", []):
            data = entity.get("data", {})
            if entity.get("type") == "transcript":
                start = parse_duration(data["offset"])
                end = start + parse_duration(data["duration"])
                text = data["alternatives"][0]["interpretations"][0]["transcript"]
                utterance = utterance_ids.setdefault(str(data.get("id")), len(utterance_ids))
                common = (speakers[int(data["channelId"])], utterance, start, end, text, at)
                if data.get("isFinal"):
                    revision = finals_seen.get(utterance, 0)
                    finals_seen[utterance] = revision + 1
                    events.append(
                        FinalTranscript(*common, _NO_TIMINGS, "en", 1.0, revision=revision)  # type: ignore[arg-type]
                    )
                else:
                    events.append(InterimTranscript(*common, _NO_TIMINGS))  # type: ignore[arg-type]
            elif entity.get("type") == "agentassist":
                for suggestion in data.get("suggestions", []):
                    intent = (suggestion.get("metadata") or {}).get("intent")
                    cards.append(Card(intent, at, None, None, None))
    return events, cards


def intent_utterance(refs: list[RefSegment], at_s: float) -> RefSegment | None:
    """The customer utterance a card answers: the one its trigger text lies in (or the last
    one begun before it)."""
    customer = [r for r in refs if r.speaker == "customer"]
    inside = [r for r in customer if r.start_s - TIME_TOLERANCE_S <= at_s <= r.end_s + TIME_TOLERANCE_S]
    if inside:
        return inside[-1]
    before = [r for r in customer if r.start_s <= at_s]
    return before[-1] if before else None


def floor_latency(ref: RefSegment, compute_ms: float, endpoint: EndpointOptions) -> float:
    """The least final latency streaming allows: the endpointer's silence, then the decode."""
    long = ref.end_s - ref.start_s > endpoint.soft_max_utterance_s
    silence_ms = endpoint.long_min_silence_ms if long else endpoint.min_silence_ms
    return (silence_ms + compute_ms) / 1000


def analyse_call(
    run: CallRun,
    reference: CallReference | None,
    endpoint: EndpointOptions | None = None,
    dispositions: Sequence[Disposition] = (),
) -> CallMeasures:
    endpoint = endpoint or EndpointOptions()
    rec: Recording = run.recording
    ingest = run.ingest
    origin = ingest.started_wall
    clock = SendClock(ingest.sent)
    m = CallMeasures(
        name=rec.name,
        duration_s=rec.duration_s,
        intents=rec.intents,
        ref_texts={str(k): v for k, v in rec.texts.items()},
    )
    m.errors = [run.error] if run.error else []
    m.close_code = ingest.close_code
    if reference is not None:
        m.offline_texts = dict(reference.offline)

    # Transcripts as the client received them.
    ah_cards: list[Card] = []
    if run.protocol == "audiohook":
        events, ah_cards = audiohook_events(ingest.messages)
    else:
        events = native_events(ingest.messages)
    finals = [e for e in settled_finals(events) if e.text]
    m.finals = len(finals)
    m.hyp_texts = {sp: " ".join(e.text for e in finals if e.speaker == sp) for sp in rec.speakers}
    scores = score_utterances(rec.references, events)
    m.utterances = len(scores)
    for score, ref in zip(scores, rec.references, strict=True):
        m.merged.append(score.merged)
        m.final_latency_s.append(
            None if score.final_latency_s is None else score.final_latency_s + ref.end_s - clock.at(ref.end_s)
        )
        m.first_text_s.append(
            None
            if score.first_text_latency_s is None
            else score.first_text_latency_s + ref.start_s - clock.at(ref.start_s)
        )
    if reference is not None:
        for ref, compute_ms in zip(rec.references, reference.floor_ms, strict=True):
            m.floor_compute_s.append(compute_ms / 1000)
            m.floor_latency_s.append(floor_latency(ref, compute_ms, endpoint))
    interims = [e for e in events if isinstance(e, InterimTranscript)]
    m.interim_lag_s = [e.emitted_s - clock.at(e.end_s) for e in interims]
    if interims:
        m.first_interim_s = min(e.emitted_s for e in interims) - clock.at(0.0)

    # The server's own stage times, from the agent's stream (or the native socket).
    stream = run.sidebar if run.sidebar is not None else (ingest if run.protocol == "native" else None)
    cards: list[Card] = ah_cards if stream is None else []
    if stream is not None:
        for at, message in stream.messages:
            kind = message.get("type")
            received_wall = stream.started_wall + at
            if "published_at" in message and kind != "call_started":
                m.push_s.append(max(0.0, received_wall - float(message["published_at"])))
            if kind == "final" and message.get("text"):
                latency = message.get("latency_ms") or {}
                m.endpoint_s.append(float(latency.get("endpoint", 0.0)) / 1000)
                m.queue_s.append(float(latency.get("queue", 0.0)) / 1000)
                m.recognition_s.append(float(latency.get("decode", 0.0)) / 1000)
                m.server_total_s.append(float(latency.get("total", 0.0)) / 1000)
            elif kind == "suggestion":
                match_ms = message.get("match_ms")
                if match_ms is not None:
                    m.match_s.append(float(match_ms) / 1000)
                trigger = message.get("trigger") or {}
                cards.append(
                    Card(
                        message.get("intent"),
                        _rel(stream.started_wall, at, origin),
                        float(message["at_s"]) if "at_s" in message else None,
                        match_ms,
                        trigger.get("final"),
                        message.get("pinned"),
                    )
                )
        if run.sidebar is not None:
            m.sidebar_finals = sum(1 for _, x in run.sidebar.messages if x.get("type") == "final" and x.get("text"))
    m.cards = cards

    # The right card: its intent is the call's; latency from the end of the utterance it answers.
    right = [c for c in cards if c.intent in rec.intents]
    m.right_card = bool(right)
    m.unrelated_cards = sum(1 for c in cards if c.intent not in rec.intents)
    if right:
        first = right[0]
        at_s = first.at_s if first.at_s is not None else clock.position(first.received_s)
        utterance = intent_utterance(rec.references, at_s)
        if utterance is not None:
            m.card_latency_s = first.received_s - clock.at(utterance.end_s)

    # The pinned answer: the first pin of the right article, how soon, and whether it held.
    pins = [c for c in cards if c.pinned]
    first_right = next((i for i, c in enumerate(pins) if c.intent in rec.intents), None)
    if first_right is not None:
        pin = pins[first_right]
        m.pinned_right = True
        m.pinned_stayed = all(c.intent in rec.intents for c in pins[first_right:])
        at_s = pin.at_s if pin.at_s is not None else clock.position(pin.received_s)
        utterance = intent_utterance(rec.references, at_s)
        if utterance is not None:
            m.pinned_latency_s = pin.received_s - clock.at(utterance.end_s)
    if stream is not None and dispositions:
        from assist.qa.disposition import propose

        m.disposition = str(propose([message for _, message in stream.messages], dispositions)["disposition"])
        gold = {d.code for d in dispositions if set(d.intents) & set(rec.intents)}
        m.disposition_right = (m.disposition in gold) if gold else None

    # Errors and refusals, from both sockets.
    for result in (ingest, run.sidebar):
        if result is None:
            continue
        for _, message in result.messages:
            if message.get("type") == "error" or (message.get("type") == "disconnect"):
                reason = str(message.get("reason") or message.get("parameters", {}).get("info", ""))
                m.errors.append(reason)
                if "limit" in reason or "shutting down" in reason:
                    m.refused = True
    if ingest.close_code == 1013:
        m.refused = True
    return m


# -- a whole run ---------------------------------------------------------------------------


def _all(measures: list[CallMeasures], name: str) -> list[Any]:
    return [v for m in measures for v in getattr(m, name)]


def wer_summary(measures: list[CallMeasures]) -> dict[str, dict[str, float | None]]:
    """Corpus WER per speaker and overall, streamed and offline (the ceiling)."""
    speakers = sorted({sp for m in measures for sp in m.ref_texts})
    out: dict[str, dict[str, float | None]] = {}
    for kind in ("streaming", "offline"):
        row: dict[str, float | None] = {}
        all_refs: list[str] = []
        all_hyps: list[str] = []
        for sp in speakers:
            pairs = [
                (m.ref_texts[sp], (m.hyp_texts if kind == "streaming" else m.offline_texts).get(sp))
                for m in measures
                if sp in m.ref_texts
            ]
            if any(h is None for _, h in pairs) or not pairs:
                row[sp] = None
                continue
            refs, hyps = [r for r, _ in pairs], [h or "" for _, h in pairs]
            row[sp] = wer(refs, hyps)
            all_refs += refs
            all_hyps += hyps
        row["overall"] = wer(all_refs, all_hyps) if all_refs and None not in row.values() else None
        out[kind] = row
    return out


def summarise_run(measures: list[CallMeasures]) -> dict[str, Any]:
    """Distributions over every utterance of every call, cards, WER, errors and drops."""
    finals = _all(measures, "final_latency_s")
    n = len(measures)
    right = sum(1 for m in measures if m.right_card)
    sidebar_missing = sum(max(0, m.finals - m.sidebar_finals) for m in measures if m.sidebar_finals is not None)
    return {
        "calls": n,
        "audio_s": sum(m.duration_s for m in measures),
        "utterances": len(finals),
        "lost": sum(1 for v in finals if v is None),
        "merged": sum(sum(m.merged) for m in measures),
        "latency": {
            "final_s": stats(finals),
            # The same, for utterances whose end was an utterance end (a pause the endpointer
            # could see): merged ones wait for the speaker's next sentence by design.
            "final_unmerged_s": stats(
                [v for m in measures for v, merged in zip(m.final_latency_s, m.merged, strict=True) if not merged]
            ),
            "first_text_s": stats(_all(measures, "first_text_s")),
            "interim_lag_s": stats(_all(measures, "interim_lag_s")),
            "first_interim_after_audio_s": stats([m.first_interim_s for m in measures]),
            "card_s": stats([m.card_latency_s for m in measures]),
        },
        "final_p95_with_lost_s": p95_with_lost(finals),
        "stages": {
            "endpoint": stats(_all(measures, "endpoint_s")),
            "queue": stats(_all(measures, "queue_s")),
            "recognition": stats(_all(measures, "recognition_s")),
            "server_total": stats(_all(measures, "server_total_s")),
            "match": stats(_all(measures, "match_s")),
            "push": stats(_all(measures, "push_s")),
        },
        "floor": {
            "compute_s": stats(_all(measures, "floor_compute_s")),
            "final_latency_s": stats(_all(measures, "floor_latency_s")),
        },
        "wer": wer_summary(measures),
        # Chinese calls are scored by characters: the "wer" figures are then CER.
        "wer_unit": error_unit(r for m in measures for r in m.ref_texts.values()),
        "cards": {
            "right": right,
            "calls": n,
            "right_rate": right / n if n else None,
            "unrelated_total": sum(m.unrelated_cards for m in measures),
            "unrelated_per_call": sum(m.unrelated_cards for m in measures) / n if n else None,
        },
        # The sidebar's one pinned answer (issue 14): the right article, within 1 s of the end of
        # the intent utterance, and still pinned at the end (no other topic took its place).
        "pinned": {
            "calls": n,
            "right": sum(1 for m in measures if m.pinned_right),
            "right_within_1s": sum(1 for m in measures if m.pinned_latency_s is not None and m.pinned_latency_s <= 1.0),
            "right_and_stayed": sum(1 for m in measures if m.pinned_right and m.pinned_stayed),
            "latency_s": stats([m.pinned_latency_s for m in measures if m.pinned_latency_s is not None]),
        },
        "disposition": {
            "judged": sum(1 for m in measures if m.disposition_right is not None),
            "right": sum(1 for m in measures if m.disposition_right),
            "per_call": {m.name: m.disposition for m in measures},
        },
        "errors": {
            "calls_with_errors": sum(1 for m in measures if m.errors),
            "messages": [e for m in measures for e in m.errors][:20],
            "refused_calls": sum(1 for m in measures if m.refused),
        },
        "dropped": {"sidebar_finals_missing": sidebar_missing},
        "samples": {  # raw values for the plots
            "final_s": [v for v in finals if v is not None],
            "first_text_s": [v for v in _all(measures, "first_text_s") if v is not None],
            "floor_final_s": _all(measures, "floor_latency_s"),
            "endpoint_s": _all(measures, "endpoint_s"),
            "queue_s": _all(measures, "queue_s"),
            "recognition_s": _all(measures, "recognition_s"),
            "floor_compute_s": _all(measures, "floor_compute_s"),
            "match_s": _all(measures, "match_s"),
            "push_s": _all(measures, "push_s"),
            "card_s": [m.card_latency_s for m in measures if m.card_latency_s is not None],
        },
        "per_call": [m.summary() for m in measures],
    }
