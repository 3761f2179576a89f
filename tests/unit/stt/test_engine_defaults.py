"""How many decode workers a server starts with when none are configured."""

from __future__ import annotations

import os

import pytest

from assist.stt import engine
from assist.stt.engine import MAX_DEFAULT_WORKERS, default_workers


def test_one_worker_per_cpu_threads_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(4)))
    assert default_workers("cpu", 1) == 4
    assert default_workers("cpu", 2) == 2
    assert default_workers("cpu", 8) == 1  # never zero


def test_big_machines_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(64)))
    assert default_workers("cpu", 1) == MAX_DEFAULT_WORKERS


def test_a_gpu_gets_one_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_workers("cuda", 1) == 1
    monkeypatch.setattr(engine.ctranslate2, "get_cuda_device_count", lambda: 0)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(2)))
    assert default_workers("auto", 1) == 2  # "auto" without a GPU is the CPU
