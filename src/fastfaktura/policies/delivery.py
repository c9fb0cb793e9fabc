"""The delivery worker: a policy that follows the deliveries read model (itself built from the
`sent` / `reminder_sent` events) and performs each pending delivery.

Once per delivery, in this order: perform it (sandbox: keep the message in the outbox; live:
SMTP or the SMS gateway), note it as done in `delivery_attempts`, then record `delivered` on the
invoice. A crash before the note repeats the delivery at most once (sandbox: never, the outbox is
keyed by the delivery id); a crash after it only records the event late. Failures are retried
with exponential backoff; the last one is noted too, then recorded as `delivery_failed`, so
that a worker reading a read model that does not show the outcome yet (or restarted before it
was recorded) only records it, and never tries again.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field, replace
from typing import ClassVar
from uuid import UUID

import anyio.to_thread
import asyncpg
import structlog

from fastfaktura.adapters.delivery.messages import Attachment, InvoiceFacts, Message, render
from fastfaktura.adapters.delivery.transports import DeliveryError, Transport
from fastfaktura.adapters.named_sql import local_statement
from fastfaktura.adapters.pdf.pool import InlinePdfRenderer, PdfRenderer
from fastfaktura.adapters.pdf.store import invoice_pdf
from fastfaktura.application import Invoicing
from fastfaktura.policies.credit_note_delivery import credit_note_message
from fastfaktura.policies.loop import LockedWorker
from fastfaktura.readmodels.business_view import BusinessResponse
from fastfaktura.readmodels.queries.business import find_business
from fastfaktura.readmodels.queries.deliveries import (
    DueDelivery,
    due_credit_note_deliveries,
    due_deliveries,
)
from fastfaktura.readmodels.queries.invoices import StoredInvoice, find_invoice

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 6  # then `delivery_failed`; waits 2, 4, 8, 16, 32 s in between


class DeliveryMooted(Exception):
    """The delivery no longer makes sense (a reminder for an invoice since paid or cancelled)."""


def _sql(name: str) -> str:
    return local_statement(__file__, "delivery.sql", name)


@dataclass
class DeliveryWorker(LockedWorker):
    LOCK: ClassVar[str] = "fastfaktura.delivery-worker"
    pool: asyncpg.Pool
    app: Invoicing
    base_url: str
    transports: dict[str, Transport] = field(default_factory=dict)  # channel -> live transport
    # The app's PDF pool; a worker run on its own renders in a thread.
    pdfs: PdfRenderer = field(default_factory=InlinePdfRenderer)
    poll_seconds: float = 0.1
    batch: int = 50
    restart_seconds: float = 1.0
    status: str = "starting"
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def run_once(self) -> int:
        due = await due_deliveries(self.pool, self.batch)
        due += await due_credit_note_deliveries(self.pool, self.batch)
        for delivery in due:
            await self._deliver(delivery)
        return len(due)

    async def _deliver(self, delivery: DueDelivery) -> None:
        business_id, invoice_id, delivery_id = (
            delivery.business_id,
            delivery.invoice_id,
            delivery.id,
        )
        if delivery.done:  # performed before a crash: only the event is missing
            await self._record(delivery, None)
            return
        if delivery.attempts >= MAX_ATTEMPTS:  # given up already: only the event may be missing
            error = delivery.last_error or "delivery failed"
            await self._record(delivery, error)
            return
        try:
            await self._perform(delivery, business_id, invoice_id, delivery_id)
        except DeliveryMooted as exc:
            # Nothing to retry: the invoice moved on (paid, cancelled) before it went out.
            await self.pool.execute(_sql("note_attempt"), delivery_id, 0.0, str(exc))
            await self._record(delivery, str(exc))
            return
        except Exception as exc:
            # A DeliveryError is expected (server down, refused); anything else is a bug or a
            # misconfiguration, but it must not stop the worker for every other delivery.
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            attempts = delivery.attempts + 1
            log.warning(
                "delivery failed",
                delivery=str(delivery_id),
                attempt=attempts,
                error=error,
                exc_info=not isinstance(exc, DeliveryError),
            )
            # Noted first, the last failure included: see the module docstring.
            await self.pool.execute(_sql("note_attempt"), delivery_id, float(2**attempts), error)
            if attempts >= MAX_ATTEMPTS:
                await self._record(delivery, error)
            return
        await self.pool.execute(_sql("note_done"), delivery_id)
        await self._record(delivery, None)

    async def _perform(
        self, delivery: DueDelivery, business_id: UUID, invoice_id: UUID, delivery_id: UUID
    ) -> None:
        channel = delivery.channel
        if channel == "link":
            return  # the public link exists already; nothing travels
        recipient = delivery.recipient
        if recipient is None:  # only a link goes to no one
            raise DeliveryError(f"the {channel} delivery has no recipient")
        business = await find_business(self.pool, business_id)
        if business is None:
            raise DeliveryError("the business's read model is not there yet")
        if delivery.credit_note_id is not None:
            message, url = await credit_note_message(
                self.pool, self.pdfs, self.base_url, business, delivery.credit_note_id, channel
            )
        else:
            message, url = await self._invoice_message(business, delivery)
        if business.mode == "sandbox":
            # Kept exactly as it would go out, instead of sent; keyed by the delivery id.
            await self.pool.execute(
                _sql("keep_sandbox_message"),
                business_id,
                delivery_id,
                invoice_id,
                channel,
                recipient,
                message.subject,
                message.body,
                url,
                json.dumps(
                    [
                        {
                            "filename": a.filename,
                            "content_type": a.content_type,
                            "size": len(a.content),
                        }
                        for a in message.attachments
                    ]
                ),
                delivery.credit_note_id,
            )
            return
        transport = self.transports.get(channel)
        if transport is None:
            raise DeliveryError(
                f"no {channel} transport is configured (SMTP_URL / SMS_GATEWAY_URL)"
            )
        await transport.send(
            to=recipient,
            message=message,
            key=str(delivery_id),
            sender=business.legal_name or business.name,
            reply_to=business.email,
        )

    async def _invoice_message(
        self, business: BusinessResponse, delivery: DueDelivery
    ) -> tuple[Message, str]:
        """The invoice's message (its PDF attached to an email), and its public URL."""
        stored = await find_invoice(self.pool, business.id, delivery.invoice_id, self.base_url)
        if stored is None:
            raise DeliveryError("the invoice's read model is not there yet")
        status = stored.view.status
        if delivery.kind == "reminder" and status in ("paid", "cancelled"):
            raise DeliveryMooted(f"not sent: the invoice was {status} before the reminder went out")
        facts = self._facts(business, stored)
        message = render(facts, channel=delivery.channel, kind=delivery.kind)
        if delivery.channel == "email":
            message = replace(message, attachments=(await self._pdf(business.id, stored),))
        return message, facts.url

    async def _pdf(self, business_id: UUID, stored: StoredInvoice) -> Attachment:
        """The invoice as issued (the same stored PDF the API serves), for email."""
        pdf = await invoice_pdf(
            self.pdfs, self.pool, business_id, stored.view, stored.version, issued=True
        )
        return Attachment(pdf.filename, "application/pdf", pdf.content)

    def _facts(self, business: BusinessResponse, stored: StoredInvoice) -> InvoiceFacts:
        invoice = stored.view
        return InvoiceFacts(
            number=invoice.number,
            seller=business.legal_name or business.name,
            buyer=invoice.buyer.name or "",
            currency=invoice.currency,
            total_cents=invoice.total_cents,
            amount_due_cents=invoice.amount_due_cents,
            due_date=invoice.due_date,
            url=invoice.public_url,
            locale=invoice.buyer.locale or business.locale,
        )

    async def _record(self, delivery: DueDelivery, error: str | None) -> None:
        business_id, delivery_id = delivery.business_id, str(delivery.id)
        note_id = delivery.credit_note_id
        if note_id is not None:
            await anyio.to_thread.run_sync(
                lambda: self.app.record_credit_note_delivery(
                    business_id, note_id, delivery_id, error=error
                )
            )
            return
        await anyio.to_thread.run_sync(
            lambda: self.app.record_delivery(
                business_id, delivery.invoice_id, delivery_id, error=error
            )
        )
