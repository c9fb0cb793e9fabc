"""GET /api/v1/events: the business's event feed, read from the event store, oldest first,
with a cursor that never skips or repeats an event (readmodels/feed.py says why)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import problem_responses
from fastfaktura.api.services import services
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.readmodels.feed import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    FeedPage,
    business_feed,
    decode_cursor,
)

Limit = Annotated[
    int, Parameter(ge=1, le=MAX_LIMIT, description=f"Events per page, 1 to {MAX_LIMIT}")
]


class EventFeedController(Controller):
    path = "/api/v1/events"
    security = API_KEY_SECURITY
    tags = ["Events"]

    @get(
        operation_id="ListEvents",
        summary="The business's events, oldest first (invoices, credit notes, clients, business)",
        description=(
            "Page with `after=next_cursor`: every event is returned once, in the order it was "
            "recorded. `next_cursor` is the same `after` when nothing new is there yet."
        ),
        responses=problem_responses(401, 422),
    )
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        after: Annotated[
            str | None,
            Parameter(description="The `next_cursor` of the previous page", max_length=64),
        ] = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> FeedPage:
        position = None
        if after is not None:
            position = decode_cursor(after)
            if position is None:
                raise InvalidInputError(
                    [FieldError("after", "is not a cursor of this feed (use a next_cursor)")]
                )
        svc = services(request.app.state)
        return await business_feed(svc.pool, svc.events, tenant.business_id, position, limit)
