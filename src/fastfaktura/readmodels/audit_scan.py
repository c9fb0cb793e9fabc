"""`audit replay` at scale: one consistent moment, every aggregate decoded and folded once for
all the read models built from it, the work spread over worker processes.

The auditing process opens a REPEATABLE READ transaction, reads every model's tracking position
in it and exports its snapshot (`pg_export_snapshot()`); each worker imports that snapshot
(`SET TRANSACTION SNAPSHOT`) into a transaction of its own that it keeps for all its work. So
every process reads the events and the read models as they stood at one moment while writers
keep going, and each model is compared with the events up to the position its rows reflect:
no false difference on a live store.

The work is cut into units: an aggregate type (the read models built from it: an invoice feeds
`invoices`, `deliveries` and `invoice_events`) times a range of the aggregate-id space. A unit
streams its events in id order (binary, big fetches), decodes them with msgspec
(`stored_events.py`), folds each aggregate with the domain's own `mutate`, and merge-joins the
rows each model computes from it against that model's tables (`audit_join.py`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg import sql
from psycopg.types.json import set_json_loads

from fastfaktura.readmodels.audit_join import Difference, MergeJoin
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.model import ReadModel
from fastfaktura.readmodels.scan import Partition, few_collections, folded, partitions
from fastfaktura.readmodels.stored_events import StateDecoder

OpenReader = Callable[[str], EventReader]
# Units per worker and aggregate type: enough that a slow range does not leave a core idle.
UNITS_PER_WORKER = 4


@dataclass(frozen=True)
class Unit:
    """One aggregate type's read models (by name, all with an order column) over one id range."""

    index: int
    models: tuple[str, ...]
    partition: Partition


@dataclass
class Outcome:
    index: int
    folded: dict[str, int] = field(default_factory=dict)  # model -> events folded
    differences: dict[str, list[Difference]] = field(default_factory=dict)


def units(models: Sequence[ReadModel], parts: int) -> list[Unit]:
    """The ordered models grouped by aggregate type (in their order), each over `parts` ranges."""
    groups: dict[type[Any], list[str]] = {}
    for model in models:
        if model.order_column is not None:
            groups.setdefault(model.aggregate_type, []).append(model.name)
    ranges = partitions(parts)
    found: list[Unit] = []
    for names in groups.values():
        for part in ranges:
            found.append(Unit(len(found), tuple(names), part))
    return found


def begin_snapshot(conn: psycopg.Connection[Any], snapshot: str | None) -> None:
    """Start the REPEATABLE READ transaction every read of the audit happens in; `snapshot`:
    the exported one to read in (a worker), else the transaction's own (the auditing process)."""
    conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    # The exporting transaction waits idle while the workers run: a server-wide idle timeout
    # must not end it (nor a worker's, between two fetches).
    conn.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    if snapshot is not None:
        conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
    set_json_loads(msgspec.json.decode, conn)  # jsonb columns: C parser


def fold_scan(
    conn: psycopg.Connection[Any],
    decoder: StateDecoder,
    model: ReadModel,
    partition: Partition,
    upto: int,
) -> Iterator[Any]:
    """Each aggregate of the partition folded from its events up to position `upto`."""
    return folded(conn, decoder.decode, model.topics, partition, upto)


def run_unit(
    conn: psycopg.Connection[Any],
    decoder: StateDecoder,
    unit: Unit,
    positions: dict[str, int],
    business_id: UUID | None,
) -> Outcome:
    """Fold the unit's aggregates once per distinct tracked position (one, unless a projection
    lags another) and compare every model's rows with its tables."""
    from fastfaktura.readmodels.models import read_model

    outcome = Outcome(unit.index)
    by_position: dict[int, list[ReadModel]] = {}
    for name in unit.models:
        by_position.setdefault(positions[name], []).append(read_model(name))
    low, high = unit.partition
    params = {"low": low, "high": high, "business_id": business_id}
    for upto, models in by_position.items():
        joins: list[tuple[ReadModel, list[MergeJoin]]] = []
        for model in models:
            found = outcome.differences.setdefault(model.name, [])
            joins.append((model, [MergeJoin(model, t, conn, params, found) for t in model.tables]))
        folded = 0
        with few_collections():
            for aggregate in fold_scan(conn, decoder, models[0], unit.partition, upto):
                folded += aggregate.version
                for model, model_joins in joins:
                    computed = model.rows(aggregate)
                    for join in model_joins:
                        join.expect(computed[join.table], business_id)
        for model, model_joins in joins:
            outcome.folded[model.name] = folded
            for join in model_joins:
                join.finish()
    return outcome


# -- worker processes ---------------------------------------------------------------------------

_worker: tuple[psycopg.Connection[Any], StateDecoder] | None = None


def _start_worker(open_reader: OpenReader, database_url: str, snapshot: str) -> None:
    """A worker's one connection, inside the exported snapshot for its whole life, and the
    application's mapper (the reader's own connection is closed at once)."""
    global _worker
    reader = open_reader(database_url)
    try:
        decoder = StateDecoder(reader.mapper)
    finally:
        reader.close()
    conn = psycopg.connect(database_url, autocommit=True)
    begin_snapshot(conn, snapshot)
    _worker = (conn, decoder)


def _work(unit: Unit, positions: dict[str, int], business_id: UUID | None) -> Outcome:
    assert _worker is not None, "not started by _start_worker"
    conn, decoder = _worker
    return run_unit(conn, decoder, unit, positions, business_id)


def run_units(
    events: EventReader,
    conn: psycopg.Connection[Any],
    database_url: str,
    todo: list[Unit],
    positions: dict[str, int],
    business_id: UUID | None,
    workers: int,
    done: Callable[[Outcome], None],
) -> None:
    """Every unit, in this process on `conn` (workers 1) or in `workers` processes reading the
    snapshot `conn` exports; `done` gets each outcome as it comes."""
    if workers <= 1:
        decoder = StateDecoder(events.mapper)
        for unit in todo:
            done(run_unit(conn, decoder, unit, positions, business_id))
        return
    row = conn.execute("SELECT pg_export_snapshot() AS snapshot").fetchone()
    assert row is not None
    snapshot = str(row["snapshot"] if isinstance(row, dict) else row[0])
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(events.opener, database_url, snapshot),
    ) as pool:
        futures = [pool.submit(_work, unit, positions, business_id) for unit in todo]
        for future in as_completed(futures):
            done(future.result())
