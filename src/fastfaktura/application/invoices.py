"""Commands on invoices: create (numbered from its series), edit a draft, send, deliveries,
views, payments and overdue. Card payment requests are in card_payments.py; cancel, which may
issue a credit note, is in credit_notes.py."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from fastfaktura.application.base import A, Clock, Decided, WriteModel, Written, utc_now
from fastfaktura.application.einvoice_checks import check_invoice
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client
from fastfaktura.domain.einvoice_rules import Report
from fastfaktura.domain.errors import (
    ChannelWithoutAddress,
    InvoicedClientArchived,
    InvoicedClientUnknown,
    LegalRuleBroken,
    NotFoundError,
    RuleBroken,
    RulesBroken,
)
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.domain.payment_reference import payment_reference
from fastfaktura.domain.pricing import InvoiceLine, date_rules, priced
from fastfaktura.domain.series import InvoiceSeries, format_number, series_id

# The client detail each delivery channel is addressed to (`link` needs none).
CHANNEL_ADDRESS = {"email": "email", "sms": "phone"}
SELLER_FIELDS = (
    "legal_name",
    "email",
    "phone",
    "address",
    "country",
    "vat_number",
    "company_id",
    "iban",
    "bic",
    "vat_exempt_293b",
    "late_payment_rate",
    "f_skatt",
    "vat_on_debits",
)
BUYER_FIELDS = (
    "name",
    "email",
    "phone",
    "address",
    "country",
    "vat_number",
    "company_id",
    "locale",
)


def frozen_seller(business: Business) -> dict[str, Any]:
    """The seller's legal details as an invoice freezes them."""
    return {"name": business.name, **{k: business.field(k) for k in SELLER_FIELDS}}


def frozen_buyer(client: Client) -> dict[str, Any]:
    """The buyer's details as an invoice freezes them."""
    return {**{k: client.details.get(k) for k in BUYER_FIELDS}, "id": str(client.id)}


def default_due_date(business: Business, issue_date: date) -> date:
    return issue_date + timedelta(days=int(business.profile["payment_terms_days"]))


def draft_lines(invoice: Invoice) -> list[InvoiceLine]:
    """A draft's lines as they were given (an edit without `lines` keeps them)."""
    return [
        InvoiceLine(
            line["description"],
            Decimal(line["quantity"]),
            int(line["unit_price_cents"]),
            Decimal(line["tax_rate"]),
            line.get("stated_vat_category"),
            line.get("stated_vat_exemption_reason"),
        )
        for line in invoice.lines
    ]


def invoice_terms(business: Business, given: Mapping[str, Any]) -> dict[str, Any]:
    """The terms a creation records (domain/invoice_terms.py): the operation category
    defaults to the business's; the accounting currency is the business's now."""
    return {
        "operation_category": given.get("operation_category")
        or business.field("operation_category"),
        "delivery_address": given.get("delivery_address"),
        "tax_exchange_rate": given.get("tax_exchange_rate"),
        "accounting_currency": business.field("currency"),
    }


class InvoiceCommands(WriteModel):
    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env, clock)
        # Creations in one process queue per series instead of racing on its version; other
        # processes still race, and the loser retries (see WriteModel._command).
        self._series_locks: dict[UUID, threading.Lock] = {}
        self._series_locks_guard = threading.Lock()
        # Each series as this process last saved it (used under its lock): the next creation
        # here takes its number without reading the series (a round trip inside the lock, a
        # fifth of the time a creation holds it). Had another process numbered one meanwhile,
        # the save conflicts on the series' version and the retry reads it (`_series_as_saved`).
        self._saved_series: dict[UUID, Aggregate] = {}

    def invoice_rules_broken(
        self,
        business_id: UUID,
        *,
        client_id: UUID | None = None,
        due_date: date | None = None,
        lines: list[InvoiceLine] | None = None,
    ) -> list[RuleBroken]:
        """The rules a creation would break, judged on the parts given (the others are
        unknown): so a caller with a partly invalid request still reports every error."""
        broken = priced(lines)[1] if lines is not None else []
        if client_id is not None:
            broken += self._client_rules(business_id, client_id)[1]
        return broken + date_rules(self.clock().date(), due_date)

    def _client_rules(
        self, business_id: UUID, client_id: UUID
    ) -> tuple[Client | None, list[RuleBroken]]:
        try:
            client = self.get(Client, client_id, business_id)
        except NotFoundError:
            return None, [InvoicedClientUnknown()]
        return client, [InvoicedClientArchived()] if client.is_archived else []

    def create_invoice(
        self,
        business_id: UUID,
        *,
        client_id: UUID,
        currency: str,
        lines: list[InvoiceLine],
        due_date: date | None = None,
        notes: str | None = None,
        **terms: Any,
    ) -> Written[Invoice]:
        """Number and record a draft invoice, with the seller and buyer frozen as they are now.
        `terms`: operation_category, delivery_address, tax_exchange_rate (all optional); the
        payment reference comes from the invoice's place in its series (payment_reference.py).
        Raises RulesBroken with every rule the lines, the client and the dates break."""
        business = self.get(Business, business_id)
        issue_date = self.clock().date()
        client, client_broken = self._client_rules(business_id, client_id)
        if client is None or client_broken:
            # Reported with the rules of the lines and dates, in one answer.
            raise RulesBroken(priced(lines)[1] + client_broken + date_rules(issue_date, due_date))
        if due_date is None:
            due_date = default_due_date(business, issue_date)
        seller, buyer = frozen_seller(business), frozen_buyer(client)
        decided_terms = invoice_terms(business, terms)
        year = issue_date.year
        series_key = series_id(business_id, year)

        def attempt() -> Decided[Invoice]:
            # 192 random bits, the public URL's only secret: one per attempt, as the invoice id
            # is. An attempt whose commit went through unseen (the connection broke) leaves its
            # invoice behind, and the next one must not share its token.
            token = secrets.token_urlsafe(24)
            series = self._series_as_saved(series_key, InvoiceSeries) or InvoiceSeries(
                business_id=business_id, year=year
            )
            invoice = Invoice.draft(
                business_id=business_id,
                client_id=client_id,
                number=format_number(
                    str(business.profile["invoice_prefix"]), year, series.next_sequence
                ),
                currency=currency,
                issue_date=issue_date,
                due_date=due_date,
                notes=notes,
                lines=lines,
                public_token=token,
                seller=seller,
                buyer=buyer,
                terms={
                    **decided_terms,
                    "payment_reference": payment_reference(
                        year, series.next_sequence, seller["country"]
                    ),
                },
            )
            series.allocate(invoice.id)
            allocated[:] = [series]
            return Decided(invoice, (series, invoice))

        allocated: list[InvoiceSeries] = []
        with self._series_lock(series_key):
            written = self._command(attempt)
            self._saved_series[series_key] = allocated[0]
            return written

    def edit_invoice(
        self, business_id: UUID, invoice_id: UUID, changes: Mapping[str, Any]
    ) -> Written[Invoice]:
        """Edit a draft (API.md "Drafts"): the fields in `changes` replace the draft's (`lines`
        whole; `due_date` None: the default of a creation), the others are kept; the seller
        and buyer are frozen again as they are now. InvoiceStateError (409) for anything but
        a draft; RulesBroken with every rule the edited draft breaks, as a creation would."""

        def attempt() -> Decided[Invoice]:
            invoice = self.get(Invoice, invoice_id, business_id)
            invoice.check_editable()
            edited = self._edited_fields(business_id, invoice, changes)
            client, client_broken = self._client_rules(business_id, edited["client_id"])
            if client is None or client_broken:
                issue_date = date.fromisoformat(invoice.issue_date)
                lines_broken = priced(edited["lines"])[1]
                raise RulesBroken(
                    lines_broken + client_broken + date_rules(issue_date, edited["due_date"])
                )
            business = self.get(Business, business_id)
            invoice.edit(**edited, seller=frozen_seller(business), buyer=frozen_buyer(client))
            return Decided(invoice, (invoice,))

        return self._command(attempt)

    def edit_rules_broken(
        self, business_id: UUID, invoice_id: UUID, changes: Mapping[str, Any]
    ) -> list[RuleBroken]:
        """The rules an edit would break, judged on the valid parts of a request that has
        invalid ones (so that one answer reports every error). NotFoundError and
        InvoiceStateError as the edit itself."""
        invoice = self.get(Invoice, invoice_id, business_id)
        invoice.check_editable()
        edited = self._edited_fields(business_id, invoice, changes)
        broken = priced(edited["lines"])[1] if "lines" in changes else []
        if "client_id" in changes:
            broken += self._client_rules(business_id, edited["client_id"])[1]
        issue_date = date.fromisoformat(invoice.issue_date)
        return broken + date_rules(issue_date, changes.get("due_date"))

    def _edited_fields(
        self, business_id: UUID, invoice: Invoice, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The draft's fields with `changes` merged in (what Invoice.edit takes)."""
        business = self.get(Business, business_id)
        due_date = changes.get("due_date", date.fromisoformat(invoice.due_date))
        if due_date is None:
            issue_date = date.fromisoformat(invoice.issue_date)
            due_date = default_due_date(business, issue_date)
        kept = invoice.terms
        return {
            "terms": invoice_terms(
                business,
                {
                    "operation_category": changes.get(
                        "operation_category", kept.operation_category
                    ),
                    "delivery_address": changes.get("delivery_address", kept.delivery_address),
                    "tax_exchange_rate": changes.get("tax_exchange_rate", kept.tax_exchange_rate),
                },
            ),
            "client_id": changes.get("client_id", invoice.client_id),
            "currency": changes.get("currency", invoice.currency),
            "due_date": due_date,
            "notes": changes.get("notes", invoice.notes),
            "lines": changes["lines"] if "lines" in changes else draft_lines(invoice),
        }

    def _series_lock(self, key: UUID) -> threading.Lock:
        with self._series_locks_guard:
            return self._series_locks.setdefault(key, threading.Lock())

    def _series_as_saved(self, key: UUID, series_type: type[A]) -> A | None:
        """Under the series' lock: the series as this process last saved it, taken (so a
        retry, or a decision that failed after changing it, reads it from the store), else
        as stored now (None: never numbered)."""
        remembered = self._saved_series.pop(key, None)
        if isinstance(remembered, series_type):
            return remembered
        return self.find(series_type, key)

    def invoice_to_send(
        self,
        business_id: UUID,
        invoice_id: UUID,
        channels: Sequence[str],
        *,
        reminder: bool = False,
    ) -> tuple[Invoice, dict[str, str | None]]:
        """The invoice a send would send and the address of each channel, checked as the send
        checks them (NotFoundError, InvoiceStateError, RulesBroken): the API renders a first
        send's documents from it before recording anything."""
        invoice = self.get(Invoice, invoice_id, business_id)
        invoice.check_sendable(reminder=reminder)
        client = self.get(Client, invoice.client_id, business_id)
        recipients: dict[str, str | None] = {}
        broken: list[RuleBroken] = []
        for channel in channels:
            detail = CHANNEL_ADDRESS.get(channel)
            address = client.details.get(detail) if detail else None
            if detail and not address:
                broken.append(ChannelWithoutAddress(channel, detail))
            recipients[channel] = address
        if not reminder:
            # The first send issues the invoice: the legal checks first (every broken rule
            # in the same answer as the channels').
            report = check_invoice(invoice, self.get(Business, business_id))
            broken += [LegalRuleBroken(e.field, e.rule, e.message) for e in report.errors]
        if broken:
            raise RulesBroken(broken)
        return invoice, recipients

    def send_invoice(
        self,
        business_id: UUID,
        invoice_id: UUID,
        channels: Sequence[str],
        *,
        reminder: bool = False,
        documents: Mapping[str, str] | None = None,
        issued_version: int | None = None,
    ) -> Written[Invoice]:
        """Record the decision to send (`sent`, or `reminder_sent`) with one delivery per
        channel, addressed to the client as it is now. The delivery worker, following the
        log, performs them (fastfaktura.policies.delivery). `documents`: the digests of the
        documents a first send issues, rendered from the invoice at `issued_version`; if the
        invoice changed since (a race), InvoiceStateError, nothing recorded."""

        def attempt() -> Decided[Invoice]:
            invoice, recipients = self.invoice_to_send(
                business_id, invoice_id, channels, reminder=reminder
            )
            if issued_version is not None and invoice.version != issued_version:
                # Its documents were rendered from an older draft: they would not be it.
                raise InvoiceStateError("the draft changed while it was being issued: send again")
            invoice.send(recipients, reminder=reminder, documents=documents)
            return Decided(invoice, (invoice,))

        return self._command(attempt)

    def validate_invoice(self, business_id: UUID, invoice_id: UUID) -> Report:
        """The legal checks of an invoice (API.md `GET /invoices/{id}/validation`): for a draft,
        what its first send would meet; NotFoundError for another business's invoice."""
        invoice = self.get(Invoice, invoice_id, business_id)
        return check_invoice(invoice, self.get(Business, business_id))

    def record_delivery(
        self, business_id: UUID, invoice_id: UUID, delivery_id: str, *, error: str | None = None
    ) -> Written[Invoice]:
        """The outcome of one delivery, as an event (a repeat records nothing)."""
        return self._change(
            Invoice,
            invoice_id,
            business_id,
            lambda invoice: invoice.record_delivery(delivery_id, error=error),
        )

    def open_invoice(self, business_id: UUID, invoice_id: UUID) -> Written[Invoice]:
        """A view of the public page: records `opened` at most once per invoice per UTC day
        (the first view of a sent invoice also sets its status). A draft has no public page
        (InvoiceStateError).

        Views race each other (a link opened by many at once): the loser of a race reloads
        and decides again, and finds today's `opened` recorded by the winner, so it records
        nothing and succeeds. A view is never a conflict."""
        today = self.clock().astimezone(UTC).date()
        return self._change(Invoice, invoice_id, business_id, lambda inv: inv.open(today))

    def record_payment(
        self,
        business_id: UUID,
        invoice_id: UUID,
        *,
        amount_cents: int,
        method: str,
        paid_at: datetime | None = None,
        reference: str | None = None,
    ) -> Written[Invoice]:
        at = (paid_at or self.clock()).isoformat()
        return self._change(
            Invoice,
            invoice_id,
            business_id,
            lambda invoice: invoice.record_payment(amount_cents, method, at, reference),
        )

    def mark_overdue(self, business_id: UUID, invoice_id: UUID, today: date) -> Written[Invoice]:
        """Record `overdue` if the invoice is past due and still unpaid (else nothing)."""
        return self._change(
            Invoice, invoice_id, business_id, lambda invoice: invoice.mark_overdue(today)
        )
