"""Interim spacing and capacity estimates from measured decode times (pure arithmetic)."""

from __future__ import annotations

from assist.stt.calibrate import MAX_INTERIM_INTERVAL_MS, WINDOW_MS, cost_per_call_s, interval_for
from assist.stt.policy import EndpointOptions

BASE = EndpointOptions()


def test_a_fast_cpu_keeps_the_configured_interval():
    assert interval_for(30.0, BASE) == BASE.interim_interval_ms


def test_a_slow_cpu_spaces_interims_by_their_cost():
    interval = interval_for(150.0, BASE)  # an interim taking 150 ms: at most 20 % of a worker
    assert interval >= 750 and interval % WINDOW_MS == 0


def test_the_spacing_is_capped_so_live_text_stays_live():
    assert interval_for(5_000.0, BASE) <= MAX_INTERIM_INTERVAL_MS + WINDOW_MS


def test_cost_grows_with_decode_times_and_falls_with_spacing():
    assert cost_per_call_s(60.0, 150.0, 480) > cost_per_call_s(30.0, 150.0, 480)
    assert cost_per_call_s(60.0, 150.0, 960) < cost_per_call_s(60.0, 150.0, 480)
