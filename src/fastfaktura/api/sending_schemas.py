"""Wire types of sending: the deliveries a send answers with, and the sandbox's kept messages
(API.md "Send", "Sandbox messages")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from fastfaktura.api.body_fields import PageNumber, PerPageCount, Total
from fastfaktura.api.schemas import Channel
from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.wire_types import described

DeliveryChannel = Annotated[
    Channel, described("email (needs the client's email), sms (its phone) or link", "email")
]


class DeliveryResponse(msgspec.Struct, kw_only=True):
    """One channel's delivery of the document."""

    channel: DeliveryChannel
    to: Annotated[
        str | None,
        described(
            "The email address, the phone number, or null for `link`", "accounts@acme.example"
        ),
    ]
    status: Annotated[
        Literal["simulated", "pending", "delivered", "failed"],
        described(
            "simulated (sandbox: nothing left the machine), pending (queued), delivered, failed",
            "simulated",
        ),
    ]
    url: Annotated[
        str,
        described(
            "The document's public page",
            "https://app.fastfaktura.io/i/qVR_wiU8kj-3hp69r_cMy-shoozw5hnb",
        ),
    ]


class SendResponse(msgspec.Struct, kw_only=True):
    """The invoice as sent, and one delivery per channel."""

    invoice: InvoiceResponse
    deliveries: Annotated[list[DeliveryResponse], described("One per channel asked for")]


class AttachmentResponse(msgspec.Struct, kw_only=True):
    """A file attached to a sandbox email."""

    filename: Annotated[str, described("Its file name", "F2026-00001.pdf")]
    content_type: Annotated[str, described("Its media type", "application/pdf")]
    size: Annotated[int, described("Its size in bytes", 48213)]


class SandboxMessage(msgspec.Struct, kw_only=True):
    """A message a sandbox business would have sent (kept instead of delivered)."""

    id: Annotated[UUID, described("The message's id", "7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098")]
    # A credit note's message: the invoice it credits (so `?invoice_id=` finds it too).
    invoice_id: Annotated[
        UUID,
        described(
            "The invoice sent, or the one a credit note credits",
            "53c7e82e-a39f-4e88-b66c-8f13f5bdf577",
        ),
    ]
    channel: DeliveryChannel
    to: Annotated[
        str | None,
        described(
            "The email address, the phone number, or null for `link`", "accounts@acme.example"
        ),
    ]
    subject: Annotated[
        str | None, described("The email's subject (null for sms and link)", "Invoice F2026-00001")
    ]
    body: Annotated[str, described("The text the client would read", "Hello, please find ...")]
    url: Annotated[
        str,
        described(
            "The document's public page",
            "https://app.fastfaktura.io/i/qVR_wiU8kj-3hp69r_cMy-shoozw5hnb",
        ),
    ]
    attachments: Annotated[list[AttachmentResponse], described("Files attached (email: the PDF)")]
    created_at: Annotated[
        datetime, described("When it was sent (RFC 3339, UTC)", "2026-11-24T10:00:00Z")
    ]
    # The credit note a message sends; null for an invoice's message.
    credit_note_id: Annotated[
        UUID | None, described("The credit note sent; null for an invoice's message", None)
    ] = None


class SandboxMessagePage(msgspec.Struct, kw_only=True):
    """A page of sandbox messages, newest first."""

    data: Annotated[list[SandboxMessage], described("The messages of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total
