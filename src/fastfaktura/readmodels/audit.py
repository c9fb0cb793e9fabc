"""Audit replay: rebuild every aggregate from its events alone and compare with the read models."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import Aggregate
from psycopg import sql
from psycopg.rows import dict_row

from fastfaktura.application import Invoicing
from fastfaktura.readmodels.engine import PAGE_SIZE, _pages, loader
from fastfaktura.readmodels.model import Folder, ReadModel, Row

Progress = Callable[[str, int], None]


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
    app: Invoicing,
    model: ReadModel,
    *,
    as_of: datetime | None = None,
    progress: Progress | None = None,
) -> dict[UUID, Aggregate]:
    """Every aggregate of the model, folded from its events (up to `as_of` when given)."""
    folder = Folder(loader(app), maxsize=10**9)  # the whole set stays in memory: no reloads
    states: dict[UUID, Aggregate] = {}
    for page in _pages(app, model, 0, PAGE_SIZE):
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            if as_of is not None and getattr(event, "timestamp") > as_of:  # noqa: B009
                continue
            states[event.originator_id] = folder.apply(event)
        if progress is not None:
            progress(model.name, len(page))
    return states


def _as_stored(model: ReadModel, row: Row) -> Row:
    """JSON columns as the database gives them back (decimals and ids as strings)."""
    return {
        k: msgspec.json.decode(msgspec.json.encode(v)) if k in model.json_columns else v
        for k, v in row.items()
    }


def _key(row: Row, columns: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row[c] for c in columns)


def compare(
    app: Invoicing,
    database_url: str,
    model: ReadModel,
    *,
    business_id: UUID | None = None,
    progress: Progress | None = None,
) -> list[Difference]:
    states = replay_states(app, model, progress=progress)
    differences: list[Difference] = []
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        for table, key_columns in model.tables.items():
            expected: dict[tuple[Any, ...], Row] = {}
            for state in states.values():
                for row in model.rows(state).get(table, []):
                    if business_id is None or row.get("business_id") == business_id:
                        expected[_key(row, key_columns)] = _as_stored(model, row)
            query = sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))
            params: tuple[Any, ...] = ()
            if business_id is not None:
                query += sql.SQL(" WHERE business_id = %s")
                params = (business_id,)
            actual = {_key(row, key_columns): row for row in conn.execute(query, params)}

            def name(key: tuple[Any, ...], columns: Sequence[str] = key_columns) -> dict[str, str]:
                return {c: str(v) for c, v in zip(columns, key, strict=True)}

            for key, row in expected.items():
                found = actual.get(key)
                if found is None:
                    differences.append(
                        Difference(model.name, table, name(key), "missing from the read model")
                    )
                    continue
                for column, value in row.items():
                    if found.get(column) != value:
                        differences.append(
                            Difference(
                                model.name,
                                table,
                                name(key),
                                f"{column} is {found.get(column)!r} in the read model, "
                                f"{value!r} from the events",
                            )
                        )
            for key in actual.keys() - expected.keys():
                differences.append(
                    Difference(
                        model.name, table, name(key), "in the read model but not in the events"
                    )
                )
    return differences
