"""The loop every policy worker shares: one active worker per database, by a PostgreSQL
advisory lock held on a dedicated connection; work in batches; sleep until woken or the poll
interval ends; start over when the database (and the lock with it) goes away."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from typing import ClassVar

import asyncpg
import structlog

from fastfaktura.adapters.deadlines import database_unavailable

log = structlog.get_logger(__name__)


class LockLostError(Exception):
    """The worker's advisory lock went away with its connection."""


class LockedWorker(ABC):
    """Subclasses (dataclasses) provide these attributes and `run_once`."""

    LOCK: ClassVar[str]
    pool: asyncpg.Pool
    poll_seconds: float
    restart_seconds: float
    status: str
    _wake: asyncio.Event

    @abstractmethod
    async def run_once(self) -> int:
        """Do one batch of work; the number of items handled (0: sleep until woken)."""

    def wake(self) -> None:
        """Look for work now (an endpoint calls this after recording what needs doing)."""
        self._wake.set()

    async def run(self) -> None:
        """Work until cancelled. When the database goes away (the lock with it), start over:
        take the lock again, then go on."""
        while True:
            try:
                await self._run_locked()
            except Exception as exc:
                self.status = "failed"
                if database_unavailable(exc):
                    # Expected while PostgreSQL is away: one line, not a traceback (rendering
                    # one every second would hold up the event loop the API answers on).
                    log.warning(
                        "worker: database unavailable; restarting",
                        worker=self.LOCK,
                        backoff=self.restart_seconds,
                        error=f"{type(exc).__name__}: {exc}",
                    )
                else:
                    log.exception(
                        "worker failed; restarting", worker=self.LOCK, backoff=self.restart_seconds
                    )
                await asyncio.sleep(self.restart_seconds)

    async def _run_locked(self) -> None:
        async with self.pool.acquire() as lock_conn:
            while not await lock_conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", self.LOCK
            ):
                self.status = "standby"
                await asyncio.sleep(2.0)
            self.status = "running"
            try:
                while True:
                    if lock_conn.is_closed():
                        # The session that held the lock is gone (so is the lock): another
                        # worker may hold it now. Stop working; start over. (Once asyncpg's
                        # pool has detached the lost connection, is_closed() raises instead:
                        # the same way out.)
                        raise LockLostError("the connection holding the worker lock was lost")
                    done = await self.run_once()
                    if not done:
                        self._wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            finally:
                # A lost connection has released the lock already.
                with contextlib.suppress(Exception):
                    await lock_conn.execute("SELECT pg_advisory_unlock(hashtext($1))", self.LOCK)
