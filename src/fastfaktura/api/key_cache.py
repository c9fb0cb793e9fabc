"""API keys looked up once per TTL per process, dropped at once when revoked (issue 12).

The api_keys projection notifies `fastfaktura_api_key_revoked` (payload: the key's hash) in the
transaction that marks a key revoked; each API process LISTENs on a connection of its own
(straight to PostgreSQL: a transaction pooler cannot LISTEN) and drops the key. The cache is
only used while that connection is up: without it, every request looks its key up.

A lookup that began before a revocation arrived is not cached (the generation counter): its
answer may predate the revocation. The one window left is the notification's own delivery,
from the revoking commit to this process's connection (a millisecond or so on one machine).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Final

import asyncpg
import structlog

from fastfaktura.readmodels.queries.api_keys import KeyOwner

log = structlog.get_logger(__name__)

CHANNEL: Final = "fastfaktura_api_key_revoked"
# Forgetting every cached key only makes the next request of each look it up again.
MAX_CACHED_KEYS: Final = 100_000
RECONNECT_SECONDS: Final = 1.0


class KeyCache:
    def __init__(self, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[KeyOwner, float]] = {}
        self.generation = 0
        self.listening = False

    def get(self, key_hash: str) -> KeyOwner | None:
        if not self.listening:
            return None
        hit = self._entries.get(key_hash)
        if hit is None or hit[1] <= self._monotonic():
            return None
        return hit[0]

    def put(self, key_hash: str, owner: KeyOwner, generation: int) -> None:
        """Cache a lookup that began at `generation` (unless a revocation came since)."""
        if not self.listening or generation != self.generation:
            return
        if len(self._entries) >= MAX_CACHED_KEYS:
            self._entries.clear()
        self._entries[key_hash] = (owner, self._monotonic() + self.ttl_seconds)

    def revoked(self, key_hash: str) -> None:
        self.generation += 1
        self._entries.pop(key_hash, None)

    def _stopped_listening(self) -> None:
        self.listening = False
        self.generation += 1
        self._entries.clear()

    async def listen_forever(self, url: str, timeout: float) -> None:
        """Hold the LISTEN connection, reconnecting after a loss (the cache is off meanwhile)."""

        def notified(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            self.revoked(payload)

        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(url, timeout=timeout)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, notified)
                self.listening = True
                await lost.wait()
                log.warning("api key cache: connection lost, cache off until it is back")
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("api key cache: cannot listen", error=f"{type(exc).__name__}: {exc}")
            finally:
                self._stopped_listening()
                if conn is not None and not conn.is_closed():
                    await conn.close()
            await asyncio.sleep(RECONNECT_SECONDS)
