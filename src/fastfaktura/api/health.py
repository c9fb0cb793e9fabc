"""GET /health: 200 once every read model has a running projection (or, on an API-only worker,
once the app is up), 503 before or when a projection has failed, or when the database is
unreachable or too slow (`degraded`, never a 500, never longer than the database deadline)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import msgspec
import structlog
from litestar import Request, Response, get
from litestar.openapi import ResponseSpec

from fastfaktura.adapters.deadlines import database_unavailable
from fastfaktura.api.errors import UNAVAILABLE_RETRY_AFTER_SECONDS
from fastfaktura.api.services import services
from fastfaktura.readmodels.models import READ_MODELS
from fastfaktura.readmodels.queries import positions
from fastfaktura.readmodels.wire_types import described

log = structlog.get_logger(__name__)


class ProjectionHealth(msgspec.Struct, kw_only=True):
    """One read model's projection: how far it has read the event store."""

    name: Annotated[str, described("The read model", "invoices")]
    position: Annotated[int, described("The last event it applied (notification id)", 1041)]
    head: Annotated[int, described("The event store's last notification id", 1042)]
    lag: Annotated[int, described("Events still to apply: head - position", 1)]
    state: Annotated[
        str,
        described(
            "running, standby (another process runs it), external (API-only worker), "
            "starting, failed or absent",
            "running",
        ),
    ]
    error: Annotated[str | None, described("Why it failed (null otherwise)", None)] = None


class ReplicaHealth(msgspec.Struct, kw_only=True):
    """The read replica (DATABASE_READ_URL), as this process's last check found it. A replica
    that lags or is gone does not make the service unhealthy: reads go to the primary."""

    status: Annotated[
        str,
        described(
            "current (it had replayed the primary's position), behind, unreachable, "
            "not_a_replica (not in recovery) or starting",
            "current",
        ),
    ]
    lag_bytes: Annotated[
        int | None,
        described("WAL the replica had still to replay at the last check (null: unknown)", 0),
    ]
    reads: Annotated[
        str,
        described("Where this process sends list and detail reads: replica or primary", "replica"),
    ]


class Health(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Whether the service is ready: ok once every projection runs."""

    status: Annotated[str, described("ok, starting or degraded (a projection failed)", "ok")]
    projections: Annotated[list[ProjectionHealth], described("One per read model")]
    # Set when the database could not be read (unreachable or too slow).
    database: Annotated[
        str | None,
        described("Set when the database could not be read (unreachable or too slow)", None),
    ] = None
    # -- read replica: only when DATABASE_READ_URL is set --
    replica: Annotated[
        ReplicaHealth | None,
        described("The read replica's lag, when one is configured (DATABASE_READ_URL)", None),
    ] = None


@get(
    "/health",
    operation_id="Health",
    description=(
        "200 once every read model has a running projection, with each projection's lag; 503 "
        "while starting, when a projection failed, or when the database cannot be read."
    ),
    summary="Readiness and projection lag",
    tags=["Operations"],
    responses={
        503: ResponseSpec(
            data_container=Health,
            description="Starting, or a projection failed (`status`: starting or degraded)",
            generate_examples=False,
        )
    },
)
async def health(request: Request[Any, Any, Any]) -> Response[Health]:
    state = request.app.state
    if getattr(state, "services", None) is None:
        return Response(Health(status="starting", projections=[]), status_code=503)
    supervisor = state.supervisor
    # An API-only worker (serve --no-projections): other processes run the projections, so
    # their runner states are not known here; positions and lag still are.
    runners = supervisor.states if supervisor is not None else {}
    external = supervisor is None
    svc = services(state)
    try:
        # The pool's deadlines bound each call; this bounds the whole check.
        rows = await asyncio.wait_for(
            positions.status(svc.pool, READ_MODELS), svc.settings.database_timeout
        )
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        log.warning("health: database unavailable", error=f"{type(exc).__name__}: {exc}")
        return Response(
            Health(status="degraded", projections=[], database="unavailable"),
            status_code=503,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
        )
    projections = [
        ProjectionHealth(
            name=row.name,
            position=row.position,
            head=row.head,
            lag=row.lag,
            state="external"
            if external
            else runners[row.name].status
            if row.name in runners
            else "absent",
            error=runners[row.name].error if row.name in runners else None,
        )
        for row in rows
    ]
    replica = None
    if svc.replica is not None:
        found = svc.replica.state()
        replica = ReplicaHealth(status=found.status, lag_bytes=found.lag_bytes, reads=found.reads)
    states = {p.state for p in projections}
    if states <= {"running", "standby", "external"}:
        return Response(
            Health(status="ok", projections=projections, replica=replica), status_code=200
        )
    status = "degraded" if "failed" in states else "starting"
    return Response(
        Health(status=status, projections=projections, replica=replica), status_code=503
    )
