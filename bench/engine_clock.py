"""Shared by the engine benchmarks: the window's process tuning applied from process start, and an event clock."""
from __future__ import annotations

import os
import sys
import threading
import time

TUNE = "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736"


def tune_process() -> None:
    """Re-exec with the window's malloc tuning (platform.md: only effective from process start), unless --no-tune."""
    if "--no-tune" not in sys.argv and "GLIBC_TUNABLES" not in os.environ and sys.platform == "linux":
        os.environ["GLIBC_TUNABLES"] = TUNE
        # Idle OpenMP workers sleep instead of spinning: on a shared 2-core machine spinning workers
        # wait for descheduled peers and a 30 ms render takes 900 ms.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.execv(sys.executable, [sys.executable, *sys.argv])


class Clock:
    """Records when each event arrives (on the engine thread) and lets the caller wait for one."""

    def __init__(self) -> None:
        self.cond, self.log = threading.Condition(), []

    def __call__(self, event) -> None:
        with self.cond:
            self.log.append((time.perf_counter(), event))
            self.cond.notify_all()

    def wait(self, pred, timeout: float = 120.0):
        """(time, event) of the first logged event matching `pred`, waiting for it up to `timeout` s."""
        deadline = time.perf_counter() + timeout
        with self.cond:
            while True:
                for t, e in self.log:
                    if pred(e):
                        return t, e
                left = deadline - time.perf_counter()
                if left <= 0:
                    raise TimeoutError("no matching event")
                self.cond.wait(left)

    def clear(self) -> None:
        with self.cond:
            self.log.clear()
