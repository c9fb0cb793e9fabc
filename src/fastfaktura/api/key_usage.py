"""When each API key was last used, without a write per request.

Each process remembers when it last wrote a key's `last_used_at` and writes it again only
once `API_KEY_LAST_USED_PRECISION` seconds (default 60) have passed: `last_used_at` is then at
most that much older than the key's real last use, and a busy key costs one small write per
interval and process. The row lives in `api_key_usage` (operational, not an event: using a key
changes nothing of the business's history, so neither the event store nor a rebuild knows it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from asyncpg import Pool

from fastfaktura.adapters.named_sql import local_statement

# Forgetting every remembered write only makes the next use of each key write once more.
MAX_REMEMBERED_KEYS: Final = 100_000


class KeyUsage:
    def __init__(
        self, precision_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.precision_seconds = precision_seconds
        self._monotonic = monotonic
        self._written: dict[str, float] = {}

    async def used(self, pool: Pool, key_prefix: str) -> None:
        now = self._monotonic()
        last = self._written.get(key_prefix)
        if last is not None and now - last < self.precision_seconds:
            return
        if len(self._written) >= MAX_REMEMBERED_KEYS:
            self._written.clear()
        # Remembered before the write: concurrent requests of the key do not all write.
        self._written[key_prefix] = now
        await pool.execute(
            local_statement(__file__, "key_usage.sql", "record_key_use"),
            key_prefix,
            datetime.now(UTC),
        )
