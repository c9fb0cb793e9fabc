"""The loop every policy worker shares: one active worker per database, by a PostgreSQL
advisory lock held on a dedicated connection; work in batches; sleep until woken or the poll
interval ends; when the database (and the lock with it) goes away, stop at once, in the
middle of a batch too, and start over."""

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
    # Passes that found nothing to do: how a caller (a test, a health probe) learns that the
    # worker looked again after some moment and had nothing left, without sleeping on it.
    idle_passes: int = 0

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
            lost = asyncio.Event()

            def on_lost(_conn: object) -> None:
                lost.set()

            # Listening from before the lock is taken: a session that ends at any later moment
            # is heard of (asyncpg calls this when it tears the connection down).
            lock_conn.add_termination_listener(on_lost)
            try:
                while not await lock_conn.fetchval(
                    "SELECT pg_try_advisory_lock(hashtext($1))", self.LOCK
                ):
                    self.status = "standby"
                    await asyncio.sleep(2.0)
                self.status = "running"
                try:
                    await self._work_while_locked(lock_conn, lost)
                finally:
                    # A lost connection has released the lock already.
                    with contextlib.suppress(Exception):
                        await lock_conn.execute(
                            "SELECT pg_advisory_unlock(hashtext($1))", self.LOCK
                        )
            finally:
                # Pooled connections keep their listeners; a detached one has none left.
                with contextlib.suppress(asyncpg.InterfaceError):
                    lock_conn.remove_termination_listener(on_lost)

    async def _work_while_locked(
        self, lock_conn: asyncpg.pool.PoolConnectionProxy, lost: asyncio.Event
    ) -> None:
        """Work in batches until the session holding the lock ends, then stop at once, in the
        middle of a batch too: checking between batches is not enough, as a batch started just
        before the loss (or just after it, before asyncpg has read the closed socket) would go
        on for as long as it takes (a PDF, an SMTP exchange) while another worker may hold the
        lock. Stopping there is a crash the workers are built to survive (see their module
        docstrings)."""
        work = asyncio.create_task(self._work(lock_conn))
        watch = asyncio.create_task(lost.wait())
        try:
            await asyncio.wait((work, watch), return_when=asyncio.FIRST_COMPLETED)
            if lost.is_set():
                self.status = "failed"  # at once: "running" means the lock is held
        finally:
            work.cancel()
            watch.cancel()
            # A batch in a thread (a PDF) is cancelled when the thread returns.
            await asyncio.gather(work, watch, return_exceptions=True)
        if lost.is_set():
            cause = None if work.cancelled() else work.exception()
            raise LockLostError("the connection holding the worker lock was lost") from cause
        work.result()  # the work ends only by raising

    async def _work(self, lock_conn: asyncpg.pool.PoolConnectionProxy) -> None:
        while True:
            if lock_conn.is_closed():
                # Closed without asyncpg's teardown (a protocol abort): the lock is gone as
                # well. (Once the pool has detached the lost connection, is_closed() raises
                # instead: the same way out.)
                raise LockLostError("the connection holding the worker lock was lost")
            done = await self.run_once()
            if not done:
                self.idle_passes += 1
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
