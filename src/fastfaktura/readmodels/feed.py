"""The business's event feed (API.md "The business's event feed"): every event of a business's
invoices, credit notes, clients and the business itself, oldest first, read from the event
store with its notification ids.

An event's business is the store's one owner rule, `invoicing_events.chain_business` (written
on the row by the hash chain's trigger, migration 0016; read through migration 0020's index).

No skip, no repeat: the store appends under a table lock, so notification-id order is commit
order, and the business is part of the event row itself. Whatever a reader sees "after id N" is
therefore a gap-free prefix: a row committing later always has a larger id, so a cursor (the
last id returned) never passes an event that is still to come.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from asyncpg import Pool
from eventsourcing.persistence import StoredEvent

from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.readmodels.events import EventReader
from fastfaktura.readmodels.queries.common import standard_uuid
from fastfaktura.readmodels.timeline import event_data, event_id
from fastfaktura.readmodels.wire_types import described

# Stored topic -> (object, feed type). One table: a new aggregate's events join the feed (and
# become webhook types) by adding their rows here; topics absent from it stay internal.
FEED_TYPES: dict[str, tuple[str, str]] = {
    "fastfaktura:Business.Created": ("business", "business.created"),
    "fastfaktura:Business.ProfileChanged": ("business", "business.profile_changed"),
    "fastfaktura:Business.WebhookEndpointDisabled": (
        "business",
        "business.webhook_endpoint_disabled",
    ),
    "fastfaktura:Business.LogoChanged": ("business", "business.logo_changed"),
    "fastfaktura:Business.LogoRemoved": ("business", "business.logo_removed"),
    "fastfaktura:Client.Created": ("client", "client.created"),
    "fastfaktura:Client.DetailsChanged": ("client", "client.details_changed"),
    "fastfaktura:Client.Archived": ("client", "client.archived"),
    "fastfaktura:Invoice.Created": ("invoice", "invoice.created"),
    "fastfaktura:Invoice.Sent": ("invoice", "invoice.sent"),
    "fastfaktura:Invoice.ReminderSent": ("invoice", "invoice.reminder_sent"),
    "fastfaktura:Invoice.Delivered": ("invoice", "invoice.delivered"),
    "fastfaktura:Invoice.DeliveryFailed": ("invoice", "invoice.delivery_failed"),
    "fastfaktura:Invoice.Opened": ("invoice", "invoice.opened"),
    "fastfaktura:Invoice.Overdue": ("invoice", "invoice.overdue"),
    "fastfaktura:Invoice.PaymentRequested": ("invoice", "invoice.payment_requested"),
    "fastfaktura:Invoice.PaymentRequestFailed": ("invoice", "invoice.payment_request_failed"),
    "fastfaktura:Invoice.PaymentRequestUpdated": ("invoice", "invoice.payment_request_updated"),
    "fastfaktura:Invoice.PaymentRequestClosed": ("invoice", "invoice.payment_request_closed"),
    "fastfaktura:Invoice.PaymentRecorded": ("invoice", "invoice.payment_recorded"),
    "fastfaktura:Invoice.Paid": ("invoice", "invoice.paid"),
    "fastfaktura:Invoice.Changed": ("invoice", "invoice.changed"),
    "fastfaktura:Invoice.Credited": ("invoice", "invoice.credited"),
    "fastfaktura:Invoice.Cancelled": ("invoice", "invoice.cancelled"),
    "fastfaktura:CreditNote.Issued": ("credit_note", "credit_note.issued"),
    "fastfaktura:CreditNote.RefundRecorded": ("credit_note", "credit_note.refund_recorded"),
    "fastfaktura:CreditNote.Sent": ("credit_note", "credit_note.sent"),
    "fastfaktura:CreditNote.Delivered": ("credit_note", "credit_note.delivered"),
    "fastfaktura:CreditNote.DeliveryFailed": ("credit_note", "credit_note.delivery_failed"),
}
FEED_TOPICS: tuple[str, ...] = tuple(FEED_TYPES)
EVENT_TYPES: frozenset[str] = frozenset(kind for _, kind in FEED_TYPES.values())

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
_CURSOR_PREFIX = b"ev1:"


def _sql(name: str) -> str:
    return local_statement(__file__, "feed.sql", name)


def encode_cursor(position: int) -> str:
    """Opaque to clients: a versioned wrapper around the notification id."""
    return base64.urlsafe_b64encode(_CURSOR_PREFIX + str(position).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The position a cursor stands for, or None when it is not one of ours."""
    if not 1 <= len(cursor) <= 64 or not cursor.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        return None
    digits = raw.removeprefix(_CURSOR_PREFIX)
    # One spelling per position (no sign, no leading zero), within a bigint.
    if digits == raw or not digits.isdigit() or len(digits) > 18:
        return None
    position = int(digits)
    return position if str(position).encode() == digits else None


class FeedEvent(msgspec.Struct, kw_only=True):
    """One event of the business's feed (the body of a webhook too)."""

    id: Annotated[UUID, described("The event's id", "9a1f3e0c-5b7d-4f2a-8c6e-1d0b9a8f7e6d")]
    type: Annotated[
        str,
        described(
            "{object}.{event}: " + ", ".join(sorted({t for _, t in FEED_TYPES.values()})),
            "invoice.paid",
        ),
    ]
    object: Annotated[
        str,
        described(
            "What it happened to: " + ", ".join(sorted({o for o, _ in FEED_TYPES.values()})),
            "invoice",
        ),
    ]
    object_id: Annotated[
        UUID, described("That object's id", "53c7e82e-a39f-4e88-b66c-8f13f5bdf577")
    ]
    occurred_at: Annotated[
        datetime, described("When it happened (RFC 3339, UTC)", "2026-11-24T10:05:00Z")
    ]
    data: Annotated[
        dict[str, Any],
        described("What the event recorded (its fields depend on `type`)", {"amount_cents": 90000}),
    ]


class FeedPage(msgspec.Struct, kw_only=True):
    """A page of the feed, oldest first."""

    data: Annotated[list[FeedEvent], described("The events of this page, oldest first")]
    next_cursor: Annotated[
        str | None,
        described("Pass as `after` for the next page (null: nothing more yet)", "MTIzNDU"),
    ]


@dataclass(frozen=True)
class FeedEntry:
    """One event: where it is in the store, and its API shape."""

    position: int
    version: int
    event: FeedEvent


def feed_event(events: EventReader, row: Any) -> FeedEntry:
    object_id = standard_uuid(row["originator_id"])
    domain_event: Any = events.decode(
        StoredEvent(
            originator_id=object_id,
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
    )
    kind, name = FEED_TYPES[row["topic"]]
    return FeedEntry(
        position=row["notification_id"],
        version=row["originator_version"],
        event=FeedEvent(
            id=event_id(object_id, row["originator_version"]),
            type=name,
            object=kind,
            object_id=object_id,
            occurred_at=domain_event.timestamp,
            data=event_data(domain_event),
        ),
    )


async def business_feed(
    pool: Pool, events: EventReader, business_id: UUID, after: int | None, limit: int
) -> FeedPage:
    rows = await pool.fetch(
        _sql("business_page"), business_id, after or 0, list(FEED_TOPICS), limit
    )
    entries = [feed_event(events, row) for row in rows]
    if entries:
        next_cursor: str | None = encode_cursor(entries[-1].position)
    else:
        next_cursor = None if after is None else encode_cursor(after)
    return FeedPage(data=[entry.event for entry in entries], next_cursor=next_cursor)


async def store_page(conn: Any, after: int, limit: int) -> list[Any]:
    """Every business's feed events after `after` (the webhook worker's fan-out), in order:
    notification_id, business_id, originator_id, originator_version, topic."""
    rows: list[Any] = await conn.fetch(_sql("all_businesses_page"), after, list(FEED_TOPICS), limit)
    return rows
