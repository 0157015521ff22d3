"""Shared by the engine benchmarks: the window's process tuning applied from process start, and an event clock."""
from __future__ import annotations

import sys
import threading
import time

from stylegan_studio.app.main import reexec_tuned


def tune_process() -> None:
    """Re-exec with the window's process tuning (malloc, passive OpenMP waits), unless --no-tune."""
    if "--no-tune" not in sys.argv:
        # Idle OpenMP workers sleep instead of spinning: on a shared 2-core machine spinning workers
        # wait for descheduled peers and a 30 ms render takes 900 ms.
        reexec_tuned(sys.argv, window=True)


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
