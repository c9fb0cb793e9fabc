"""Catch-up: apply what a read model has not seen yet, a page of events per transaction (the
CLI runs it after its writes; the tests after theirs)."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel
from fastfaktura.readmodels.rows import (
    PAGE_SIZE,
    fold,
    lock_tracking,
    rows_of,
    tracking_sql,
    write_rows,
)


def catch_up(
    events: EventReader, database_url: str, model: ReadModel, page_size: int = PAGE_SIZE
) -> int:
    """Apply every event the read model has not seen yet, a page per transaction.

    Safe beside a live runner: it holds the tracking row while it writes a page.
    """
    applied = 0
    folder = Folder(events.load)
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        while True:
            with conn.transaction():
                position = lock_tracking(conn, model)
                page = events.notifications(position, page_size, model.topics)
                if not page:
                    return applied
                with conn.cursor() as cursor:
                    write_rows(cursor, model, rows_of(model, fold(events, folder, page).values()))
                conn.execute(tracking_sql(model, "set"), {"position": page[-1].id})
            applied += len(page)
