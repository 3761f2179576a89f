"""Whether a node takes one more call: refused at the door rather than slowing every call.

Two limits, both plain logic:
- **Capacity**: the calls this node can hold, measured, not guessed. The speech core times its
  decodes at start (assist/stt/calibrate.py) and estimates how many calls finals alone would
  fill; the node admits ``ADMIT_SHARE`` of that estimate. The share comes from the hardest
  load measured: Genesys' reference client with every call speaking and ending in lockstep
  held final p95 ≤ 2 s up to 20 calls where the estimate said 62 (docs/benchmarks.md, fleet);
  calls that start and pause at different moments (the capacity sweep) held up to about twice
  that. ``ASSIST_MAX_CALLS`` replaces the measured figure when set (either way); without a
  calibration (a GPU, or calibration off) it is 32 unless set.
- **Backlog**: whatever the count, a node whose oldest queued final has waited longer than
  ``max_final_wait_s`` is behind (a slower CPU than measured, a neighbour on the same host);
  new calls go elsewhere until it catches up.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIT_SHARE = 0.35
DEFAULT_MAX_CALLS = 32


@dataclass(frozen=True, slots=True)
class Load:
    active_calls: int
    final_wait_s: float  # how long the oldest queued final has waited
    accepting: bool = True  # False while the node shuts down


@dataclass(frozen=True, slots=True)
class Admission:
    limit_calls: int
    max_final_wait_s: float = 1.0
    source: str = "configured"  # "configured" | "measured" | "default"

    @classmethod
    def for_node(
        cls, max_calls: int | None, finals_capacity: int | None, *, max_final_wait_s: float = 1.0
    ) -> Admission:
        """The node's limit from its settings and its calibration (None where not measured)."""
        if max_calls is not None:
            return cls(max_calls, max_final_wait_s, "configured")
        if finals_capacity is not None:
            return cls(max(1, int(finals_capacity * ADMIT_SHARE)), max_final_wait_s, "measured")
        return cls(DEFAULT_MAX_CALLS, max_final_wait_s, "default")

    def refusal(self, load: Load) -> str | None:
        """Why one more call must be refused, or None to take it."""
        if not load.accepting:
            return "server is shutting down"
        if load.active_calls >= self.limit_calls:
            return f"server is at its capacity of {self.limit_calls} calls ({self.source})"
        if load.final_wait_s > self.max_final_wait_s:
            return f"server is behind: transcripts are waiting {load.final_wait_s:.1f} s to be decoded"
        return None

    def remaining(self, load: Load) -> int:
        """Calls this node would still take now (0 when it would refuse the next one)."""
        if self.refusal(load) is not None:
            return 0
        return self.limit_calls - load.active_calls
