"""The capacity sweep's stopping rule, pure: which level to run next, and what was sustainable.

Levels are tried in rising order until one fails (p95 final latency over the limit, or a call
refused); then, while the gap between the highest passing and the lowest failing level is more
than one call, the midpoint is tried (at most ``refine`` times). The sustainable count is the
highest passing level below the lowest failing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LevelOutcome:
    level: int  # simultaneous calls
    passed: bool
    p95_s: float | None = None
    refused: int = 0


def _bounds(outcomes: Sequence[LevelOutcome]) -> tuple[int, int | None]:
    failed = [o.level for o in outcomes if not o.passed]
    lowest_fail = min(failed) if failed else None
    passed = [o.level for o in outcomes if o.passed and (lowest_fail is None or o.level < lowest_fail)]
    return max(passed, default=0), lowest_fail


def next_level(outcomes: Sequence[LevelOutcome], levels: Sequence[int], refine: int = 2) -> int | None:
    """The next number of simultaneous calls to run, or None when the sweep is done."""
    best_pass, lowest_fail = _bounds(outcomes)
    if lowest_fail is None:
        tried = {o.level for o in outcomes}
        ahead = sorted(n for n in levels if n > best_pass and n not in tried)
        return ahead[0] if ahead else None
    first_fail_index = next(i for i, o in enumerate(outcomes) if not o.passed)
    refinements = len(outcomes) - first_fail_index - 1
    if best_pass >= 1 and lowest_fail - best_pass > 1 and refinements < refine:
        return (best_pass + lowest_fail) // 2
    return None


def sustainable(outcomes: Sequence[LevelOutcome]) -> int:
    """The highest level that stayed under the limit (0: not even one call)."""
    return _bounds(outcomes)[0]
