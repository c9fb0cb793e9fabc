"""The tracking rows: the wait for read-your-writes (`PositionWatcher`) and each read model's
position and lag (`status`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from asyncpg import Pool

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.model import ReadModel

log = structlog.get_logger(__name__)


def _tracking(model: ReadModel, name: str) -> str:
    # The table name is a code constant of the read model, never user input.
    return local_statement(__file__, "../tracking/queries.sql", name).format(
        tracking=model.tracking_table
    )


def targets(models: Sequence[ReadModel], recorded: Sequence[tuple[int, str]]) -> dict[str, int]:
    """Per read model, the last just-recorded event that concerns it (by topic)."""
    wanted: dict[str, int] = {}
    for model in models:
        topics = set(model.topics)
        last = max((nid for nid, topic in recorded if topic in topics), default=None)
        if last is not None:
            wanted[model.name] = last
    return wanted


class PositionWatcher:
    """Lets writers wait until read models have applied their events (read-your-writes).

    One polling task per process reads every tracking row in one query, about every
    millisecond and only while someone waits, then wakes the waiters it satisfies; however
    many requests wait, the database sees one small query at a time. (The library's wait()
    first sleeps 100 ms.)
    """

    def __init__(self, pool: Pool, models: Sequence[ReadModel], interval: float = 0.001) -> None:
        self._pool = pool
        self._models = list(models)
        self._interval = interval
        self._sql = " UNION ALL ".join(
            f"SELECT '{m.name}', ({_tracking(m, 'position').rstrip(';')})" for m in self._models
        )
        self._waiters: list[tuple[dict[str, int], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def wait(self, recorded: Sequence[tuple[int, str]], timeout: float) -> bool:
        """True once every affected read model shows the events; False after `timeout`."""
        wanted = targets(self._models, recorded)
        if not wanted:
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((wanted, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    async def _poll(self) -> None:
        while self._waiters:
            try:
                rows = await self._pool.fetch(self._sql)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("tracking positions unreadable; retrying", error=str(exc))
                await asyncio.sleep(0.1)
                continue
            positions = {name: position or 0 for name, position in rows}
            for wanted, future in self._waiters:
                if not future.done() and all(positions.get(n, 0) >= p for n, p in wanted.items()):
                    future.set_result(None)
            self._waiters = [w for w in self._waiters if not w[1].done()]
            if self._waiters:
                await asyncio.sleep(self._interval)


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    head: int
    lag: int


async def status(pool: Pool, models: Sequence[ReadModel]) -> list[ProjectionStatus]:
    result = []
    async with pool.acquire() as conn:
        for model in models:
            row = await conn.fetchrow(_tracking(model, "status"), list(model.topics))
            result.append(
                ProjectionStatus(
                    model.name, int(row["position"] or 0), int(row["head"] or 0), int(row["lag"])
                )
            )
    return result
