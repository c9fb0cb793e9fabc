"""The tracking rows: the wait for read-your-writes (`PositionWatcher`) and each read model's
position and lag (`status`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from asyncpg import Pool

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.applied import AppliedBoard
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
        topics = model.topics  # a few names: a tuple is searched faster than a set is built
        last = max((nid for nid, topic in recorded if topic in topics), default=None)
        if last is not None:
            wanted[model.name] = last
    return wanted


class PositionWatcher:
    """Lets writers wait until read models have applied their events (read-your-writes).

    One polling task per process reads every tracking row in one query, only while someone
    waits, then wakes the waiters it satisfies; however many requests wait, the database sees
    one small query at a time. (The library's wait() first sleeps 100 ms.)

    With a `board` (readmodels/applied.py), the runners of this process announce each commit:
    a waiter is satisfied from memory the moment its runner commits, and while this process's
    runners cover every model waited on, the tracking rows are read only every
    `covered_interval` seconds (the fallback, should an announcement never come); otherwise
    every `interval` seconds.
    """

    def __init__(
        self,
        pool: Pool,
        models: Sequence[ReadModel],
        interval: float = 0.001,
        *,
        board: AppliedBoard | None = None,
        covered_interval: float = 0.05,
    ) -> None:
        self._pool = pool
        self._models = list(models)
        self._interval = interval
        self._covered_interval = covered_interval
        self._board = board
        self._sql = " UNION ALL ".join(
            f"SELECT '{m.name}', ({_tracking(m, 'position').rstrip(';')})" for m in self._models
        )
        self._waiters: list[tuple[dict[str, int], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._announced = asyncio.Event()
        self._listening: asyncio.AbstractEventLoop | None = None

    async def wait(self, recorded: Sequence[tuple[int, str]], timeout: float) -> bool:
        """True once every affected read model shows the events; False after `timeout`."""
        wanted = targets(self._models, recorded)
        if not wanted:
            return True
        if self._board is not None:
            if _reached(self._board.positions(), wanted):
                return True
            self._listen()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((wanted, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        else:
            self._announced.set()  # the poll task recomputes its next read for this waiter
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._waiters = [w for w in self._waiters if w[1] is not future]

    def _listen(self) -> None:
        """Subscribe to the board once per event loop (a runner thread calls it)."""
        loop = asyncio.get_running_loop()
        if self._listening is loop or self._board is None:
            return
        announced = self._announced = asyncio.Event()

        def wake() -> None:
            loop.call_soon_threadsafe(announced.set)

        self._board.listen(wake)
        self._listening = loop

    async def _poll(self) -> None:
        loop = asyncio.get_running_loop()
        # Covered by this process's runners: their announcement comes first; else read now.
        next_read = loop.time() + (self._covered_interval if self._covered() else 0.0)
        while self._waiters:
            self._announced.clear()
            if self._board is not None:
                self._settle(self._board.positions())
            if self._waiters and loop.time() >= next_read:
                try:
                    rows = await self._pool.fetch(self._sql)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("tracking positions unreadable; retrying", error=str(exc))
                    await asyncio.sleep(0.1)
                    continue
                self._settle({name: position or 0 for name, position in rows})
                next_read = loop.time() + self._fallback_interval()
            if self._waiters:
                # Woken by an announcement (or a new waiter), else at the next read.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._announced.wait(), max(0.0, next_read - loop.time())
                    )
                next_read = min(next_read, loop.time() + self._fallback_interval())

    def _fallback_interval(self) -> float:
        return self._covered_interval if self._covered() else self._interval

    def _covered(self) -> bool:
        waited = {name for wanted, _ in self._waiters for name in wanted}
        return self._board is not None and self._board.runs_all(waited)

    def _settle(self, positions: dict[str, int]) -> None:
        for wanted, future in self._waiters:
            if not future.done() and _reached(positions, wanted):
                future.set_result(None)
        self._waiters = [w for w in self._waiters if not w[1].done()]


def _reached(positions: dict[str, int], wanted: dict[str, int]) -> bool:
    return all(positions.get(name, 0) >= position for name, position in wanted.items())


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
