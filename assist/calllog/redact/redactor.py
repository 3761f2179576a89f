"""The public API: Redactor (which kinds), CallRedactor (one call's utterances, finals and interims), redact_words.

A CallRedactor runs the stages of the package in order and keeps the context keywords of the call's last
utterances; an interim is masked at least as strictly as a final.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from assist.calllog.redact.context import CONTEXT_TURNS, Turn, find_mentions, rank
from assist.calllog.redact.items import read_items
from assist.calllog.redact.kinds import PLACEHOLDERS, REDACTION_KINDS, Hit, Redacted, Redaction
from assist.calllog.redact.patterns import pattern_hits
from assist.calllog.redact.runs import Run, digit_count, digit_runs, run_hits
from assist.calllog.redact.tokens import tokenise

_CONTINUED = frozenset({"card", "account", "phone", "national_id"})  # long numbers read in chunks over utterances


INTERIM_MASK_DIGITS = 4
_OPEN_KIND = "account"  # the placeholder an open digit run shows until the final judges it


REVISION_MASK_DIGITS = 3  # a revision of a masked final: shorter runs than an interim's


def _open_runs(runs: Sequence[Run], hits: Sequence[Hit], *, min_digits: int, kind: str) -> list[Hit]:
    """Digit runs that no rule claimed, long enough to be part of something."""
    found: list[Hit] = []
    for run in runs:
        items = [it for it in run.items if it.kind == "num"]
        if not items or digit_count(items) < min_digits:
            continue
        start, end = items[0].start, items[-1].end
        if not any(s < end and start < e for s, e, _ in hits):
            found.append((start, end, kind))
    return found


class Redactor:
    """Which kinds of data are redacted; makes one CallRedactor per call."""

    def __init__(self, kinds: Iterable[str] = REDACTION_KINDS) -> None:
        self.kinds = frozenset(kinds)
        unknown = self.kinds - set(REDACTION_KINDS)
        if unknown:
            raise ValueError(f"unknown redaction kinds: {sorted(unknown)}; known: {list(REDACTION_KINDS)}")

    def new_call(self) -> CallRedactor:
        return CallRedactor(self.kinds)


class CallRedactor:
    """Redacts one call's utterances, remembering context keywords from its last utterances (either speaker)."""

    def __init__(self, kinds: frozenset[str]) -> None:
        self._kinds = kinds
        self._turns: deque[Turn] = deque(maxlen=CONTEXT_TURNS)
        # Per final (speaker, utterance id): the context it was redacted in and the kinds it masked,
        # for a revision that arrives later (a context window is decoded again up to a minute on).
        self._finals: dict[tuple[str, int], tuple[tuple[Turn, ...], tuple[str, ...]]] = {}

    def redact(
        self, speaker: str, text: str, *, language: str = "en", utterance_id: int | None = None, revision: int = 0
    ) -> Redacted:
        """Redact a final utterance and remember its context for the next ones.

        A revision (``revision`` > 0 of a final redacted here before) is read in the context its
        first version was, not the call's latest, and does not move the context on; and where the
        first version masked something, any digit run of three or more the rules leave in the
        revision is masked as that kind too: a mended transcript must not reveal what the first
        one hid (an ID's last four heard as three digits, say).

        ``language`` is accepted for symmetry with the transcriber; the rules read both scripts whatever it says,
        because calls switch language and Whisper's tag on a short utterance is often wrong.
        """
        key = (speaker, utterance_id) if utterance_id is not None else None
        if revision and key in self._finals:
            context, masked = self._finals[key]
            return self._redact(text, context, revision_of=masked)[0]
        context = tuple(self._turns)
        redacted, mentions = self._redact(text, context)
        if key is not None:
            self._finals[key] = (context, tuple(r.kind for r in redacted.redactions))
        self._turns.append(Turn(speaker, mentions))
        return redacted

    def redact_interim(self, speaker: str, text: str, *, language: str = "en") -> Redacted:
        """Redact an interim (partial) utterance at least as strictly as a final: the same rules,
        and any other run of ``INTERIM_MASK_DIGITS`` or more digits is masked while the utterance
        is open (it may be the start of a card whose keyword was misheard, or whose last digits
        are still to come); the final judges it. The context does not move on."""
        return self._redact(text, tuple(self._turns), strict=True)[0]

    def _redact(
        self, text: str, context: Sequence[Turn], *, strict: bool = False, revision_of: Sequence[str] = ()
    ) -> tuple[Redacted, dict[str, int]]:
        here = find_mentions(text)

        def rank_at(start: int, end: int) -> list[str]:
            return rank(here, context, start, end)

        patterns = pattern_hits(text, set(rank_at(0, 0)))
        hits = list(patterns)
        runs = digit_runs(read_items(tokenise(text, patterns)))
        for run in runs:
            hits += run_hits(run, rank_at)
        mentions = {m.kind: m.start for m in sorted(here, key=lambda m: m.start)}
        for start, _, kind in sorted(hits):
            if kind in _CONTINUED:  # the next chunk of this number needs no keyword of its own
                mentions[kind] = max(start, mentions.get(kind, start))
        hits = [h for h in hits if h[2] in self._kinds]
        if strict:
            hits += _open_runs(runs, hits, min_digits=INTERIM_MASK_DIGITS, kind=_OPEN_KIND)
        if revision_of:
            hits += _open_runs(runs, hits, min_digits=REVISION_MASK_DIGITS, kind=revision_of[0])
        return _build(text, sorted(hits)), mentions


def _build(text: str, hits: Sequence[Hit]) -> Redacted:
    parts: list[str] = []
    redactions: list[Redaction] = []
    spans: list[tuple[int, int]] = []
    cursor = length = 0
    for start, end, kind in hits:
        parts.append(text[cursor:start])
        length += start - cursor
        placeholder = PLACEHOLDERS[kind]
        redactions.append(Redaction(kind, length, length + len(placeholder)))
        spans.append((start, end))
        parts.append(placeholder)
        length += len(placeholder)
        cursor = end
    parts.append(text[cursor:])
    return Redacted("".join(parts), tuple(redactions), tuple(spans))


def redact_words(original_text: str, words: Sequence[str], redacted: Redacted) -> list[str]:
    """Redact Whisper's per-word texts to match ``redacted``; the list keeps its length (one entry per timing).

    Words are found in ``original_text`` in order (a word that cannot be found is kept as it is). The first word
    that touches a redacted span carries its placeholder; later words inside the same span become "". Text of a
    word outside the span (a trailing comma, "是" before the digits) is kept.
    """
    pairs = zip(redacted.source_spans, redacted.redactions, strict=True)
    spans = [(s, e, PLACEHOLDERS[r.kind]) for (s, e), r in pairs]
    placed: set[int] = set()
    out: list[str] = []
    cursor = 0
    for word in words:
        core = word.strip()
        pos = original_text.find(core, cursor) if core else -1
        if pos < 0:
            out.append(word)
            continue
        start, end = pos, pos + len(core)
        cursor = end
        touching = [k for k, (s, e, _) in enumerate(spans) if s < end and e > start]
        if not touching:
            out.append(word)
            continue
        # A word that starts inside a span already shown as its placeholder is a continuation: no space of its own.
        continued = touching[0] in placed and spans[touching[0]][0] < start
        pieces: list[str] = []
        at = start
        for k in touching:
            s, e, placeholder = spans[k]
            pieces.append(original_text[at:s] if s > at else "")
            if k not in placed:
                pieces.append(placeholder)
                placed.add(k)
            at = min(e, end)
        pieces.append(original_text[at:end])
        body = "".join(pieces)
        lead = "" if continued else word[: len(word) - len(word.lstrip())]
        out.append(lead + body if body else "")
    return out
