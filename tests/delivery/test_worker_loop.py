"""The loop the delivery and payments workers share (policies.loop.LockedWorker), on the real
database: a worker never goes on working once the session holding its lock is gone."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import asyncpg
import psycopg

from fastfaktura.policies.loop import LockedWorker


@dataclass
class SlowBatchWorker(LockedWorker):
    """Its first batch lasts until cancelled (a PDF, an SMTP exchange: work that takes long);
    later ones find nothing to do."""

    LOCK: ClassVar[str] = f"test.worker-loop-{secrets.token_hex(3)}"
    pool: asyncpg.Pool
    poll_seconds: float = 0.05
    restart_seconds: float = 0.05
    status: str = "starting"
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    batches: int = 0
    first_batch_stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_once(self) -> int:
        self.batches += 1
        if self.batches == 1:
            try:
                await asyncio.Event().wait()
            finally:
                self.first_batch_stopped.set()
        return 0


async def test_a_batch_stops_when_the_lock_connection_is_lost(database_url: str) -> None:
    name = f"ff-loop-{secrets.token_hex(3)}"
    pool = await asyncpg.create_pool(
        database_url, min_size=1, max_size=2, server_settings={"application_name": name}
    )
    worker = SlowBatchWorker(pool)
    task = asyncio.create_task(worker.run())
    try:
        await wait_for(lambda: worker.batches == 1)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (name,),
            )
        # The batch in flight stops with the lock, and the worker stops saying it runs.
        await wait_for(worker.first_batch_stopped.is_set, timeout=5.0)
        assert worker.status != "running"
        # Then it takes the lock again, on a new connection, and goes on.
        await wait_for(lambda: worker.status == "running" and worker.batches >= 2)
        with psycopg.connect(database_url, autocommit=True) as conn:
            held = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = %s"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext(%s)::bigint",
                (name, worker.LOCK),
            ).fetchone()
        assert held == (1,)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await asyncio.wait_for(pool.close(), 10)


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)
