"""An aggregate's events read straight from the event store (not a projection), for the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from asyncpg import Pool
from eventsourcing.persistence import StoredEvent

from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.invoice_view import EventResponse
from fastfaktura.readmodels.queries import standard_uuid
from fastfaktura.readmodels.sql import local_statement

_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/event")
# The stored topic that starts every invoice's stream (and no other aggregate's).
INVOICE_CREATED_TOPIC: str = Invoice.Created.TOPIC  # type: ignore[attr-defined]


def event_id(aggregate_id: UUID, version: int) -> UUID:
    """An event's stable id (the timeline's, the feed's and the webhooks' `webhook-id`)."""
    return uuid5(_EVENT_NAMESPACE, f"{aggregate_id}/{version}")


def event_data(domain_event: Any) -> dict[str, Any]:
    """The event's own fields, without the envelope."""
    return {k: v for k, v in vars(domain_event).items() if k not in _ENVELOPE}


def event_type(topic: str) -> str:
    """`fastfaktura:Invoice.PaymentRecorded` -> `payment_recorded` (API.md lifecycle names)."""
    name = topic.rsplit(".", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class StreamEvent:
    """One event of a stream: its API shape, and what tells whose and what it is."""

    topic: str
    business_id: UUID | None
    response: EventResponse


async def stream(pool: Pool, events: EventReader, aggregate_id: UUID) -> list[StreamEvent]:
    """The stream in order, each event decoded through the application's mapper (so
    upcasters apply) as {id, type, version, occurred_at, data}."""
    rows = await pool.fetch(
        local_statement(__file__, "timeline.sql", "aggregate_stream"), aggregate_id
    )
    decoded = []
    for row in rows:
        domain_event: Any = events.decode(
            StoredEvent(
                originator_id=standard_uuid(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
        )
        occurred_at: datetime = domain_event.timestamp
        decoded.append(
            StreamEvent(
                topic=row["topic"],
                business_id=getattr(domain_event, "business_id", None),
                response=EventResponse(
                    id=event_id(aggregate_id, row["originator_version"]),
                    type=event_type(row["topic"]),
                    version=row["originator_version"],
                    occurred_at=occurred_at,
                    data=event_data(
                        domain_event
                    ),  # msgspec writes Decimal as its exact string, UUID as text
                ),
            )
        )
    return decoded


async def invoice_events(
    pool: Pool, events: EventReader, business_id: UUID, invoice_id: UUID
) -> list[EventResponse] | None:
    """The invoice's events, or None when the stream is not an invoice of `business_id`: its
    first event's topic says whether it is an invoice, its business_id whose it is."""
    found = await stream(pool, events, invoice_id)
    if not found or found[0].topic != INVOICE_CREATED_TOPIC:
        return None
    if found[0].business_id != business_id:
        return None
    return [event.response for event in found]
