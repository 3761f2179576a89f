"""The capacity sweep's stopping rule."""

from __future__ import annotations

from assist.bench.sweep import LevelOutcome, next_level, sustainable

LEVELS = [1, 2, 4, 8, 12, 16]


def run(limit_calls: int, refine: int = 2) -> list[int]:
    """Levels a sweep visits when every level up to ``limit_calls`` passes."""
    outcomes: list[LevelOutcome] = []
    while (level := next_level(outcomes, LEVELS, refine)) is not None:
        outcomes.append(LevelOutcome(level, level <= limit_calls))
    assert sustainable(outcomes) == max((o.level for o in outcomes if o.passed), default=0)
    return [o.level for o in outcomes]


def test_rises_until_a_level_fails_then_bisects() -> None:
    assert run(10) == [1, 2, 4, 8, 12, 10, 11]


def test_refinement_is_bounded() -> None:
    assert run(9, refine=1) == [1, 2, 4, 8, 12, 10]
    assert run(9, refine=0) == [1, 2, 4, 8, 12]


def test_adjacent_levels_need_no_refinement() -> None:
    assert run(1) == [1, 2]


def test_every_level_passing_ends_at_the_last() -> None:
    outcomes = [LevelOutcome(n, True) for n in LEVELS]
    assert next_level(outcomes, LEVELS) is None
    assert sustainable(outcomes) == 16


def test_first_level_failing_means_zero() -> None:
    outcomes = [LevelOutcome(1, False)]
    assert next_level(outcomes, LEVELS) is None
    assert sustainable(outcomes) == 0


def test_a_pass_above_a_failure_does_not_count() -> None:
    outcomes = [LevelOutcome(4, True), LevelOutcome(8, False), LevelOutcome(12, True)]
    assert sustainable(outcomes) == 4


def test_sustainable_found_by_bisection() -> None:
    assert run(13) == [1, 2, 4, 8, 12, 16, 14, 13]


def test_sweep_starts_are_spread_over_a_quarter_of_the_window_at_most() -> None:
    from assist.bench.harness import sweep_stagger

    assert sweep_stagger(45.0, 4, None) == 1.0
    assert sweep_stagger(45.0, 32, None) == 45.0 / 128
    assert sweep_stagger(45.0, 32, 2.0) == 2.0  # as configured
