"""PostgreSQL: the embedded server, connection URLs, and the migration runner.

PostgreSQL is the only database. When no DATABASE_URL is given, an embedded server (the `pgserver`
wheel) is started under $FASTFAKTURA_HOME/pg; several processes on one home share it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlparse, urlunparse

import psycopg
import structlog
from eventsourcing.persistence import Mapper, Transcoder
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment, strtobool

from fastfaktura.adapters.deadlines import DEADLINE_ENV_KEY, bound_pool, whole_seconds
from fastfaktura.adapters.event_decoding import msgspec_mapper
from fastfaktura.adapters.event_store import OneRoundTripRecorder

log = structlog.get_logger(__name__)

APPLICATION_NAME = "Invoicing"
EVENTS_TABLE = "invoicing_events"


def sql_root() -> Path:
    """Where migrations/ and projections/ live: in the wheel, or at the repository root."""
    packaged = Path(__file__).resolve().parent.parent / "_sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3]


def start_embedded(home: Path, *, keep_running: bool = False) -> str:
    """Start (or join) the embedded PostgreSQL under `home`/pg and return its URL.

    The server stops when the last process that joined it exits, unless `keep_running`.
    """
    from pgserver.postgres_server import get_server

    pgdata = (home / "pg").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    return str(server.get_uri())


@dataclass(frozen=True)
class ConnectionParams:
    """A PostgreSQL URL split into the parts eventsourcing's POSTGRES_* settings need."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    application_name: str | None = None

    @classmethod
    def from_url(cls, url: str) -> ConnectionParams:
        parsed = urlparse(url)
        query = parse_qs(parsed.query)
        host = parsed.hostname or query.get("host", ["localhost"])[0]
        return cls(
            host=unquote(host),
            port=parsed.port or int(query.get("port", ["5432"])[0]),
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
            dbname=(parsed.path or "/postgres").lstrip("/") or "postgres",
            application_name=query.get("application_name", [None])[0],
        )

    def eventsourcing_env(
        self,
        *,
        pool_size: int,
        max_overflow: int,
        aggregate_cache: int = 0,
        prepared_statements: bool = True,
        timeout: float | None = None,
    ) -> dict[str, str]:
        """The environment for an eventsourcing Application or tracking recorder.

        `prepared_statements` off: for a transaction pooler (PgBouncer), where the next
        statement may run on another server session than the one that prepared it.

        `aggregate_cache`: keep that many aggregates in memory and fast-forward them with only
        their new events (read from the store on every get, so other processes' writes are
        seen). Long streams, like a busy business's numbering series, then cost one small
        read instead of a full replay per command.

        `timeout`: the deadline (seconds) of every database call: connect, pool acquire,
        statement, and the event store's table lock (adapters/deadlines.py).
        """
        cache = (
            {"AGGREGATE_CACHE_MAXSIZE": str(aggregate_cache), "AGGREGATE_CACHE_FASTFORWARD": "y"}
            if aggregate_cache
            else {}
        )
        bounded = (
            {
                DEADLINE_ENV_KEY: repr(float(timeout)),
                "POSTGRES_CONNECT_TIMEOUT": str(whole_seconds(timeout)),
                "POSTGRES_LOCK_TIMEOUT": str(whole_seconds(timeout)),
            }
            if timeout
            else {}
        )
        return {
            **cache,
            "PERSISTENCE_MODULE": f"{__name__}:{TunedPostgresFactory.__qualname__}",
            NO_PREPARED_STATEMENTS: "n" if prepared_statements else "y",
            **({APPLICATION_NAME_KEY: self.application_name} if self.application_name else {}),
            **bounded,
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(max_overflow),
            # Migrations own every table (see migrations/).
            "CREATE_TABLE": "n",
            # Never the db-function insert path: it drops the table lock that keeps
            # notification order equal to commit order (live subscribers would miss events).
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
        }


NO_PREPARED_STATEMENTS = "FASTFAKTURA_NO_PREPARED_STATEMENTS"
APPLICATION_NAME_KEY = "FASTFAKTURA_APPLICATION_NAME"


class TunedPostgresFactory(PostgresFactory):
    """eventsourcing's PostgreSQL persistence, with connection options its settings lack:
    the session's application_name (which process holds which connection, in
    pg_stat_activity); no server-side prepared statements behind a transaction pooler (the
    library prepares its statements explicitly; psycopg's prepare_threshold=None is the only
    switch that stops that too); and, when the environment has a deadline, bounds on every
    call (adapters/deadlines.py). Its appends take one round trip (adapters/event_store.py),
    and its mapper decodes with msgspec (adapters/event_decoding.py): the write side's
    aggregate loads and the live runners decoded with the stdlib's json (a runner's profile
    under POST load: 6 % of its time); the encoding, so the stored bytes, is unchanged."""

    application_recorder_class = OneRoundTripRecorder

    def __init__(self, env: Environment | dict[str, str] | None) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        options = pool.kwargs
        assert isinstance(options, dict)  # the library passes a dict
        if name := self.env.get(APPLICATION_NAME_KEY):
            options["application_name"] = name
        if strtobool(self.env.get(NO_PREPARED_STATEMENTS) or "n"):
            options["prepare_threshold"] = None
        if raw := self.env.get(DEADLINE_ENV_KEY):
            bound_pool(pool, float(raw))

    def mapper(
        self,
        transcoder: Transcoder | None = None,
        mapper_class: type[Mapper[Any]] | None = None,
    ) -> Mapper[Any]:
        return msgspec_mapper(super().mapper(transcoder, mapper_class))


def with_application_name(url: str, name: str) -> str:
    """The URL with `application_name` set, unless it names one already (psycopg, asyncpg and
    PgBouncer all pass it on to pg_stat_activity)."""
    parsed = urlparse(url)
    query = parse_qs(parsed.query, keep_blank_values=True)
    if "application_name" in query:
        return url
    extra = urlencode({"application_name": name[:63]}, quote_via=quote)
    return urlunparse(parsed._replace(query=f"{parsed.query}&{extra}" if parsed.query else extra))


def migration_files() -> list[Path]:
    return sorted((sql_root() / "migrations").glob("[0-9]*.sql"))


def migrate(url: str) -> list[str]:
    """Apply every migration not yet applied, each in its own transaction. Returns their names.

    An advisory lock makes concurrent `migrate` calls (server and CLI starting together) safe.
    """
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext('fastfaktura.migrate'))")
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for path in migration_files():
                if path.name in done:
                    continue
                sql = path.read_text()
                checksum = hashlib.sha256(sql.encode()).hexdigest()
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                        (path.name, checksum),
                    )
                applied_now.append(path.name)
                log.info("migration applied", migration=path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext('fastfaktura.migrate'))")
    return applied_now


def resolve_database_url(
    database_url: str | None, home: Path, *, keep_running: bool = False
) -> str:
    """DATABASE_URL when set, else the embedded server's URL (starting it if needed)."""
    if database_url:
        return database_url
    return start_embedded(home, keep_running=keep_running)
