"""The audit's comparison: rows computed from the events against a read model's table, read in
the same aggregate-id order (a merge join), every difference named."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.model import ReadModel, Row

# Read-model rows fetched per round trip of the join's cursor.
ROWS_PER_FETCH = 5000


@dataclass(frozen=True)
class Difference:
    read_model: str
    table: str
    key: dict[str, str]
    problem: str

    def __str__(self) -> str:
        key = ", ".join(f"{k}={v}" for k, v in self.key.items())
        return f"{self.table} ({key}): {self.problem}"


def id_columns(model: ReadModel) -> frozenset[str]:
    """Columns of uuid type whose value an event may name as a plain string."""
    ids = {"business_id", *(c for cs in model.tables.values() for c in cs)}
    if model.order_column is not None:
        ids.add(model.order_column)
    return frozenset(ids)


def as_stored(model: ReadModel, ids: frozenset[str], row: Row) -> Row:
    """The row as the database gives it back: JSON columns with decimals and ids as strings,
    and the id columns (uuid) as UUIDs even when an event named them as plain strings (a
    writer other than the service may; the store and the chain accept it)."""
    stored = dict(row)
    json_columns = [column for column in model.json_columns if column in stored]
    if json_columns:  # all of the row's in one encode and one decode
        values = msgspec.json.decode(msgspec.json.encode([stored[c] for c in json_columns]))
        stored.update(zip(json_columns, values, strict=True))
    for column in ids:
        value = stored.get(column)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # not an id after all: compared as is
                stored[column] = UUID(value)
    return stored


def key_of(row: Row, columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[c] for c in columns)


def named(key: tuple[Any, ...], columns: Sequence[str]) -> dict[str, str]:
    return {c: str(v) for c, v in zip(columns, key, strict=True)}


def row_differences(
    model: ReadModel, table: str, columns: Sequence[str], expected: Row, found: Row | None
) -> list[Difference]:
    key = named(key_of(expected, columns), columns)
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


class MergeJoin:
    """Rows computed from the events, in id order, against one table's rows read in id order
    (one server-side cursor): every difference goes to `differences`."""

    def __init__(
        self,
        model: ReadModel,
        table: str,
        conn: psycopg.Connection[Any],
        params: dict[str, Any],
        differences: list[Difference],
    ) -> None:
        assert model.order_column is not None
        self.model, self.table, self.columns = model, table, model.tables[table]
        self.order = model.order_column
        self.ids = id_columns(model)
        self.differences = differences
        self._position = itemgetter(self.order, *self.columns)
        self._getters: dict[tuple[str, ...], Any] = {}
        # The aggregate's id, then the key: several rows of one aggregate come in key order.
        query = sql.SQL(local_statement(__file__, "audit.sql", "rows_in_id_order")).format(
            table=sql.Identifier(table),
            order=sql.Identifier(self.order),
            ordering=sql.SQL(", ").join(sql.Identifier(c) for c in (self.order, *self.columns)),
        )
        # Binary: the ids, times and a stored answer (bytea, 4 kB) come as they are, not as
        # text to parse (the join's fetches were a fifth of an audit worker's CPU).
        self._cursor = conn.cursor(
            name=f"fastfaktura_audit_{table}", row_factory=dict_row, binary=True
        )
        self._cursor.itersize = ROWS_PER_FETCH
        self._cursor.execute(query, params)
        self._actual = iter(self._cursor)
        self._pending: Row | None = next(self._actual, None)

    def _next(self) -> None:
        self._pending = next(self._actual, None)

    def _extra(self, row: Row) -> None:
        key = named(key_of(row, self.columns), self.columns)
        self.differences.append(
            Difference(self.model.name, self.table, key, "in the read model but not in the events")
        )

    def _same(self, expected: Row, found: Row) -> bool:
        """Every computed column equal to the stored one (checked in C: one tuple compare)."""
        columns = tuple(expected)
        getter = self._getters.get(columns)
        if getter is None:
            getter = self._getters[columns] = itemgetter(*columns)
        try:
            values = getter(found)
        except KeyError:
            return False
        return bool(
            values == (tuple(expected.values()) if len(columns) > 1 else expected[columns[0]])
        )

    def expect(self, computed: list[Row], business_id: UUID | None) -> None:
        model, table, columns, position = self.model, self.table, self.columns, self._position
        rows = [
            as_stored(model, self.ids, row)
            for row in computed
            if business_id is None or row.get("business_id") == business_id
        ]
        if len(rows) > 1:
            rows.sort(key=position)
        for expected in rows:
            at = position(expected)
            # Rows before this one in the read model have no events: report them.
            while self._pending is not None and position(self._pending) < at:
                self._extra(self._pending)
                self._next()
            pending = self._pending
            if pending is not None and position(pending) == at:
                if not self._same(expected, pending):
                    self.differences += row_differences(model, table, columns, expected, pending)
                self._next()
            else:
                self.differences += row_differences(model, table, columns, expected, None)

    def finish(self) -> None:
        while self._pending is not None:
            self._extra(self._pending)
            self._next()
        self._cursor.close()
