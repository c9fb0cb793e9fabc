"""Audit replay: rebuild every aggregate from its events alone and compare with the read models."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import Aggregate
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel, Row
from fastfaktura.readmodels.rows import pages, tracking_sql
from fastfaktura.readmodels.scan import PARALLEL_FROM_EVENTS, Partition, aggregates, partitions

Progress = Callable[[str, int], None]
OpenReader = Callable[[str], EventReader]


@dataclass(frozen=True)
class Difference:
    read_model: str
    table: str
    key: dict[str, str]
    problem: str

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return f"{self.table} ({key}): {self.problem}"


def replay_states(
    events: EventReader,
    model: ReadModel,
    *,
    as_of: datetime | None = None,
    progress: Progress | None = None,
    upto: int | None = None,
) -> dict[UUID, Aggregate]:
    """Every aggregate of the model, folded from its events (up to `as_of` when given)."""
    folder = Folder(events.load, maxsize=10**9)  # the whole set stays in memory: no reloads
    states: dict[UUID, Aggregate] = {}
    for page in pages(events, model, 0):
        for notification in page:
            if upto is not None and notification.id > upto:
                break
            event = events.decode(notification)
            if as_of is not None and getattr(event, "timestamp") > as_of:  # noqa: B009
                continue
            states[event.originator_id] = folder.apply(event)
        if progress is not None:
            progress(model.name, len(page))
    return states


def _as_stored(model: ReadModel, row: Row) -> Row:
    """The row as the database gives it back: JSON columns with decimals and ids as strings,
    and the id columns (uuid) as UUIDs even when an event named them as plain strings (a
    writer other than the service may; the store and the chain accept it)."""
    ids = {"business_id", *(c for cs in model.tables.values() for c in cs)}
    if model.order_column is not None:
        ids.add(model.order_column)
    return {k: _stored_value(model, ids, k, v) for k, v in row.items()}


def _stored_value(model: ReadModel, ids: set[str], column: str, value: Any) -> Any:
    if column in model.json_columns:
        return msgspec.json.decode(msgspec.json.encode(value))
    if column in ids and isinstance(value, str):
        try:
            return UUID(value)
        except ValueError:
            return value
    return value


def _key(row: Row, columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[c] for c in columns)


def _name(key: tuple[Any, ...], columns: Sequence[str]) -> dict[str, str]:
    return {c: str(v) for c, v in zip(columns, key, strict=True)}


def _row_differences(
    model: ReadModel, table: str, columns: Sequence[str], expected: Row, found: Row | None
) -> list[Difference]:
    key = _name(_key(expected, columns), columns)
    if found is None:
        return [Difference(model.name, table, key, "missing from the read model")]
    return [
        Difference(
            model.name,
            table,
            key,
            f"{column} is {found.get(column)!r} in the read model, {value!r} from the events",
        )
        for column, value in expected.items()
        if found.get(column) != value
    ]


def compare(
    events: EventReader,
    database_url: str,
    model: ReadModel,
    *,
    business_id: UUID | None = None,
    progress: Progress | None = None,
    workers: int = 2,
) -> list[Difference]:
    """Every difference between the read model and the aggregates folded from the events."""
    if model.order_column is None:
        return _compare_in_memory(events, database_url, model, business_id, progress)
    size = events.head()
    if workers <= 1 or size < PARALLEL_FROM_EVENTS:
        folded, whole = compare_partition(
            events.opener, database_url, model.name, (UUID(int=0), None), business_id
        )
        if progress is not None:
            progress(model.name, folded)
        return whole
    differences: list[Difference] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [
            pool.submit(
                compare_partition, events.opener, database_url, model.name, part, business_id
            )
            for part in partitions(workers * 8)
        ]
        for future in as_completed(futures):
            folded, found = future.result()
            differences += found
            if progress is not None:
                progress(model.name, folded)
    return differences


def compare_partition(
    open_reader: OpenReader,
    database_url: str,
    model_name: str,
    partition: Partition,
    business_id: UUID | None,
) -> tuple[int, list[Difference]]:
    """Merge-join one id range: aggregates folded in id order against rows read in id order.
    Memory stays flat. Runs in a worker process (its own connections)."""
    from fastfaktura.readmodels.models import read_model

    model = read_model(model_name)
    assert model.order_column is not None
    # Its mapper only (budget.PARTITION_CONNECTIONS).
    events = open_reader(database_url)
    low, high = partition
    params = {"low": low, "high": high, "business_id": business_id}
    differences: list[Difference] = []
    folded = 0
    try:
        with (
            psycopg.connect(database_url) as scan_conn,
            psycopg.connect(database_url, row_factory=dict_row) as rows_conn,
        ):
            set_json_loads(msgspec.json.decode, rows_conn)  # jsonb columns: C parser
            # One snapshot for the rows and the position they reflect; events are folded up to
            # that position only, so a store written to meanwhile gives no false differences.
            tracked = _snapshot_position(rows_conn, model)
            # One merge-join per table, each over its own cursor in id order.
            joins = [
                _MergeJoin(model, table, columns, rows_conn, params, differences)
                for table, columns in model.tables.items()
            ]
            for aggregate in aggregates(events, scan_conn, model, partition, upto=tracked):
                folded += aggregate.version
                computed = model.rows(aggregate)
                for join in joins:
                    join.expect(computed[join.table], business_id)
            for join in joins:
                join.finish()
    finally:
        events.close()
    return folded, differences


class _MergeJoin:
    """Rows computed from the events, in id order, against one table's rows read in id order:
    every difference goes to `differences`."""

    def __init__(
        self,
        model: ReadModel,
        table: str,
        columns: Sequence[str],
        conn: psycopg.Connection[Any],
        params: dict[str, Any],
        differences: list[Difference],
    ) -> None:
        assert model.order_column is not None
        self.model, self.table, self.columns = model, table, columns
        self.order = model.order_column
        self.differences = differences
        # The aggregate's id, then the key: several rows of one aggregate come in key order.
        query = sql.SQL(local_statement(__file__, "audit.sql", "rows_in_id_order")).format(
            table=sql.Identifier(table),
            order=sql.Identifier(self.order),
            ordering=sql.SQL(", ").join(sql.Identifier(c) for c in (self.order, *columns)),
        )
        cursor = conn.cursor(name=f"fastfaktura_audit_{table}")
        cursor.itersize = 2000
        cursor.execute(query, params)
        self._actual = iter(cursor)
        self._pending: Row | None = next(self._actual, None)

    def _position(self, row: Row) -> tuple[Any, ...]:
        return (row[self.order], *(row[c] for c in self.columns))

    def _extra(self, row: Row) -> None:
        key = _name(_key(row, self.columns), self.columns)
        self.differences.append(
            Difference(self.model.name, self.table, key, "in the read model but not in the events")
        )

    def expect(self, computed: list[Row], business_id: UUID | None) -> None:
        model, table, columns = self.model, self.table, self.columns
        rows = [
            _as_stored(model, row)
            for row in computed
            if business_id is None or row.get("business_id") == business_id
        ]
        for expected in sorted(rows, key=self._position):
            # Rows before this one in the read model have no events: report them.
            while self._pending is not None and self._position(self._pending) < self._position(
                expected
            ):
                self._extra(self._pending)
                self._pending = next(self._actual, None)
            pending = self._pending
            if pending is not None and self._position(pending) == self._position(expected):
                self.differences += _row_differences(model, table, columns, expected, pending)
                self._pending = next(self._actual, None)
            else:
                self.differences += _row_differences(model, table, columns, expected, None)

    def finish(self) -> None:
        while self._pending is not None:
            self._extra(self._pending)
            self._pending = next(self._actual, None)


def _snapshot_position(conn: psycopg.Connection[Any], model: ReadModel) -> int:
    """Start a REPEATABLE READ transaction and read the model's tracking position in it."""
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    row = conn.execute(tracking_sql(model, "position")).fetchone()
    return int(row["notification_id"] or 0) if row else 0


def _compare_in_memory(
    events: EventReader,
    database_url: str,
    model: ReadModel,
    business_id: UUID | None,
    progress: Progress | None,
) -> list[Difference]:
    """For small models keyed by something other than the aggregate id (API keys)."""
    differences: list[Difference] = []
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        tracked = _snapshot_position(conn, model)
        states = replay_states(events, model, progress=progress, upto=tracked)
        for table, key_columns in model.tables.items():
            expected: dict[tuple[Any, ...], Row] = {}
            for state in states.values():
                for row in model.rows(state).get(table, []):
                    if business_id is None or row.get("business_id") == business_id:
                        expected[_key(row, key_columns)] = _as_stored(model, row)
            query = sql.SQL(local_statement(__file__, "audit.sql", "all_rows")).format(
                table=sql.Identifier(table)
            )
            params = {"business_id": business_id}
            actual = {_key(row, key_columns): row for row in conn.execute(query, params)}
            for key, row in expected.items():
                differences += _row_differences(model, table, key_columns, row, actual.get(key))
            for key in actual.keys() - expected.keys():
                differences.append(
                    Difference(
                        model.name,
                        table,
                        _name(key, key_columns),
                        "in the read model but not in the events",
                    )
                )
    return differences
