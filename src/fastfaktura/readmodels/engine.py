"""The old home of the read-model machinery, kept so that callers written against it still
import: the live path is in live.py, catch-up in catchup.py, rebuild in rebuild.py, the shared
row writing in rows.py. New code imports those. Every function now takes the read side's port
(readmodels/events.py: `event_reader(app)`) where it took the application; `loader(app)` is
gone: the supervisor takes the port and loads through it."""

from __future__ import annotations

from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.live import (
    LiveRunner,
    ProjectionSupervisor,
    ReadModelProjection,
    ReadModelView,
    RunnerState,
)
from fastfaktura.readmodels.rebuild import (
    REBUILD_SUFFIX,
    RebuildResult,
    backfill_partition,
    rebuild,
)
from fastfaktura.readmodels.rows import PAGE_SIZE, fold, rows_of, tracking_sql, write_rows
from fastfaktura.readmodels.scan import PARALLEL_FROM_EVENTS

__all__ = [
    "PAGE_SIZE",
    "PARALLEL_FROM_EVENTS",
    "REBUILD_SUFFIX",
    "LiveRunner",
    "ProjectionSupervisor",
    "ReadModelProjection",
    "ReadModelView",
    "RebuildResult",
    "RunnerState",
    "backfill_partition",
    "catch_up",
    "fold",
    "rebuild",
    "rows_of",
    "tracking_sql",
    "write_rows",
]
