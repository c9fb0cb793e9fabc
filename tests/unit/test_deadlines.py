"""The database deadline setting, and which errors mean "database unavailable or too slow"
(answered 503) rather than a bug (answered 500)."""

from __future__ import annotations

import asyncpg
import eventsourcing.persistence
import psycopg
import psycopg_pool
import pytest

from fastfaktura.adapters.database import ConnectionParams
from fastfaktura.adapters.deadlines import database_unavailable
from fastfaktura.config import Settings


def test_the_deadline_is_5_seconds_unless_set() -> None:
    assert Settings.from_env({}).database_timeout == 5.0
    assert (
        Settings.from_env({"FASTFAKTURA_DATABASE_TIMEOUT_SECONDS": "0.75"}).database_timeout == 0.75
    )


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "inf"])
def test_a_deadline_that_is_not_a_positive_number_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="FASTFAKTURA_DATABASE_TIMEOUT_SECONDS"):
        Settings.from_env({"FASTFAKTURA_DATABASE_TIMEOUT_SECONDS": raw})


def test_the_write_side_environment_carries_the_deadline() -> None:
    params = ConnectionParams.from_url("postgresql://u:p@db:5432/app")
    env = params.eventsourcing_env(pool_size=1, max_overflow=0, timeout=1.5)
    assert env["PERSISTENCE_MODULE"] == "fastfaktura.adapters.database:TunedPostgresFactory"
    # The library takes whole seconds: rounded up, never 0 (which would mean "forever").
    assert env["POSTGRES_CONNECT_TIMEOUT"] == env["POSTGRES_LOCK_TIMEOUT"] == "2"
    unbounded = params.eventsourcing_env(pool_size=1, max_overflow=0)
    # Same factory (it also names connections and handles PgBouncer), without the bounds.
    assert unbounded["PERSISTENCE_MODULE"] == env["PERSISTENCE_MODULE"]
    assert "POSTGRES_CONNECT_TIMEOUT" not in unbounded
    assert not any(key.startswith("FASTFAKTURA_DATABASE") for key in unbounded)


def _raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        raise exc from cause
    except BaseException as raised:
        return raised


def _raised_while_handling(exc: BaseException, handled: BaseException) -> BaseException:
    try:
        try:
            raise handled
        except BaseException:
            raise exc  # noqa: B904 - implicitly chained, as asyncpg's pool does
    except BaseException as raised:
        return raised


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionRefusedError(),
        FileNotFoundError(),  # a Unix socket that is gone: the server is stopped
        TimeoutError(),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.TooManyConnectionsError("too many clients"),
        asyncpg.ConnectionDoesNotExistError("connection was closed"),
        asyncpg.InterfaceError("cannot perform operation: connection is closed"),
        asyncpg.InternalClientError("cannot switch to state 12; another operation (2) is ..."),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 1.00 sec"),
        eventsourcing.persistence.OperationalError("connection failed"),
        eventsourcing.persistence.InterfaceError("connection closed"),
        _raised_from(RuntimeError("wrapped"), psycopg.OperationalError("gone")),
        _raised_while_handling(
            asyncpg.InternalClientError("cannot switch to state 15"),
            asyncpg.ConnectionDoesNotExistError("connection was closed in the middle"),
        ),
    ],
)
def test_database_unavailable(exc: BaseException) -> None:
    assert database_unavailable(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("a bug"),
        KeyError("a bug"),
        asyncpg.DataError("invalid input for query argument"),
        asyncpg.UniqueViolationError("duplicate key"),
        psycopg.ProgrammingError("syntax error"),
        eventsourcing.persistence.IntegrityError("duplicate"),
    ],
)
def test_bugs_and_data_errors_are_not_unavailability(exc: BaseException) -> None:
    assert not database_unavailable(exc)
