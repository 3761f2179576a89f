"""Admission as plain logic: the measured capacity, the configured cap, the backlog guard."""

from __future__ import annotations

from assist.calls.admission import ADMIT_SHARE, DEFAULT_MAX_CALLS, Admission, Load


def test_measured_capacity_is_a_share_of_the_finals_only_estimate():
    admission = Admission.for_node(None, 62)
    assert admission.limit_calls == int(62 * ADMIT_SHARE) == 21
    assert admission.source == "measured"


def test_a_configured_limit_replaces_the_measured_one_either_way():
    assert (Admission.for_node(10, 62).limit_calls, Admission.for_node(10, 62).source) == (10, "configured")
    assert Admission.for_node(40, 62).limit_calls == 40  # the operator knows their traffic


def test_without_a_calibration_the_configured_or_default_limit_applies():
    assert (Admission.for_node(None, None).limit_calls, Admission.for_node(None, None).source) == (
        DEFAULT_MAX_CALLS,
        "default",
    )
    assert Admission.for_node(5, None).limit_calls == 5
    assert Admission.for_node(None, 1).limit_calls == 1  # never zero


def test_refuses_at_the_limit_with_the_reason_and_counts_what_remains():
    admission = Admission(3)
    assert admission.refusal(Load(2, 0.0)) is None
    assert admission.remaining(Load(2, 0.0)) == 1
    refusal = admission.refusal(Load(3, 0.0))
    assert refusal is not None and "capacity of 3 calls" in refusal
    assert admission.remaining(Load(3, 0.0)) == 0


def test_a_node_behind_on_finals_refuses_whatever_the_count():
    admission = Admission(30, max_final_wait_s=1.0)
    refusal = admission.refusal(Load(1, 1.7))
    assert refusal is not None and "1.7 s" in refusal
    assert admission.remaining(Load(1, 1.7)) == 0
    assert admission.refusal(Load(1, 0.9)) is None


def test_a_draining_node_refuses_everything():
    refusal = Admission(30).refusal(Load(0, 0.0, accepting=False))
    assert refusal is not None and "shutting down" in refusal
