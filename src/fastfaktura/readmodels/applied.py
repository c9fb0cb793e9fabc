"""What the live runners of this process have applied: the read-your-writes wait of the same
process learns a position the moment the runner's transaction commits, instead of at its next
read of the tracking rows.

A runner announces a position only after its transaction has committed (or when the tracking
row already holds it): every later transaction, on any connection, sees it. One board per
process and database (create_app makes it and hands it to both sides); waiters in other
processes keep reading the tracking rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable


class AppliedBoard:
    """Positions announced by this process's runners, and which models they are running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._positions: dict[str, int] = {}
        self._running: dict[str, int] = {}
        self._listeners: list[Callable[[], None]] = []

    def announce(self, model: str, position: int) -> None:
        """`model` shows every event up to `position` (committed). Called from runner threads."""
        with self._lock:
            if position <= self._positions.get(model, 0):
                return
            self._positions[model] = position
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except RuntimeError:  # its event loop is closed: it waits no more
                self.unlisten(listener)

    def positions(self) -> dict[str, int]:
        with self._lock:
            return dict(self._positions)

    def started(self, model: str) -> None:
        """A runner of `model` is active here: its announcements will come."""
        with self._lock:
            self._running[model] = self._running.get(model, 0) + 1

    def stopped(self, model: str) -> None:
        with self._lock:
            left = self._running.get(model, 0) - 1
            if left > 0:
                self._running[model] = left
            else:
                self._running.pop(model, None)

    def runs_all(self, models: Iterable[str]) -> bool:
        """Whether an active runner here announces every one of `models`."""
        with self._lock:
            return all(self._running.get(model, 0) > 0 for model in models)

    def listen(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from a runner thread: it must be thread-safe) on each announcement."""
        with self._lock:
            self._listeners.append(listener)

    def unlisten(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)
