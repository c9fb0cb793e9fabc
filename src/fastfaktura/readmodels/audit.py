"""Audit replay: rebuild every aggregate from its events alone and compare with the read models.

The comparison of the ordered models runs in `audit_scan.py` (one snapshot, worker processes,
each aggregate folded once for all its models); the rows are compared in `audit_join.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate
from psycopg import sql
from psycopg.rows import dict_row

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.audit_join import Difference, as_stored, id_columns, key_of, named
from fastfaktura.readmodels.audit_join import row_differences as _row_differences
from fastfaktura.readmodels.audit_scan import (
    UNITS_PER_WORKER,
    Outcome,
    begin_snapshot,
    run_units,
    units,
)
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import Folder, ReadModel, Row
from fastfaktura.readmodels.rows import pages, tracking_sql
from fastfaktura.readmodels.scan import PARALLEL_FROM_EVENTS

__all__ = ["Difference", "compare", "compare_models", "replay_states"]

Progress = Callable[[str, int], None]


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
    return compare_models(
        events, database_url, [model], business_id=business_id, progress=progress, workers=workers
    )


def compare_models(
    events: EventReader,
    database_url: str,
    models: Sequence[ReadModel],
    *,
    business_id: UUID | None = None,
    progress: Progress | None = None,
    workers: int = 2,
    parallel_from_events: int = PARALLEL_FROM_EVENTS,
) -> list[Difference]:
    """Every difference between these read models and the events, all read at one moment: the
    models' differences in their order, each model's in aggregate-id order. Worker processes
    from a store of `parallel_from_events` on (they cost about a second to start)."""
    found: dict[str, list[Difference]] = {model.name: [] for model in models}
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
        begin_snapshot(conn, None)
        # Each model is compared with the events up to the position its rows reflect.
        positions = {model.name: _position(conn, model) for model in models}
        for model in models:
            if model.order_column is None:
                found[model.name] = _compare_in_memory(
                    events, conn, model, positions[model.name], business_id, progress
                )
        parallel = workers > 1 and events.head() >= parallel_from_events
        todo = units(models, workers * UNITS_PER_WORKER if parallel else 1)
        outcomes: list[Outcome] = []

        def done(outcome: Outcome) -> None:
            outcomes.append(outcome)
            if progress is not None:
                for name, count in outcome.folded.items():
                    progress(name, count)

        run_units(
            events,
            conn,
            database_url,
            todo,
            positions,
            business_id,
            workers if parallel else 1,
            done,
        )
        conn.execute("COMMIT")
    # In unit order: each model's ranges in id order, whichever worker finished first.
    for outcome in sorted(outcomes, key=lambda o: o.index):
        for name, differences in outcome.differences.items():
            found[name] += differences
    return [d for model in models for d in found[model.name]]


def _position(conn: psycopg.Connection[Any], model: ReadModel) -> int:
    """The model's tracking position in the audit's snapshot (0: never applied anything)."""
    row = conn.execute(tracking_sql(model, "position")).fetchone()
    return int(row["notification_id"] or 0) if row else 0


def _compare_in_memory(
    events: EventReader,
    conn: psycopg.Connection[Any],
    model: ReadModel,
    tracked: int,
    business_id: UUID | None,
    progress: Progress | None,
) -> list[Difference]:
    """For small models keyed by something other than the aggregate id (API keys): the rows of
    the audit's snapshot against the events up to their tracked position."""
    differences: list[Difference] = []
    ids = id_columns(model)
    states = replay_states(events, model, progress=progress, upto=tracked)
    for table, key_columns in model.tables.items():
        expected: dict[tuple[Any, ...], Row] = {}
        for state in states.values():
            for row in model.rows(state).get(table, []):
                if business_id is None or row.get("business_id") == business_id:
                    expected[key_of(row, key_columns)] = as_stored(model, ids, row)
        query = sql.SQL(local_statement(__file__, "audit.sql", "all_rows")).format(
            table=sql.Identifier(table)
        )
        params = {"business_id": business_id}
        actual = {key_of(row, key_columns): row for row in conn.execute(query, params)}
        for key, row in expected.items():
            differences += _row_differences(model, table, key_columns, row, actual.get(key))
        for key in actual.keys() - expected.keys():
            differences.append(
                Difference(
                    model.name,
                    table,
                    named(key, key_columns),
                    "in the read model but not in the events",
                )
            )
    return differences
