"""The deliveries an invoice decides when it is sent or reminded, and their outcomes: pure
helpers of the Invoice aggregate (domain/invoice.py), which records them in its events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

from fastfaktura.domain.errors import UnknownDelivery


def planned_deliveries(
    invoice_id: UUID, version: int, recipients: Mapping[str, str | None], kind: str
) -> list[dict[str, Any]]:
    """One delivery per channel (`recipients`: channel -> address, None for `link`). Its id
    (invoice, version, channel) is the idempotency key that keeps a retry from reaching anyone
    twice."""
    return [
        {"id": str(uuid5(invoice_id, f"{version}/{ch}")), "channel": ch, "to": to, "kind": kind}
        for ch, to in recipients.items()
    ]


def pending_delivery(
    deliveries: Mapping[str, dict[str, Any]], delivery_id: str
) -> dict[str, Any] | None:
    """The delivery whose outcome is still to record; None when it was recorded already (a
    retried worker). One never decided raises UnknownDelivery."""
    delivery = deliveries.get(delivery_id)
    if delivery is None:
        raise UnknownDelivery(delivery_id)
    return delivery if delivery["status"] == "pending" else None
