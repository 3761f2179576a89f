"""Speech work yields the CPU to the control plane.

A node's event loop answers pings, closes and admission decisions; voice detection and decoding
are throughput work that can wait a few milliseconds. On Linux the nice value is per thread and
a new thread inherits its creator's, so the speech core's threads (CTranslate2's decode threads,
onnxruntime's, the scheduler's workers, the audio pool) are created from a thread that lowered
its own priority: when the CPU is short, the kernel runs the event loop first. Nothing changes
when the CPU is free. (Measured: docs/benchmarks.md, fleet section.)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
SPEECH_NICE = 10


def lower_this_thread(nice: int = SPEECH_NICE) -> None:
    """Give the calling thread (and threads it creates from now on) a lower CPU priority."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
    except (OSError, AttributeError) as error:  # not Linux, or not permitted: run as we are
        log.debug("speech threads keep normal priority: %s", error)


def build_lowered(build: Callable[[], T], nice: int = SPEECH_NICE) -> T:
    """Run ``build`` on a thread of lowered priority and return its result: whatever threads it
    starts (model and VAD sessions, workers) inherit that priority."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        lower_this_thread(nice)
        try:
            result.append(build())
        except BaseException as error:  # handed back to the caller's thread
            failure.append(error)

    thread = threading.Thread(target=run, name="speech-build")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return result[0]
