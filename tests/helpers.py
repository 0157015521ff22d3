"""Small shared helpers for engine tests (the tiny G, the disc folder and the tiny training config are made in
bench/synthetic.py, which bench shares; re-exported here for the tests)."""
import threading
import time

from synthetic import make_folder, tiny_cfg, tiny_generator  # noqa: F401


class Recorder:
    """Collects events from the engine thread; wait() blocks until one matches."""

    def __init__(self) -> None:
        self.events, self.cond = [], threading.Condition()

    def __call__(self, event) -> None:
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def of(self, cls, **attrs) -> list:
        with self.cond:
            return [e for e in self.events if isinstance(e, cls) and all(getattr(e, k) == v for k, v in attrs.items())]

    def wait(self, cls, timeout: float = 20.0, **attrs):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hits = [e for e in self.events if isinstance(e, cls)
                        and all(getattr(e, k) == v for k, v in attrs.items())]
                if hits:
                    return hits[0]
                left = deadline - time.monotonic()
                assert left > 0, f"no {cls.__name__} {attrs} within {timeout} s; got {self.events[-5:]}"
                self.cond.wait(left)
