"""Reads from a streaming replica (DATABASE_READ_URL) with read-your-writes kept
(docs/operations.md, "A read replica").

The rule, with L the wait bound (DATABASE_READ_WAIT_SECONDS):

- a check (every L/5, in every API process) reads the primary's WAL insert position P, then
  the replica's replay position R until R >= P (for at most L/2). When it gets there, the
  replica is trusted for reads until L after the check *started*;
- a write, once its read models show it on the primary, reads P and waits until the replica
  has replayed P; past L (measured from before reading P) it answers anyway.

So a GET that starts after a write was answered, on any API process sharing this replica, is
served by the replica only under a trust whose check started less than L before: either after
the write's read models committed (then R >= P covers them), or before, and then the write
either saw the replica replay it or waited L, past the end of that trust. No message between
processes, only each process's monotonic clock (durations, not synchronized clocks).

A replica that fails a read (gone, too slow, a recovery conflict) loses the trust at once and
the read runs again on the primary.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import structlog
from asyncpg import Pool

from fastfaktura.adapters.database import with_application_name
from fastfaktura.adapters.deadlines import create_read_pool, database_unavailable
from fastfaktura.config import ReplicaSettings

log = structlog.get_logger(__name__)
T = TypeVar("T")

# Positions as byte offsets (asyncpg has no pg_lsn codec). The insert position, not the write
# position: with asynchronous commit a transaction is visible before its WAL is written.
PRIMARY_POSITION = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"
# NULL on a server that is not in recovery (not a replica, or promoted): never trusted.
REPLAY_POSITION = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint"


def replica_failed(exc: BaseException) -> bool:
    """A read the primary can answer instead: the replica is unavailable or too slow, or
    cancelled the query for a conflict with recovery (SQLSTATE 40001)."""
    return database_unavailable(exc) or isinstance(exc, asyncpg.SerializationError)


@dataclass(frozen=True)
class ReplicaState:
    """What the last check found, for /health."""

    status: str  # current | behind | unreachable | not_a_replica | starting
    lag_bytes: int | None
    reads: str  # replica | primary


class ReplicaRouter:
    """Chooses the pool of each read, and makes writes wait for the replica (see the module)."""

    def __init__(
        self, primary: Pool, replica: Pool, probe: Pool, wait: float, poll: float = 0.001
    ) -> None:
        self._primary = primary
        self._replica = replica
        # Its own connection for the positions, so they never queue behind slow reads.
        self._probe = probe
        self._wait = wait
        self._poll = poll
        self._trusted_until = 0.0
        self._replayed = -1
        self._status = "starting"
        self._lag: int | None = None
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._polling: asyncio.Task[None] | None = None
        self._checking: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._checking = asyncio.create_task(self.check_forever())

    async def close(self) -> None:
        for task in (self._checking, self._polling):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            *(t for t in (self._checking, self._polling) if t), return_exceptions=True
        )
        await self._replica.close()
        await self._probe.close()

    @property
    def trusted(self) -> bool:
        return time.monotonic() < self._trusted_until

    def state(self) -> ReplicaState:
        return ReplicaState(self._status, self._lag, "replica" if self.trusted else "primary")

    def distrust(self, why: str) -> None:
        if self._trusted_until:
            log.warning("replica not trusted for reads; reading the primary", why=why)
        self._trusted_until = 0.0

    async def read(self, query: Callable[[Pool], Awaitable[T]]) -> T:
        """`query` on the replica while it is trusted, else (or when it fails there) on the
        primary."""
        if not self.trusted:
            return await query(self._primary)
        try:
            return await query(self._replica)
        except Exception as exc:
            if not replica_failed(exc):
                raise
            self.distrust(f"{type(exc).__name__}: {exc}")
            return await query(self._primary)

    # -- the write side's wait ----------------------------------------------------------------

    async def written(self) -> bool:
        """Called once a write shows on the primary's read models: True when the replica has
        replayed it; False after waiting the whole bound (the trusts that could hide it have
        then ended, in every process)."""
        started = time.monotonic()
        deadline = started + self._wait
        try:
            target = await self._primary.fetchval(PRIMARY_POSITION)
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            target = None
        if target is not None:
            if self._replayed >= target:
                return True
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append((target, future))
            if self._polling is None or self._polling.done():
                self._polling = asyncio.create_task(self._poll_replay())
            try:
                await asyncio.wait_for(asyncio.shield(future), deadline - time.monotonic())
                return True
            except TimeoutError:
                pass
            finally:
                self._waiters = [w for w in self._waiters if w[1] is not future]
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        log.warning("the replica did not replay a write in time", wait=self._wait)
        return False

    async def _poll_replay(self) -> None:
        """One poll per process, only while writes wait (as PositionWatcher does)."""
        while self._waiters:
            try:
                self._seen(await self._probe.fetchval(REPLAY_POSITION))
            except Exception as exc:  # the waiting writes end at their bound anyway
                log.debug("replica position unreadable", error=f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(self._wait / 10)
                continue
            for target, future in self._waiters:
                if not future.done() and self._replayed >= target:
                    future.set_result(None)
            self._waiters = [w for w in self._waiters if not w[1].done()]
            if self._waiters:
                await asyncio.sleep(self._poll)

    def _seen(self, replayed: int | None) -> None:
        if replayed is not None:
            self._replayed = max(self._replayed, replayed)

    # -- the checks that keep the trust -------------------------------------------------------

    async def check_forever(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as exc:  # whatever it is, the replica is not known to be current
                self._status, self._lag = "unreachable", None
                self.distrust(f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(self._wait / 5)

    async def check(self) -> bool:
        """True (and trusted until L after this started) once the replica has replayed what
        the primary had when the check started."""
        started = time.monotonic()
        target = await self._primary.fetchval(PRIMARY_POSITION)
        while True:
            replayed = await self._probe.fetchval(REPLAY_POSITION)
            if replayed is None:
                self._status, self._lag = "not_a_replica", None
                self.distrust("DATABASE_READ_URL is not in recovery")
                return False
            self._seen(replayed)
            self._lag = max(0, target - replayed)
            if replayed >= target:
                self._status = "current"
                self._trusted_until = max(self._trusted_until, started + self._wait)
                return True
            if time.monotonic() - started >= self._wait / 2:
                self._status = "behind"
                return False
            await asyncio.sleep(self._poll * 5)


async def open_replica(
    primary: Pool, settings: ReplicaSettings, deadline: float, **connect: Any
) -> ReplicaRouter:
    """The router with its two pools on the replica (named in pg_stat_activity), checking.
    No connection is opened yet: a replica that is down does not stop the API."""
    assert settings.url is not None
    reads, probe = [
        await create_read_pool(
            with_application_name(settings.url, name),
            min_size=0,
            max_size=size,
            deadline=deadline,
            **connect,
        )
        for name, size in (("fastfaktura-read", settings.pool), ("fastfaktura-probe", 1))
    ]
    router = ReplicaRouter(primary, reads, probe, settings.wait_seconds)
    router.start()
    return router
