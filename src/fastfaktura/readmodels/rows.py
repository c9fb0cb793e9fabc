"""Writing a read model's rows with its tracking row: what the live runner, catch-up and
rebuild share.

Every write to a read model happens in one transaction with its tracking row, and the tracking
row is written first: a rebuild's swap locks that row, so a live writer waits, then sees the
event was applied and skips it. That makes live runner, catch-up and rebuild safe together.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import Notification
from psycopg import sql
from psycopg.types.json import Jsonb

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel, Row

PAGE_SIZE = 1000
_JSON = msgspec.json.Encoder()


def tracking_sql(model: ReadModel, name: str) -> sql.Composed:
    return sql.SQL(local_statement(__file__, "tracking/apply.sql", name)).format(
        tracking=sql.Identifier(model.tracking_table)
    )


def rows_of(model: ReadModel, aggregates: Iterable[Aggregate]) -> dict[str, list[Row]]:
    merged: dict[str, list[Row]] = {table: [] for table in model.tables}
    for aggregate in aggregates:
        for table, rows in model.rows(aggregate).items():
            merged[table].extend(rows)
    return merged


def _json_text(value: Any) -> str:
    return _JSON.encode(value).decode()


def adapted(model: ReadModel, row: Row) -> Row:
    """The row with its jsonb columns wrapped for psycopg (written by msgspec)."""
    if not model.json_columns:
        return row
    return {k: Jsonb(v, dumps=_json_text) if k in model.json_columns else v for k, v in row.items()}


def write_rows(
    cursor: psycopg.Cursor[Any], model: ReadModel, rows: dict[str, list[Row]], suffix: str = ""
) -> None:
    for table, table_rows in rows.items():
        if table_rows:
            cursor.executemany(
                model.upsert_sql(table, table + suffix),
                [adapted(model, row) for row in table_rows],
            )


def fold(
    events: EventReader, folder: Folder, notifications: Sequence[Notification]
) -> dict[UUID, Aggregate]:
    """The latest state of every aggregate touched by these notifications."""
    latest: dict[UUID, Aggregate] = {}
    for notification in notifications:
        event = events.decode(notification)
        latest[event.originator_id] = folder.apply(event)
    return latest


def pages(
    events: EventReader, model: ReadModel, after: int, page_size: int = PAGE_SIZE
) -> Iterable[Sequence[Notification]]:
    """The model's notifications after position `after`, a page at a time."""
    while True:
        page = events.notifications(after, page_size, model.topics)
        if not page:
            return
        yield page
        after = page[-1].id


def lock_tracking(conn: psycopg.Connection[Any], model: ReadModel) -> int:
    """Lock the model's tracking row (creating it if needed); its position."""
    conn.execute(tracking_sql(model, "ensure"))
    row = conn.execute(tracking_sql(model, "lock")).fetchone()
    assert row is not None
    return int(row["notification_id"] or 0)
