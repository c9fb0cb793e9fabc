"""A rebuild's fresh tables: made without their indexes (a bulk load then writes only the heap),
indexed once filled (one sorted build per index instead of an insert per row into each), then
swapped in for the live tables, their indexes renamed to the old ones' names."""

from __future__ import annotations

import queue
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.model import ReadModel

REBUILD_SUFFIX = "__rebuild"


@dataclass(frozen=True)
class IndexPlan:
    """One index of a live table, to make again on its fresh copy."""

    name: str  # the live index's name, which the fresh one takes at the swap
    temporary: str  # the fresh index's name until then
    definition: str  # `USING btree (...) [WHERE ...]`, from pg_get_indexdef
    unique: bool
    constraint: str | None  # 'p' (primary key) or 'u' (unique constraint), else None


def _query(name: str) -> str:
    return local_statement(__file__, "fresh_tables.sql", name)


def index_plans(conn: psycopg.Connection[Any], table: str) -> list[IndexPlan]:
    plans = []
    with conn.cursor(row_factory=tuple_row) as cursor:
        rows = cursor.execute(_query("indexes"), {"table": table}).fetchall()
    for number, (name, definition, unique, constraint) in enumerate(rows):
        # "CREATE [UNIQUE] INDEX name ON public.table USING ...": keep what follows ON ...
        _, using = str(definition).split(" USING ", 1)
        plans.append(
            IndexPlan(str(name), f"{table}__rb{number}", f"USING {using}", bool(unique), constraint)
        )
    return plans


def create_fresh(conn: psycopg.Connection[Any], model: ReadModel) -> None:
    """Empty copies of the model's tables (columns, defaults, checks), without indexes."""
    with conn.transaction():
        for table in model.tables:
            fresh = sql.Identifier(table + REBUILD_SUFFIX)
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(fresh))
            conn.execute(
                # No autovacuum while it fills: index_fresh vacuums it once, when full.
                sql.SQL(
                    "CREATE TABLE {} (LIKE {} INCLUDING ALL EXCLUDING INDEXES)"
                    " WITH (autovacuum_enabled = false)"
                ).format(fresh, sql.Identifier(table))
            )


# Memory for each index build's sort (PostgreSQL's default, 64 MB, spills a million rows'
# keys to disk); at most one build per rebuild connection at a time.
INDEX_BUILD_MEMORY = "256MB"


def index_fresh(
    database_url: str, models: Sequence[ReadModel], connections: int
) -> dict[str, dict[str, list[IndexPlan]]]:
    """Build the live tables' indexes on the filled fresh tables of these models, then VACUUM
    (ANALYZE) each table: fresh tables have no statistics and an empty visibility map, and
    queries right after the swap would plan badly and count(*) would read the heap (15-20x
    slower). The builds run side by side on `connections` connections (an index build takes
    a SHARE lock: several on one table do not wait for each other; a table's VACUUM waits
    for its own builds only), so both cores work. The plans, by model and table."""
    plans: dict[str, dict[str, list[IndexPlan]]] = {}
    tables = [table for model in models for table in model.tables]
    with ExitStack() as stack:
        pool: queue.Queue[psycopg.Connection[Any]] = queue.Queue()
        for _ in range(max(1, connections)):
            conn = stack.enter_context(psycopg.connect(database_url, autocommit=True))
            conn.execute(
                "SELECT set_config('maintenance_work_mem', %s, false)", (INDEX_BUILD_MEMORY,)
            )
            pool.put(conn)

        def on_a_connection(work: Callable[[psycopg.Connection[Any]], None]) -> None:
            conn = pool.get()
            try:
                work(conn)
            finally:
                pool.put(conn)

        probe = pool.get()
        for model in models:
            plans[model.name] = {table: index_plans(probe, table) for table in model.tables}
        pool.put(probe)
        by_table = {table: p for model_plans in plans.values() for table, p in model_plans.items()}
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=pool.qsize()))
        builds: dict[Future[None], str] = {}
        waiting = dict.fromkeys(tables, 0)
        for table in tables:
            for plan in by_table[table]:
                builds[executor.submit(on_a_connection, partial(_build, table, plan))] = table
                waiting[table] += 1
        finishing = [
            executor.submit(on_a_connection, partial(_finish, table, by_table[table]))
            for table in tables
            if waiting[table] == 0
        ]
        for done in as_completed(builds):
            done.result()
            table = builds[done]
            waiting[table] -= 1
            if waiting[table] == 0:
                finishing.append(
                    executor.submit(on_a_connection, partial(_finish, table, by_table[table]))
                )
        for future in finishing:
            future.result()
    return plans


def _build(table: str, plan: IndexPlan, conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        sql.SQL("CREATE {}INDEX {} ON {} {}").format(
            sql.SQL("UNIQUE " if plan.unique else ""),
            sql.Identifier(plan.temporary),
            sql.Identifier(table + REBUILD_SUFFIX),
            sql.SQL(plan.definition),  # from the catalog
        )
    )


def _finish(table: str, plans: list[IndexPlan], conn: psycopg.Connection[Any]) -> None:
    """The table's constraints on its built indexes, then its VACUUM (ANALYZE)."""
    fresh = sql.Identifier(table + REBUILD_SUFFIX)
    for plan in plans:
        if plan.constraint is not None:
            kind = "PRIMARY KEY" if plan.constraint == "p" else "UNIQUE"
            conn.execute(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {} USING INDEX {}").format(
                    fresh,
                    sql.Identifier(plan.temporary),
                    sql.SQL(kind),  # one of two literals
                    sql.Identifier(plan.temporary),
                )
            )
    conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(fresh))
    conn.execute(sql.SQL("ALTER TABLE {} RESET (autovacuum_enabled)").format(fresh))


def swap(
    conn: psycopg.Connection[Any], model: ReadModel, plans: dict[str, list[IndexPlan]]
) -> None:
    """Replace the live tables by the fresh ones (inside the caller's transaction), each index
    (and constraint) under its old name."""
    for table in model.tables:
        conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(table)))
        conn.execute(
            sql.SQL("ALTER TABLE {} RENAME TO {}").format(
                sql.Identifier(table + REBUILD_SUFFIX), sql.Identifier(table)
            )
        )
        for plan in plans[table]:
            # Renaming a constraint's index renames the constraint too.
            conn.execute(
                sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(plan.temporary), sql.Identifier(plan.name)
                )
            )
