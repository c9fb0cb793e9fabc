"""Deadlines on every database call (docs/operations.md, "Deadlines and availability").

A stopped PostgreSQL refuses connections at once; a frozen or overloaded one accepts them and
never answers. Each call therefore has a bound on both sides:

- server side: `statement_timeout` on every session (and `lock_timeout` for the event store's
  table lock), so a slow statement is cancelled by the server itself;
- client side: connect, pool acquire and each command wait at most the deadline, because a
  frozen server cannot enforce its own timeouts.

The read side (asyncpg) gets all of them from `create_read_pool`. The write side
(eventsourcing's psycopg pool, used from worker threads) gets the server-side ones, the connect
and the pool-acquire timeouts from `bound_pool` (called by adapters/database.py's factory), and
the request waits for a command thread at most the deadline (`run_in_thread`): the thread
itself stays blocked in the socket until the server wakes (or its connection breaks), then
finishes or fails on its own.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final, TypeVar

import anyio
import anyio.to_thread
import asyncpg
import eventsourcing.persistence
import psycopg
from eventsourcing.application import Application

T = TypeVar("T")

# The key in an eventsourcing environment (see ConnectionParams.eventsourcing_env).
DEADLINE_ENV_KEY = "FASTFAKTURA_DATABASE_TIMEOUT"


# PostgreSQL unreachable, gone mid-call, too slow (a deadline passed: TimeoutError is an
# OSError), or refusing work for now (shutting down, starting up, out of connections, a
# statement or lock timeout). Both drivers, and eventsourcing's wrappers of psycopg's errors.
_UNAVAILABLE: Final[tuple[type[BaseException], ...]] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.LockNotAvailableError,
    # A connection that broke under a query leaves asyncpg's protocol in a state it reports as
    # an internal error ("cannot switch to state ...; another operation is in progress") on
    # its next use or its reset; a stale statement cache is the other case. Both pass with a
    # fresh connection.
    asyncpg.InternalClientError,
    psycopg.OperationalError,
    eventsourcing.persistence.OperationalError,
    eventsourcing.persistence.InterfaceError,
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, what it was raised from, or what it was raised while handling says the
    database is unavailable or too slow: answered 503 with Retry-After, never 500. (asyncpg,
    releasing a connection that broke mid-query, raises an internal error while handling the
    connection error.)"""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        # asyncpg's bare InterfaceError: "connection is closed", "pool is closing" (its
        # subclasses, such as DataError, are our bugs).
        if isinstance(seen, _UNAVAILABLE) or type(seen) is asyncpg.InterfaceError:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def statement_timeout_ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def whole_seconds(seconds: float) -> int:
    """Settings the library and libpq take only in whole seconds (never 0: that is 'forever')."""
    return max(1, math.ceil(seconds))


def bound_pool(pool: Any, seconds: float) -> None:
    """Bound eventsourcing's psycopg pool by the deadline: `statement_timeout` on every
    session, a libpq connect timeout, a pool-acquire timeout, and reconnection attempts that
    never back off for longer than a few deadlines (so the pool is back soon after the server
    is). Called by adapters/database.py TunedPostgresFactory."""
    assert isinstance(pool.kwargs, dict)
    pool.kwargs["connect_timeout"] = whole_seconds(seconds)
    pool.kwargs["options"] = f"-c statement_timeout={statement_timeout_ms(seconds)}"
    # getconn(): how long a command waits for a pooled connection.
    pool.timeout = seconds
    # psycopg_pool doubles its reconnect delay up to this horizon, then gives up and starts
    # afresh at the next getconn(): keep it short, or recovery waits for a long backoff.
    pool.reconnect_timeout = max(3 * seconds, 5.0)


class DeadlinePool(asyncpg.Pool):  # type: ignore[misc]
    """An asyncpg pool whose every acquire waits at most the deadline: asyncpg's own helpers
    (pool.fetch, pool.fetchrow, ...) acquire without a timeout, and with a frozen server every
    connection stays busy until its command times out."""

    __slots__ = ("_acquire_timeout",)

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> Any:
        return super().acquire(timeout=self._acquire_timeout if timeout is None else timeout)


class StatelessSessionConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset query (`SELECT
    pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): one round trip less per
    release, about a sixth of the API's CPU per read (issue 12). Only for pools whose users
    never change session state (no SET, LISTEN, session advisory lock, WITH HOLD cursor,
    temporary table, SQL PREPARE): tests/api/test_pool_release.py checks that the API leaves
    none. asyncpg still rolls back an open transaction and drops listeners on release."""

    def get_reset_query(self) -> str:
        return ""


def create_read_pool(
    database_url: str,
    *,
    min_size: int,
    max_size: int,
    deadline: float,
    stateless_sessions: bool = False,
    **connect: Any,
) -> DeadlinePool:
    """The API's asyncpg pool (await it): connect, acquire and every statement bounded by
    `deadline` seconds, on the client and (statement_timeout) on the server.
    `stateless_sessions`: released without the reset query (StatelessSessionConnection)."""
    return DeadlinePool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        acquire_timeout=deadline,
        # asyncpg.create_pool's defaults.
        max_queries=50000,
        max_inactive_connection_lifetime=300.0,
        loop=None,
        connection_class=StatelessSessionConnection if stateless_sessions else asyncpg.Connection,
        record_class=asyncpg.Record,
        # Connection arguments: connect timeout, per-command timeout, server-side timeout.
        timeout=deadline,
        command_timeout=deadline,
        server_settings={"statement_timeout": str(statement_timeout_ms(deadline))},
        # Further connection arguments (statement_cache_size=0 behind PgBouncer).
        **connect,
    )


def deadline_of(app: Application[Any]) -> float | None:
    """The deadline an application was built with (eventsourcing_env(timeout=...)), if any."""
    raw = app.env.get(DEADLINE_ENV_KEY)
    return float(raw) if raw else None


async def run_in_thread(func: Callable[[], T], deadline: float | None) -> T:
    """`func()` in a worker thread; TimeoutError when it has not finished within `deadline`.

    The thread is abandoned, not stopped (a thread blocked in a socket cannot be): it finishes
    or fails when the server answers or its connection breaks. Its outcome is then unknown to
    the caller: a write may still commit once a frozen server wakes.
    """
    if deadline is None:
        return await anyio.to_thread.run_sync(func)
    with anyio.fail_after(deadline):
        return await anyio.to_thread.run_sync(func, abandon_on_cancel=True)
