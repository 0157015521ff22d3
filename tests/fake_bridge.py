"""A stand-in for EngineBridge that records requests and commands (for pane tests)."""
import itertools

from PySide6.QtCore import QObject

from stylegan_studio.app.bridge import EngineBridge


class FakeBridge(EngineBridge):
    """EngineBridge's signals and methods without an engine; nothing is rendered."""

    def __init__(self) -> None:
        QObject.__init__(self)  # skip EngineBridge.__init__: no engine, no torch work
        self.requests, self.commands, self._targets = [], [], {}
        self._stamps = itertools.count(1)

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def next_stamp(self) -> int:
        return next(self._stamps)

    def submit(self, request) -> None:
        self.requests.append(request)

    def post(self, command) -> None:
        self.commands.append(command)

    def last(self, kind):
        """The newest recorded request or command of a type."""
        return next((r for r in reversed(self.requests + self.commands) if isinstance(r, kind)), None)
