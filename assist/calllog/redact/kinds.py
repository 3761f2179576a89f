"""What redaction produces: the kinds of data, their placeholders, and the records of a redacted utterance."""

from __future__ import annotations

from dataclasses import dataclass

REDACTION_KINDS = ("card", "cvv", "expiry", "ssn", "national_id", "phone", "email", "account")
PLACEHOLDERS = {kind: "[" + kind.replace("_", " ") + "]" for kind in REDACTION_KINDS}

Hit = tuple[int, int, str]  # start, end, kind (in the original text)


@dataclass(frozen=True, slots=True)
class Redaction:
    """One redaction: its kind and the position of its placeholder in the redacted text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted utterance. ``source_spans`` are the same spans in the original text: use, never store."""

    text: str
    redactions: tuple[Redaction, ...]
    source_spans: tuple[tuple[int, int], ...]

    def as_records(self) -> list[dict[str, object]]:
        """The redactions as plain records for storage (kind and position only)."""
        return [{"kind": r.kind, "start": r.start, "end": r.end} for r in self.redactions]
