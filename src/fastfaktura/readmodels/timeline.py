"""An aggregate's events read straight from the event store (not a projection), for the API."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from asyncpg import Pool
from eventsourcing.persistence import StoredEvent

from fastfaktura.application import Invoicing
from fastfaktura.readmodels.queries import standard_uuid
from fastfaktura.readmodels.sql import statement

_ENVELOPE = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic"})
_EVENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/event")


def event_type(topic: str) -> str:
    """`fastfaktura:Invoice.PaymentRecorded` -> `payment_recorded` (API.md lifecycle names)."""
    name = topic.rsplit(".", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


async def stream(pool: Pool, app: Invoicing, aggregate_id: UUID) -> list[dict[str, Any]]:
    """The stream in order, each event decoded through the application's mapper (so
    upcasters apply) as {id, type, version, occurred_at, data}."""
    rows = await pool.fetch(statement("invoices", "queries.sql", "invoice_stream"), aggregate_id)
    events = []
    for row in rows:
        domain_event: Any = app.mapper.to_domain_event(
            StoredEvent(
                originator_id=standard_uuid(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
        )
        occurred_at: datetime = domain_event.timestamp
        data = {k: v for k, v in vars(domain_event).items() if k not in _ENVELOPE}
        events.append(
            {
                "id": uuid5(_EVENT_NAMESPACE, f"{aggregate_id}/{row['originator_version']}"),
                "type": event_type(row["topic"]),
                "version": row["originator_version"],
                "occurred_at": occurred_at,
                "data": data,  # msgspec writes Decimal as its exact string, UUID as text
                "business_id": getattr(domain_event, "business_id", None),
            }
        )
    return events
