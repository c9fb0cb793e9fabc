"""Commands on credit notes: issue one against an invoice, cancel an issued invoice (which
issues the credit note of all that is left), and record refunds.

The credit note, its series and the invoice are saved in one transaction (`save(*aggregates)`);
a concurrent credit note, payment or cancel on the same invoice collides on the invoice's
version, and the loser decides again on the new state (base.py), so an invoice is never
credited beyond its total.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fastfaktura.application.base import Decided, Written
from fastfaktura.application.einvoice_checks import check_credit_note, require_valid
from fastfaktura.application.invoices import (
    BUYER_FIELDS,
    CHANNEL_ADDRESS,
    SELLER_FIELDS,
    InvoiceCommands,
)
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client
from fastfaktura.domain.credit_note import CreditNote, issue_credit_note, shown
from fastfaktura.domain.errors import ChannelWithoutAddress, RuleBroken, RulesBroken
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.pricing import InvoiceLine
from fastfaktura.domain.series import CreditNoteSeries, credit_note_series_id, format_number

# The credit note's reason when an issued invoice is cancelled without one.
DEFAULT_CANCEL_REASON = "Invoice cancelled"


class CreditNoteDecidedOtherwise(Exception):
    """The credit note decided now differs from the one its documents were rendered from (its
    number was taken meanwhile, the day changed...): nothing recorded, decide and render again."""


@dataclass(frozen=True)
class RenderedAs:
    """A credit note decided without being recorded, and the SHA-256 by kind of the documents
    rendered from it and stored (adapters/pdf/credit_notes.py): issued only as it was decided."""

    note: CreditNote
    documents: Mapping[str, str]


class CreditNoteCommands(InvoiceCommands):
    def issue_credit_note(
        self,
        business_id: UUID,
        invoice_id: UUID,
        *,
        reason: str,
        lines: list[InvoiceLine] | None = None,
        rendered: RenderedAs | None = None,
    ) -> Written[CreditNote]:
        """A credit note against a sent, opened, overdue or paid invoice: its `lines`, or
        everything not yet credited. The invoice records `credited`. `rendered`: issue it only
        as decided there, recording its documents' digests (else CreditNoteDecidedOtherwise)."""
        written = self._credit_or_cancel(business_id, invoice_id, reason, lines, rendered)
        note = written.value[0]
        assert note is not None  # a credit always issues one
        return Written(note, written.recorded)

    def cancel_invoice(
        self,
        business_id: UUID,
        invoice_id: UUID,
        reason: str | None,
        rendered: RenderedAs | None = None,
    ) -> Written[Invoice]:
        """A draft is cancelled alone. An issued invoice (without payments) is annulled by a
        credit note of all that is left, saved with its `cancelled` in one transaction."""
        written = self._credit_or_cancel(
            business_id, invoice_id, reason, None, rendered, cancel=True
        )
        return Written(written.value[1], written.recorded)

    def credit_note_to_issue(
        self,
        business_id: UUID,
        invoice_id: UUID,
        reason: str | None,
        lines: list[InvoiceLine] | None = None,
        *,
        cancel: bool = False,
    ) -> CreditNote | None:
        """The credit note a credit (or a cancel: None for a draft's) would issue now, decided
        and checked (every refusal raised as by the command) but not recorded: its documents
        are rendered from it before it is issued (`rendered`)."""
        _, attempt = self._credit_or_cancel_attempt(business_id, invoice_id, reason, lines, cancel)
        return attempt().value[0]

    def _credit_or_cancel(
        self,
        business_id: UUID,
        invoice_id: UUID,
        reason: str | None,
        lines: list[InvoiceLine] | None,
        rendered: RenderedAs | None,
        *,
        cancel: bool = False,
    ) -> Written[tuple[CreditNote | None, Invoice]]:
        series_key, attempt = self._credit_or_cancel_attempt(
            business_id, invoice_id, reason, lines, cancel, rendered
        )
        with self._series_lock(series_key):
            return self._command(attempt)

    def _credit_or_cancel_attempt(
        self,
        business_id: UUID,
        invoice_id: UUID,
        reason: str | None,
        lines: list[InvoiceLine] | None,
        cancel: bool,
        rendered: RenderedAs | None = None,
    ) -> tuple[UUID, Callable[[], Decided[tuple[CreditNote | None, Invoice]]]]:
        """One attempt decides on the invoice as it is now (a draft sent meanwhile is annulled
        by a credit note; one paid meanwhile refuses the cancel), so a retry never acts on
        what it saw before the race."""
        business = self.get(Business, business_id)
        issue_date = self.clock().date()
        year = issue_date.year
        series_key = credit_note_series_id(business_id, year)
        seller = {"name": business.name, **{k: business.field(k) for k in SELLER_FIELDS}}

        def attempt() -> Decided[tuple[CreditNote | None, Invoice]]:
            invoice = self.get(Invoice, invoice_id, business_id)
            if cancel:
                invoice.check_cancellable()
                if invoice.status == "draft":
                    invoice.cancel(reason)
                    return Decided((None, invoice), (invoice,))
            client = self.get(Client, invoice.client_id, business_id)
            buyer = {**{k: client.details.get(k) for k in BUYER_FIELDS}, "id": str(client.id)}
            series = self.find(CreditNoteSeries, series_key) or CreditNoteSeries(
                business_id=business_id, year=year
            )
            prefix = str(business.field("credit_note_prefix"))
            note = issue_credit_note(
                invoice,
                number=format_number(prefix, year, series.next_sequence),
                issue_date=issue_date,
                reason=(reason or DEFAULT_CANCEL_REASON) if cancel else (reason or ""),
                lines=lines,
                # The public URL's only secret, one per attempt (see create_invoice); the
                # decision's own when its documents were rendered (it gives the note's id).
                public_token=(
                    rendered.note.public_token if rendered else secrets.token_urlsafe(24)
                ),
                seller=seller,
                buyer=buyer,
                documents=rendered.documents if rendered else None,
            )
            if rendered is not None and shown(note) != shown(rendered.note):
                raise CreditNoteDecidedOtherwise(note.number)
            if cancel:
                invoice.cancel(reason, note.id, note.total_cents)
            else:
                # Issuing a credit note is checked like an invoice's first send. (A cancel's
                # credit note annuls what was issued: it is not refused for the profile.)
                require_valid(check_credit_note(note, business))
                invoice.credit(note.id, note.total_cents, note.tax_breakdown)
            series.allocate(note.id)
            return Decided((note, invoice), (series, note, invoice))

        return series_key, attempt

    def record_refund(
        self,
        business_id: UUID,
        credit_note_id: UUID,
        *,
        amount_cents: int,
        method: str,
        refunded_at: datetime | None = None,
        reference: str | None = None,
    ) -> Written[CreditNote]:
        """Money given back against a credit note's refund due (`refund_recorded`)."""
        at = (refunded_at or self.clock()).isoformat()
        return self._change(
            CreditNote,
            credit_note_id,
            business_id,
            lambda note: note.record_refund(amount_cents, method, at, reference),
        )

    def record_card_refund(
        self,
        business_id: UUID,
        credit_note_id: UUID,
        *,
        refund_id: str,
        amount_cents: int,
        refunded_at: datetime,
    ) -> Written[bool]:
        """A refund made at the card provider: `refund_recorded` (method `card`, reference the
        refund id) once per refund id; the value says whether this call recorded it."""

        def attempt() -> Decided[bool]:
            note = self.get(CreditNote, credit_note_id, business_id)
            recorded_now = note.record_card_refund(refund_id, amount_cents, refunded_at.isoformat())
            return Decided(recorded_now, (note,))

        return self._command(attempt)

    def send_credit_note(
        self, business_id: UUID, credit_note_id: UUID, channels: Sequence[str]
    ) -> Written[CreditNote]:
        """Record `sent` with one delivery per channel, addressed to the client as it is now
        (RulesBroken naming each channel the client has no address for). The delivery worker
        performs them (fastfaktura.policies.delivery)."""

        def attempt() -> Decided[CreditNote]:
            note = self.get(CreditNote, credit_note_id, business_id)
            client = self.get(Client, note.client_id, business_id)
            recipients: dict[str, str | None] = {}
            broken: list[RuleBroken] = []
            for channel in channels:
                detail = CHANNEL_ADDRESS.get(channel)
                address = client.details.get(detail) if detail else None
                if detail and not address:
                    broken.append(ChannelWithoutAddress(channel, detail))
                recipients[channel] = address
            if broken:
                raise RulesBroken(broken)
            note.send(recipients)
            return Decided(note, (note,))

        return self._command(attempt)

    def record_credit_note_delivery(
        self, business_id: UUID, credit_note_id: UUID, delivery_id: str, *, error: str | None = None
    ) -> Written[CreditNote]:
        """The outcome of one of the credit note's deliveries (a repeat records nothing)."""
        return self._change(
            CreditNote,
            credit_note_id,
            business_id,
            lambda note: note.record_delivery(delivery_id, error=error),
        )
