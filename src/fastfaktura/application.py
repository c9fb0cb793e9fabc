"""The Invoicing application: one method per command, each load -> decide -> save.

Every method returns a `Written` carrying the aggregate and the notification position of its
last event, so the API can wait until the read models show the write (read-your-writes).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Recording

from fastfaktura.domain.api_key import ApiKey, hash_key, id_for_prefix, key_prefix, new_key_secret
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client, ExternalIdClaim, claim_id
from fastfaktura.domain.errors import (
    ApiKeyNotFoundError,
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
)
from fastfaktura.domain.invoice import Invoice, InvoiceLine, InvoiceSeries, format_number, series_id

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
Clock = Callable[[], datetime]

# Optimistic-concurrency conflicts are retried this many times before answering 409.
MAX_ATTEMPTS = 20
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


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Written(Generic[T]):
    """What a command wrote: the resulting object and (notification id, topic) per event."""

    value: T
    recorded: tuple[tuple[int, str], ...]

    @property
    def position(self) -> int | None:
        return max((nid for nid, _ in self.recorded), default=None)


@dataclass(frozen=True)
class IssuedKey:
    business_id: UUID
    secret: str
    prefix: str


class Invoicing(Application[UUID]):
    name = "Invoicing"
    log_section_size = 1000

    def __init__(self, env: Mapping[str, str] | None = None, clock: Clock = utc_now) -> None:
        super().__init__(env)
        self.clock = clock
        # Creations in one process queue per series instead of racing on its version; other
        # processes still race, and the loser retries (see _retrying).
        self._series_locks: dict[UUID, threading.Lock] = {}
        self._series_locks_guard = threading.Lock()

    # -- queries on the write model (used by commands, replay and the CLI) -----------------

    def get(
        self, aggregate_type: type[A], aggregate_id: UUID, business_id: UUID | None = None
    ) -> A:
        """Load an aggregate of that type, of that business; anything else is 'not found'."""
        try:
            aggregate: Aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            raise NotFoundError(aggregate_type.__name__.lower()) from None
        if not isinstance(aggregate, aggregate_type):
            raise NotFoundError(aggregate_type.__name__.lower())
        if business_id is not None and getattr(aggregate, "business_id", None) != business_id:
            raise NotFoundError(aggregate_type.__name__.lower())
        return aggregate

    # -- businesses and keys ----------------------------------------------------------------

    def register_business(self, name: str, mode: str, **profile: Any) -> Written[IssuedKey]:
        """A new business and its first API key, in one transaction."""
        business = Business.register(name=name, mode=mode, **profile)

        def attempt() -> Written[IssuedKey]:
            key, api_key = self._new_key(business.id, mode)
            return self._saved(IssuedKey(business.id, key, api_key.key_prefix), business, api_key)

        return _retrying(attempt)

    def issue_api_key(self, business_id: UUID) -> Written[IssuedKey]:
        business = self.get(Business, business_id)

        def attempt() -> Written[IssuedKey]:
            key, api_key = self._new_key(business.id, business.mode)
            return self._saved(IssuedKey(business.id, key, api_key.key_prefix), api_key)

        return _retrying(attempt)

    def _new_key(self, business_id: UUID, mode: str) -> tuple[str, ApiKey]:
        secret = new_key_secret(mode)
        api_key = ApiKey(
            business_id=business_id,
            key_prefix=key_prefix(secret),
            key_hash=hash_key(secret),
            mode=mode,
            issued_at=self.clock(),
        )
        return secret, api_key

    def revoke_api_key(self, prefix: str) -> Written[ApiKey]:
        try:
            api_key: Aggregate = self.repository.get(id_for_prefix(prefix))
        except AggregateNotFoundError:
            raise ApiKeyNotFoundError(prefix) from None
        assert isinstance(api_key, ApiKey)
        api_key.revoke(self.clock())
        return self._saved(api_key, api_key)

    def change_business_profile(
        self, business_id: UUID, changes: dict[str, Any]
    ) -> Written[Business]:
        def attempt() -> Written[Business]:
            business = self.get(Business, business_id)
            business.change_profile(changes)
            return self._saved(business, business)

        return _retrying(attempt)

    # -- clients ----------------------------------------------------------------------------

    def register_client(self, business_id: UUID, details: dict[str, Any]) -> Written[Client]:
        business = self.get(Business, business_id)
        details = {"locale": business.profile["locale"], **details}

        def attempt() -> Written[Client]:
            client = Client.register(business_id, details)
            claim = self._claim(business_id, details.get("external_id"), client.id)
            return self._saved(client, client, claim)

        return _retrying(attempt)

    def change_client(
        self, business_id: UUID, client_id: UUID, changes: dict[str, Any]
    ) -> Written[Client]:
        def attempt() -> Written[Client]:
            client = self.get(Client, client_id, business_id)
            before = client.details.get("external_id")
            effective = client.change(changes)
            touched: list[Aggregate] = [client]
            if "external_id" in effective:
                if before is not None:
                    touched.append(self._release(business_id, before, client.id))
                claim = self._claim(business_id, effective["external_id"], client.id)
                if claim is not None:
                    touched.append(claim)
            return self._saved(client, *touched)

        return _retrying(attempt)

    def archive_client(self, business_id: UUID, client_id: UUID) -> Written[Client]:
        def attempt() -> Written[Client]:
            client = self.get(Client, client_id, business_id)
            touched: list[Aggregate] = [client]
            if client.archive(self.clock()):
                external_id = client.details.get("external_id")
                if external_id is not None:
                    touched.append(self._release(business_id, external_id, client.id))
            return self._saved(client, *touched)

        return _retrying(attempt)

    def _claim(
        self, business_id: UUID, external_id: str | None, client_id: UUID
    ) -> ExternalIdClaim | None:
        if external_id is None:
            return None
        try:
            claim: Aggregate = self.repository.get(claim_id(business_id, external_id))
        except AggregateNotFoundError:
            return ExternalIdClaim(
                business_id=business_id, external_id=external_id, client_id=client_id
            )
        assert isinstance(claim, ExternalIdClaim)
        claim.claim(client_id)
        return claim

    def _release(self, business_id: UUID, external_id: str, client_id: UUID) -> ExternalIdClaim:
        claim: Aggregate = self.repository.get(claim_id(business_id, external_id))
        assert isinstance(claim, ExternalIdClaim)
        claim.release(client_id)
        return claim

    # -- invoices ---------------------------------------------------------------------------

    def create_invoice(
        self,
        business_id: UUID,
        *,
        client_id: UUID,
        currency: str,
        lines: list[InvoiceLine],
        due_date: date | None = None,
        notes: str | None = None,
    ) -> Written[Invoice]:
        """Number and record a draft invoice, with the seller and buyer frozen as they are now."""
        business = self.get(Business, business_id)
        try:
            client = self.get(Client, client_id, business_id)
        except NotFoundError:
            raise InvalidInputError([FieldError("client_id", "no such client")]) from None
        if client.is_archived:
            raise InvalidInputError([FieldError("client_id", "the client is archived")])
        issue_date = self.clock().date()
        if due_date is None:
            due_date = issue_date + timedelta(days=int(business.profile["payment_terms_days"]))
        seller = {"name": business.name, **{k: business.field(k) for k in SELLER_FIELDS}}
        buyer = {k: client.details.get(k) for k in BUYER_FIELDS}
        year = issue_date.year
        series_key = series_id(business_id, year)

        def attempt() -> Written[Invoice]:
            # 192 random bits, the public URL's only secret: one per attempt, as the invoice id
            # is. An attempt whose commit went through unseen (the connection broke) leaves its
            # invoice behind, and the next one must not share its token.
            token = secrets.token_urlsafe(24)
            try:
                series: Aggregate = self.repository.get(series_key)
            except AggregateNotFoundError:
                series = InvoiceSeries(business_id=business_id, year=year)
            assert isinstance(series, InvoiceSeries)
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
                buyer={**buyer, "id": str(client.id)},
            )
            series.allocate(invoice.id)
            return self._saved(invoice, series, invoice)

        with self._series_lock(series_key):
            return _retrying(attempt)

    def send_invoice(
        self,
        business_id: UUID,
        invoice_id: UUID,
        channels: Sequence[str],
        *,
        reminder: bool = False,
    ) -> Written[Invoice]:
        """Record the decision to send (`sent`, or `reminder_sent`) with one delivery per
        channel, addressed to the client as it is now. The delivery worker, following the
        log, performs them (fastfaktura.policies.delivery)."""

        def attempt() -> Written[Invoice]:
            invoice = self.get(Invoice, invoice_id, business_id)
            invoice.check_sendable(reminder=reminder)
            client = self.get(Client, invoice.client_id, business_id)
            recipients: dict[str, str | None] = {}
            errors = []
            for channel in channels:
                field = CHANNEL_ADDRESS.get(channel)
                address = client.details.get(field) if field else None
                if field and not address:
                    errors.append(FieldError("channels", f"{channel} needs the client's {field}"))
                recipients[channel] = address
            if errors:
                raise InvalidInputError(errors)
            invoice.send(recipients, reminder=reminder)
            return self._saved(invoice, invoice)

        return _retrying(attempt)

    def record_delivery(
        self, business_id: UUID, invoice_id: UUID, delivery_id: str, *, error: str | None = None
    ) -> Written[Invoice]:
        """The outcome of one delivery, as an event (a repeat records nothing)."""
        return self._on_invoice(
            business_id,
            invoice_id,
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
        return self._on_invoice(business_id, invoice_id, lambda invoice: invoice.open(today))

    def cancel_invoice(
        self, business_id: UUID, invoice_id: UUID, reason: str | None
    ) -> Written[Invoice]:
        return self._on_invoice(business_id, invoice_id, lambda invoice: invoice.cancel(reason))

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
        return self._on_invoice(
            business_id,
            invoice_id,
            lambda invoice: invoice.record_payment(amount_cents, method, at, reference),
        )

    def record_payment_request(
        self,
        business_id: UUID,
        invoice_id: UUID,
        *,
        provider: str,
        payment_intent_id: str,
        amount_cents: int,
        livemode: bool,
    ) -> Written[Invoice]:
        """The PaymentIntent created for the invoice, as `payment_requested` (once)."""
        return self._on_invoice(
            business_id,
            invoice_id,
            lambda invoice: invoice.record_payment_request(
                provider=provider,
                payment_intent_id=payment_intent_id,
                amount_cents=amount_cents,
                livemode=livemode,
            ),
        )

    def record_payment_request_failed(
        self, business_id: UUID, invoice_id: UUID, *, provider: str, error: str
    ) -> Written[Invoice]:
        return self._on_invoice(
            business_id,
            invoice_id,
            lambda invoice: invoice.record_payment_request_failed(provider=provider, error=error),
        )

    def record_payment_request_update(
        self, business_id: UUID, invoice_id: UUID, *, payment_intent_id: str, amount_cents: int
    ) -> Written[Invoice]:
        return self._on_invoice(
            business_id,
            invoice_id,
            lambda invoice: invoice.record_payment_request_update(
                payment_intent_id=payment_intent_id, amount_cents=amount_cents
            ),
        )

    def record_payment_request_closed(
        self, business_id: UUID, invoice_id: UUID, *, payment_intent_id: str, reason: str
    ) -> Written[Invoice]:
        return self._on_invoice(
            business_id,
            invoice_id,
            lambda invoice: invoice.record_payment_request_closed(
                payment_intent_id=payment_intent_id, reason=reason
            ),
        )

    def record_card_payment(
        self,
        business_id: UUID,
        invoice_id: UUID,
        *,
        payment_intent_id: str,
        amount_cents: int,
        paid_at: datetime,
    ) -> Written[bool]:
        """A provider-confirmed card payment: `payment_recorded` (and `paid`) once per
        PaymentIntent; the value says whether this call recorded it."""

        def attempt() -> Written[bool]:
            invoice = self.get(Invoice, invoice_id, business_id)
            recorded_now = invoice.record_card_payment(
                payment_intent_id, amount_cents, paid_at.isoformat()
            )
            return self._saved(recorded_now, invoice)

        return _retrying(attempt)

    def mark_overdue(self, business_id: UUID, invoice_id: UUID, today: date) -> Written[Invoice]:
        """Record `overdue` if the invoice is past due and still unpaid (else nothing)."""
        return self._on_invoice(
            business_id, invoice_id, lambda invoice: invoice.mark_overdue(today)
        )

    def _on_invoice(
        self, business_id: UUID, invoice_id: UUID, decide: Callable[[Invoice], object]
    ) -> Written[Invoice]:
        def attempt() -> Written[Invoice]:
            invoice = self.get(Invoice, invoice_id, business_id)
            decide(invoice)
            return self._saved(invoice, invoice)

        return _retrying(attempt)

    def _series_lock(self, key: UUID) -> threading.Lock:
        with self._series_locks_guard:
            return self._series_locks.setdefault(key, threading.Lock())

    # -- saving -----------------------------------------------------------------------------

    def _saved(self, value: T, *aggregates: Aggregate | None) -> Written[T]:
        return Written(value, recorded(self.save(*aggregates)))


def recorded(recordings: Iterable[Recording[UUID]]) -> tuple[tuple[int, str], ...]:
    return tuple((r.notification.id, r.notification.topic) for r in recordings)


def _retrying(attempt: Callable[[], T]) -> T:
    """Run a load-decide-save attempt again when a concurrent writer won the race."""
    for _ in range(MAX_ATTEMPTS - 1):
        try:
            return attempt()
        except IntegrityError:
            continue
    try:
        return attempt()
    except IntegrityError:
        raise ConflictError("the resource was changed concurrently; retry the request") from None
