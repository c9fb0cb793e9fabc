"""A rebuild's backfill: one ordered scan of the store feeds every read model being rebuilt.

Each aggregate is decoded and folded once, then mapped to the rows of every read model of its
type (an invoice feeds `invoices`, `deliveries` and `invoice_events`), and the rows are COPied
into the fresh tables a batch of aggregates at a time. The id space is cut into partitions that
worker processes scan side by side.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import Aggregate
from psycopg import sql
from psycopg.rows import tuple_row
from psycopg.types.json import set_json_dumps

from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.fresh_tables import REBUILD_SUFFIX
from fastfaktura.readmodels.model import ReadModel, Row
from fastfaktura.readmodels.scan import Partition, aggregates_of, few_collections

OpenReader = Callable[[str], EventReader]
# Aggregates folded between two COPY flushes: rows of a few MB, one transaction each.
FLUSH_EVERY = 2000
_JSON = msgspec.json.Encoder()


class _Buffers:
    """The rows waiting for their COPY, per fresh table."""

    def __init__(self, models: Sequence[ReadModel]) -> None:
        self._models = models
        self.rows = self._empty()

    def _empty(self) -> dict[tuple[ReadModel, str], list[Row]]:
        return {(model, table): [] for model in self._models for table in model.tables}

    def add(self, model: ReadModel, rows: dict[str, list[Row]]) -> None:
        for table, table_rows in rows.items():
            self.rows[model, table].extend(table_rows)

    def take(self) -> dict[tuple[ReadModel, str], list[Row]]:
        """The rows gathered so far, for a COPY; the buffers start again empty."""
        taken, self.rows = self.rows, self._empty()
        return taken


class _Writer:
    """COPies batches of rows in a thread of its own, one transaction each, while the scan
    decodes and folds the next batch: the scan does not wait for PostgreSQL to take a batch
    in (psycopg lets go of the GIL while it waits on the connection). At most one batch
    waits behind the one being written, so memory stays bounded."""

    def __init__(self, out: psycopg.Connection[Any]) -> None:
        self._out = out
        self._batches: queue.Queue[dict[tuple[ReadModel, str], list[Row]] | None]
        self._batches = queue.Queue(maxsize=1)
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="backfill-copy", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            if self._failed is not None:
                continue  # drain: the scan stops at its next write
            try:
                with self._out.transaction():
                    for (model, table), rows in batch.items():
                        if rows:
                            copy_rows(self._out, model, table + REBUILD_SUFFIX, rows)
            except BaseException as exc:  # handed to the scan's thread
                self._failed = exc

    def _check(self) -> None:
        if self._failed is not None:
            raise self._failed

    def write(self, batch: dict[tuple[ReadModel, str], list[Row]]) -> None:
        self._check()
        self._batches.put(batch)

    def close(self) -> None:
        """Wait for every batch to be written; raise what failed."""
        self._batches.put(None)
        self._thread.join()
        self._check()


def _column_types(conn: psycopg.Connection[Any], table: str) -> dict[str, int]:
    with conn.cursor(row_factory=tuple_row) as cursor:
        cursor.execute(
            "SELECT attname, atttypid FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (table,),
        )
        return {str(name): int(oid) for name, oid in cursor}


def copy_rows(conn: psycopg.Connection[Any], model: ReadModel, table: str, rows: list[Row]) -> None:
    """COPY rows into a fresh table: each aggregate comes once in an ordered scan, so no upsert.
    Binary: bytea (a stored answer, 4 kB) goes as is, not as hex text twice its size; jsonb
    columns are written by msgspec (decimals and ids exact, see `prepare`)."""
    columns = list(rows[0])
    types = _column_types(conn, table)
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    oids = [types[column] for column in columns]
    # A binary COPY dumps each value as its column's type, where an INSERT lets PostgreSQL
    # parse text: the ids, dates and timestamps some rows carry as text are parsed here.
    parse = [(i, _FROM_TEXT[oid]) for i, oid in enumerate(oids) if oid in _FROM_TEXT]
    # jsonb in binary is a version byte and the JSON text: made here with msgspec, as the
    # connection's jsonb dumper would (`prepare`), and sent as bytes, without that dumper's
    # Python calls (four per invoice row).
    jsonb = [i for i, oid in enumerate(oids) if oid == _JSONB_OID]
    encode = _JSON.encode
    with conn.cursor().copy(statement) as copy:
        copy.set_types([_BYTEA_OID if oid == _JSONB_OID else oid for oid in oids])
        for row in rows:
            values = list(row.values())
            for i, from_text in parse:
                if type(values[i]) is str:
                    values[i] = from_text(values[i])
            for i in jsonb:
                if values[i] is not None:
                    values[i] = b"\x01" + encode(values[i])
            copy.write_row(values)


_JSONB_OID = 3802
_BYTEA_OID = 17


# Column types (by oid) whose values a row may hold as text: how to parse them.
_FROM_TEXT: dict[int, Callable[[str], Any]] = {
    2950: UUID,  # uuid
    1082: date.fromisoformat,  # date
    1114: datetime.fromisoformat,  # timestamp
    1184: datetime.fromisoformat,  # timestamptz
    1700: Decimal,  # numeric
}


def prepare(conn: psycopg.Connection[Any]) -> None:
    """jsonb written by msgspec on this connection, as the live path writes it (rows.py).
    Its commits do not wait for the WAL to reach the disk: the fresh tables count only once
    the swap commits, which waits for all the WAL before it (a crash before that leaves
    fresh tables that the next rebuild drops)."""
    set_json_dumps(_JSON.encode, context=conn)
    conn.execute("SET synchronous_commit = off")


def backfill_partition(
    open_reader: OpenReader,
    database_url: str,
    model_names: Sequence[str],
    partition: Partition,
    upto: int,
) -> dict[str, int]:
    """Fold one id range of the store (events <= `upto`) into the fresh tables of these read
    models. Runs in a worker process (or in the rebuilding one on a small store): it opens its
    own connections. Returns the number of events folded for each read model."""
    from fastfaktura.readmodels.models import read_model

    models = [read_model(name) for name in model_names]
    topics = {topic for model in models for topic in model.topics}
    routes: dict[type[Aggregate], list[ReadModel]] = {}
    folded = dict.fromkeys(model_names, 0)
    buffers = _Buffers(models)
    events = open_reader(database_url)
    try:
        with (
            psycopg.connect(database_url) as scan_conn,
            psycopg.connect(database_url, autocommit=True) as out,
            few_collections(),
        ):
            prepare(out)
            writer = _Writer(out)
            try:
                scan = aggregates_of(events, scan_conn, topics, partition, upto=upto)
                for count, aggregate in enumerate(scan, 1):
                    kind = type(aggregate)
                    if kind not in routes:
                        routes[kind] = [
                            m for m in models if isinstance(aggregate, m.aggregate_type)
                        ]
                    for model in routes[kind]:
                        folded[model.name] += aggregate.version
                        buffers.add(model, model.rows(aggregate))
                    if count % FLUSH_EVERY == 0:
                        writer.write(buffers.take())
                writer.write(buffers.take())
            finally:
                writer.close()
    finally:
        events.close()
    return folded
