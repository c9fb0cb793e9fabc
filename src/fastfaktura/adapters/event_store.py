"""The event store's append in one round trip (issue 12; migration 0030).

eventsourcing's PostgreSQL recorder appends with LOCK TABLE + NOTIFY + INSERT in a pipeline,
then a COMMIT: two round trips, and the table lock that serialises every append is held
between them, while the writing thread waits for the answer and then for the GIL. This
recorder calls `invoicing_events_append` (migration 0030) instead: the same statements, in the
same order, as one statement in autocommit mode, so the lock is taken and released within the
server. Notification-id order stays commit order (the lock is held from before the first id is
drawn until commit), so live subscribers never skip an event; the hash chain's trigger runs as
before.

Its reads are the library's statements too, rendered once per shape: the library composes them
with psycopg.sql on every call, and rendering them (identifier escaping included) was a
quarter of a live runner's pull thread and an eighth of a command's database work (py-spy,
issue 12). They select only the columns the library reads (not the hash chain's).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from uuid import UUID

from eventsourcing.persistence import (
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Connection
from psycopg.sql import SQL, Composed, Identifier

# The one table migration 0030's function appends to (the application named "Invoicing").
APPEND_TABLE: Final = "invoicing_events"
APPEND_FUNCTION: Final = "invoicing_events_append"


class OneRoundTripRecorder(PostgresApplicationRecorder):
    """The library's application recorder, whose append of `invoicing_events` is one
    statement. Any other table, a tracking record (a process recorder's), the library's
    db-function mode, or a store not migrated to 0030 when the recorder was built (a tool on an
    old schema) take the library's own path."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = APPEND_TABLE):
        super().__init__(datastore, events_table_name=events_table_name)
        self.one_round_trip = events_table_name == APPEND_TABLE and self._function_exists()
        self.append_statement = SQL(
            "SELECT notification_id FROM {schema}.{function}"
            "(%s::{schema}.{event_type}[], %s) AS notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            function=Identifier(APPEND_FUNCTION),
            event_type=Identifier(self.stored_event_type_name),
        )
        self.wait_for_lock = f"{int(datastore.lock_timeout)}s"
        self._statements: dict[tuple[str, str], bytes] = {}

    def _function_exists(self) -> bool:
        signature = (
            f"{self.datastore.schema}.{APPEND_FUNCTION}"
            f"({self.datastore.schema}.{self.stored_event_type_name}[], text)"
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute("SELECT to_regprocedure(%s) IS NOT NULL AS found", (signature,))
            row = curs.fetchone()
        return bool(row and row["found"])

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if (
            not self.one_round_trip
            or not stored_events
            or kwargs.get("tracking") is not None
            or self.datastore.enable_db_functions
        ):
            library: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return library
        appended: Sequence[int] = self._append(stored_events)
        return appended

    # The library's retry policy for its own insert: a broken connection or a lock timeout.
    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _append(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        # The pool's connections are in autocommit mode (the library's after_connect): the
        # statement is its own transaction, committed before the answer comes back.
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.append_statement, (events, self.wait_for_lock), prepare=True)
            return [row["notification_id"] for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        conditions: list[str] = []
        params: list[Any] = []
        if start is not None:
            conditions.append("notification_id>=%s" if inclusive_of_start else "notification_id>%s")
            params.append(start)
        if stop is not None:
            conditions.append("notification_id <= %s")
            params.append(stop)
        if topics:
            conditions.append("topic = ANY(%s)")
            params.append(list(topics))
        params.append(limit)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        tail = f"{where} ORDER BY notification_id LIMIT %s"
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            statement = self._rendered(conn, _NOTIFICATION_COLUMNS, tail)
            curs.execute(statement, params, prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        tail = " WHERE originator_id = %s"
        params: list[Any] = [originator_id]
        if gt is not None:
            tail += " AND originator_version > %s"
            params.append(gt)
        if lte is not None:
            tail += " AND originator_version <= %s"
            params.append(lte)
        tail += " ORDER BY originator_version DESC" if desc else " ORDER BY originator_version ASC"
        if limit is not None:
            tail += " LIMIT %s"
            params.append(limit)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._rendered(conn, _EVENT_COLUMNS, tail), params, prepare=True)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]

    def _rendered(self, conn: Connection[Any], columns: str, tail: str) -> bytes:
        """`SELECT columns FROM <this table> tail`, rendered once (the text depends only on
        the shape of the call; every value is a parameter)."""
        key = (columns, tail)
        statement = self._statements.get(key)
        if statement is None:
            composed: Composed = SQL("SELECT {columns} FROM {schema}.{table}{tail}").format(
                columns=SQL(columns),  # a constant of this module
                schema=Identifier(self.datastore.schema),
                table=Identifier(self.events_table_name),
                tail=SQL(tail),  # built above from constants
            )
            statement = self._statements[key] = composed.as_bytes(conn)
        return statement


_NOTIFICATION_COLUMNS: Final = "notification_id, originator_id, originator_version, topic, state"
_EVENT_COLUMNS: Final = "originator_id, originator_version, topic, state"
