"""The connection budget: the most PostgreSQL connections each kind of process opens, from the
pool settings (docs/operations.md, "Connection budget"). The pools are built from the same
numbers, so these are upper bounds by construction; tests/operations/test_connection_budget.py
measures them under load."""

from __future__ import annotations

from fastfaktura.config import PoolSettings, ReplicaSettings

# One live read-model runner: its advisory-lock session, the tracking recorder's connection
# (read-model rows and tracking row, one transaction), and the upstream store's two (LISTEN,
# and the notification reads).
RUNNER_CONNECTIONS = 4
# The one-shot CLI's application: one connection at a time, one spare.
CLI_APP_POOL_SIZE = 1
CLI_APP_POOL_OVERFLOW = 1
# A rebuild or audit partition (in a worker process, or in-process on a small store): its
# store (mapper only, at most one), the streaming scan, and the output or compared rows.
PARTITION_CONNECTIONS = 3
# PostgreSQL keeps superuser_reserved_connections (3 by default) of max_connections for
# superusers: the application's role must fit in the rest.
MAX_CONNECTIONS = 100
SUPERUSER_RESERVED = 3


def api(pools: PoolSettings) -> int:
    """`fastfaktura serve --no-projections`: the query pool and the write pool."""
    return pools.query + pools.write_max


def runners(models: int) -> int:
    return models * RUNNER_CONNECTIONS


def serve(pools: PoolSettings, models: int) -> int:
    """`fastfaktura serve`: the API, the live runners and the policies' pool."""
    return api(pools) + runners(models) + pools.policies


def projections(pools: PoolSettings, models: int) -> int:
    """`fastfaktura projections run`: the live runners, the application their folds and the
    policies' commands share (sized like the API's write pool), and the policies' pool."""
    return runners(models) + pools.write_max + pools.policies


def cli(pools: PoolSettings) -> int:
    """A one-shot command, `projections rebuild --all` and `audit replay` the largest: its
    application, the rebuild's swap connection, and its partitions (in worker processes)."""
    return CLI_APP_POOL_SIZE + CLI_APP_POOL_OVERFLOW + 1 + pools.cli_workers * PARTITION_CONNECTIONS


def deployment(pools: PoolSettings, models: int, *, api_processes: int = 4) -> int:
    """The documented deployment: `api_processes` API processes, one projections process and
    one CLI rebuild at the same time, all straight to PostgreSQL."""
    return api_processes * api(pools) + projections(pools, models) + cli(pools)


# -- `fastfaktura serve` with several processes (issue 12) ------------------------------------


def supervised(pools: PoolSettings, models: int, workers: int, *, projections_too: bool) -> int:
    """`fastfaktura serve --workers N`: N API processes, plus the projections-and-policies
    process unless --no-projections."""
    return workers * api(pools) + (projections(pools, models) if projections_too else 0)


def workers_that_fit(
    pools: PoolSettings, models: int, usable: int, *, projections_too: bool
) -> int:
    """The most API processes whose connections, with the projections process and one CLI
    rebuild next to them, fit in `usable` (max_connections less the reserved ones)."""
    room = usable - cli(pools) - (projections(pools, models) if projections_too else 0)
    return max(room // api(pools), 0)


# -- the read replica (issue 12, DATABASE_READ_URL): connections on the replica, not the primary


def replica_api(replica: ReplicaSettings) -> int:
    """What one API process opens on the replica: its read pool and one probe connection (the
    replica's own max_connections bounds them; the primary's budget above is unchanged)."""
    return replica.pool + 1 if replica.url else 0


def replica_workers_that_fit(replica: ReplicaSettings, usable: int) -> int:
    """The most API processes whose replica connections fit in `usable` on the replica."""
    return usable // replica_api(replica) if replica.url else usable
