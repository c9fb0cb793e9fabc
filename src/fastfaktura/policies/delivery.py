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
from datetime import date
from typing import Any, ClassVar
from uuid import UUID

import anyio.to_thread
import asyncpg
import structlog

from fastfaktura.adapters.delivery.messages import Attachment, InvoiceFacts, render
from fastfaktura.adapters.delivery.transports import DeliveryError, Transport
from fastfaktura.adapters.pdf.pool import InlinePdfRenderer, PdfRenderer
from fastfaktura.adapters.pdf.store import invoice_pdf
from fastfaktura.application import Invoicing
from fastfaktura.policies.loop import LockedWorker
from fastfaktura.readmodels import queries
from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.queries import standard_uuid
from fastfaktura.readmodels.sql import statement

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 6  # then `delivery_failed`; waits 2, 4, 8, 16, 32 s in between


class DeliveryMooted(Exception):
    """The delivery no longer makes sense (a reminder for an invoice since paid or cancelled)."""


def _sql(name: str) -> str:
    return statement("deliveries", "queries.sql", name)


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
        rows = await self.pool.fetch(_sql("due_deliveries"), self.batch)
        for row in rows:
            await self._deliver(row)
        return len(rows)

    async def _deliver(self, row: asyncpg.Record) -> None:
        business_id, invoice_id, delivery_id = (
            standard_uuid(row[k]) for k in ("business_id", "invoice_id", "id")
        )
        if row["done"]:  # performed before a crash: only the event is missing
            await self._record(business_id, invoice_id, delivery_id, None)
            return
        if row["attempts"] >= MAX_ATTEMPTS:  # given up already: only the event may be missing
            error = row["last_error"] or "delivery failed"
            await self._record(business_id, invoice_id, delivery_id, error)
            return
        try:
            await self._perform(row, business_id, invoice_id, delivery_id)
        except DeliveryMooted as exc:
            # Nothing to retry: the invoice moved on (paid, cancelled) before it went out.
            await self.pool.execute(_sql("note_attempt"), delivery_id, 0.0, str(exc))
            await self._record(business_id, invoice_id, delivery_id, str(exc))
            return
        except Exception as exc:
            # A DeliveryError is expected (server down, refused); anything else is a bug or a
            # misconfiguration, but it must not stop the worker for every other delivery.
            error = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
            attempts = row["attempts"] + 1
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
                await self._record(business_id, invoice_id, delivery_id, error)
            return
        await self.pool.execute(_sql("note_done"), delivery_id)
        await self._record(business_id, invoice_id, delivery_id, None)

    async def _perform(
        self, row: asyncpg.Record, business_id: UUID, invoice_id: UUID, delivery_id: UUID
    ) -> None:
        channel: str = row["channel"]
        if channel == "link":
            return  # the public link exists already; nothing travels
        business = await queries.get_business(self.pool, business_id)
        invoice = await queries.get_invoice(self.pool, business_id, invoice_id)
        if business is None or invoice is None:
            raise DeliveryError("the invoice's read model is not there yet")
        if row["kind"] == "reminder" and invoice["status"] in ("paid", "cancelled"):
            raise DeliveryMooted(
                f"not sent: the invoice was {invoice['status']} before the reminder went out"
            )
        facts = self._facts(business, invoice)
        message = render(facts, channel=channel, kind=row["kind"])
        if channel == "email":
            message = replace(message, attachments=(await self._pdf(business_id, invoice),))
        if business["mode"] == "sandbox":
            # Kept exactly as it would go out, instead of sent; keyed by the delivery id.
            await self.pool.execute(
                _sql("keep_sandbox_message"),
                business_id,
                delivery_id,
                invoice_id,
                channel,
                row["recipient"],
                message.subject,
                message.body,
                facts.url,
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
            )
            return
        transport = self.transports.get(channel)
        if transport is None:
            raise DeliveryError(
                f"no {channel} transport is configured (SMTP_URL / SMS_GATEWAY_URL)"
            )
        await transport.send(
            to=row["recipient"],
            message=message,
            key=str(delivery_id),
            sender=business["legal_name"] or business["name"],
            reply_to=business["email"],
        )

    async def _pdf(self, business_id: UUID, invoice: dict[str, Any]) -> Attachment:
        """The invoice as issued (the same stored PDF the API serves), for email."""
        document = InvoiceResponse.from_row(invoice, self.base_url)
        pdf = await invoice_pdf(
            self.pdfs, self.pool, business_id, document, int(invoice["version"]), issued=True
        )
        return Attachment(pdf.filename, "application/pdf", pdf.content)

    def _facts(self, business: dict[str, Any], invoice: dict[str, Any]) -> InvoiceFacts:
        buyer = invoice["buyer"]
        if isinstance(buyer, str):
            buyer = json.loads(buyer)
        due: date = invoice["due_date"]
        return InvoiceFacts(
            number=invoice["number"],
            seller=business["legal_name"] or business["name"],
            buyer=buyer.get("name") or "",
            currency=invoice["currency"],
            total_cents=invoice["total_cents"],
            amount_due_cents=invoice["amount_due_cents"],
            due_date=due,
            url=f"{self.base_url}/i/{invoice['public_token']}",
            locale=buyer.get("locale") or business["locale"],
        )

    async def _record(
        self, business_id: UUID, invoice_id: UUID, delivery_id: UUID, error: str | None
    ) -> None:
        await anyio.to_thread.run_sync(
            lambda: self.app.record_delivery(business_id, invoice_id, str(delivery_id), error=error)
        )
