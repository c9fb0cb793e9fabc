"""The read models: each maps one aggregate's state to rows. SQL: projections/<name>/."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from fastfaktura.domain.api_key import ApiKey
from fastfaktura.domain.business import PROFILE_DEFAULTS, Business
from fastfaktura.domain.client import CLIENT_FIELDS, Client
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.user import User
from fastfaktura.readmodels.event_views import encode_with_events, shown_events
from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.model import ReadModel, Row


class BusinessReadModel(ReadModel):
    name = "business"
    aggregate_type = Business
    tables = {"rm_business": ("business_id",)}
    order_column = "business_id"

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Business)
        row: Row = {
            "business_id": aggregate.id,
            "name": aggregate.name,
            "mode": aggregate.mode,
            **{field: aggregate.field(field) for field in PROFILE_DEFAULTS},
            **logo_columns(aggregate.logo),
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        return {"rm_business": [row]}


def logo_columns(logo: dict[str, Any] | None) -> Row:
    """rm_business's logo columns: the current logo's digest, type and size, or nulls."""
    return {
        f"logo_{key}": None if logo is None else logo[key]
        for key in ("sha256", "content_type", "width", "height")
    }


class ApiKeysReadModel(ReadModel):
    name = "api_keys"
    aggregate_type = ApiKey
    # Looked up by hash before the tenant is known: the hash is the key.
    tables = {"rm_api_keys": ("key_hash",)}

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, ApiKey)
        row: Row = {
            "key_hash": aggregate.key_hash,
            "business_id": aggregate.business_id,
            "key_prefix": aggregate.key_prefix,
            "mode": aggregate.mode,
            "issued_at": aggregate.issued_at,
            "revoked_at": aggregate.revoked_at,
            "name": aggregate.name,
            "version": aggregate.version,
        }
        return {"rm_api_keys": [row]}


class ClientsReadModel(ReadModel):
    name = "clients"
    aggregate_type = Client
    tables = {"rm_clients": ("business_id", "id")}
    order_column = "id"

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Client)
        row: Row = {
            "business_id": aggregate.business_id,
            "id": aggregate.id,
            **{field: aggregate.details.get(field) for field in CLIENT_FIELDS},
            "archived_at": aggregate.archived_at,
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        row["tags"] = list(row["tags"] or [])
        return {"rm_clients": [row]}


def invoice_response_row(aggregate: Invoice, row: Row) -> Row:
    """The invoice as GET /api/v1/invoices/{id} answers it, with its events, encoded once here
    rather than on every request; public_url without the base URL (`with_base_url`)."""
    view = InvoiceResponse.from_row(row, "")
    return {
        "business_id": aggregate.business_id,
        "id": aggregate.id,
        # The events mapped once for this and `invoice_events` (event_views.py).
        "response": encode_with_events(view, shown_events(aggregate)),
        "version": aggregate.version,
    }


def with_base_url(response: bytes, base_url: str) -> bytes:
    """A stored answer with the service's base URL in front of its public_url: the first
    `"public_url":"` is the invoice's own (the events come last, and inside a JSON string a
    quote is escaped)."""
    base = msgspec.json.encode(base_url)[1:-1]
    return response.replace(b'"public_url":"/i/', b'"public_url":"' + base + b"/i/", 1)


class InvoicesReadModel(ReadModel):
    name = "invoices"
    aggregate_type = Invoice
    # rm_invoice_responses: GET /api/v1/invoices/{id}'s whole answer, encoded (issue 12).
    tables = {"rm_invoices": ("business_id", "id"), "rm_invoice_responses": ("business_id", "id")}
    order_column = "id"
    # Written as JSON by msgspec: Decimal becomes its exact string, UUID its text.
    json_columns = frozenset({"lines", "tax_breakdown", "seller", "buyer"})

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Invoice)
        row: Row = {
            "business_id": aggregate.business_id,
            "id": aggregate.id,
            "number": aggregate.number,
            "client_id": aggregate.client_id,
            "currency": aggregate.currency,
            "status": aggregate.status,
            "issue_date": date.fromisoformat(aggregate.issue_date),
            "due_date": date.fromisoformat(aggregate.due_date),
            "notes": aggregate.notes,
            "subtotal_cents": aggregate.subtotal_cents,
            "tax_cents": aggregate.tax_cents,
            "total_cents": aggregate.total_cents,
            "amount_paid_cents": aggregate.amount_paid_cents,
            "amount_credited_cents": aggregate.amount_credited_cents,
            "amount_due_cents": aggregate.amount_due_cents,
            "lines": aggregate.lines,
            "tax_breakdown": aggregate.tax_breakdown,
            "seller": aggregate.seller,
            "buyer": aggregate.buyer,
            "public_token": aggregate.public_token,
            "card_payment": card_payment_state(aggregate),
            "payment_intent_id": (
                None
                if aggregate.payment_request is None
                else aggregate.payment_request.payment_intent_id
            ),
            # Whether it was ever sent: its PDF is then the stored Factur-X one, its public
            # page shown (a cancelled invoice's status cannot tell).
            "was_sent": aggregate.was_sent,
            # E-invoicing terms (domain/invoice_terms.py) and BT-111.
            "operation_category": aggregate.terms.operation_category,
            "delivery_address": aggregate.terms.delivery_address,
            "tax_exchange_rate": aggregate.terms.tax_exchange_rate,
            "accounting_currency": aggregate.terms.accounting_currency,
            "tax_cents_accounting": aggregate.terms.tax_cents_accounting(
                aggregate.tax_cents, aggregate.currency
            ),
            "payment_reference": aggregate.terms.payment_reference,
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        return {
            "rm_invoices": [row],
            "rm_invoice_responses": [invoice_response_row(aggregate, row)],
        }


def card_payment_state(invoice: Invoice) -> str | None:
    """`pending` (a PaymentIntent is to be created) and `stale` (to be updated or closed): the
    payments worker's to-do list; else the request's status (`requested`, `failed`,
    `closed`), or None (never sent, or nothing due before a request was made)."""
    action = invoice.payment_request_action
    if action == "create":
        return "pending"
    if action is not None:
        return "stale"
    return None if invoice.payment_request is None else str(invoice.payment_request.status)


class DeliveriesReadModel(ReadModel):
    """Every delivery decided for an invoice, with its outcome (all from the invoice's events)."""

    name = "deliveries"
    aggregate_type = Invoice
    tables = {"rm_deliveries": ("business_id", "invoice_id", "id")}
    order_column = "invoice_id"

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Invoice)
        return {
            "rm_deliveries": [
                {
                    "business_id": aggregate.business_id,
                    "invoice_id": aggregate.id,
                    "id": UUID(delivery["id"]),
                    "channel": delivery["channel"],
                    "recipient": delivery["to"],
                    "kind": delivery["kind"],
                    "status": delivery["status"],
                    "error": delivery["error"],
                    "version": aggregate.version,
                }
                for delivery in aggregate.deliveries.values()
            ]
        }


# -- the invoice's timeline (issue 11: GET /invoices/{id} reads read models only) -----------------


class InvoiceEventsReadModel(ReadModel):
    """Every event of an invoice, as the events endpoint shows it (from `Invoice.history`)."""

    name = "invoice_events"
    aggregate_type = Invoice
    tables = {"rm_invoice_events": ("business_id", "invoice_id", "version")}
    order_column = "invoice_id"

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, Invoice)
        rows = []
        for shown, data_json in shown_events(aggregate):
            rows.append(
                {
                    "business_id": aggregate.business_id,
                    "invoice_id": aggregate.id,
                    "version": shown.version,
                    "id": shown.id,
                    "type": shown.type,
                    "occurred_at": shown.occurred_at,
                    # Text, not jsonb: the answer keeps the event's key order byte for byte.
                    "data": data_json.decode(),
                }
            )
        return {"rm_invoice_events": rows}


class UsersReadModel(ReadModel):
    """Who signs in to which business (looked up by email before the tenant is known)."""

    name = "users"
    aggregate_type = User
    tables = {"rm_users": ("user_id",)}
    order_column = "user_id"

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, User)
        row: Row = {
            "user_id": aggregate.id,
            "business_id": aggregate.business_id,
            "email": aggregate.email,
            "role": aggregate.role,
            "password_hash": aggregate.password_hash,
            "password_set_at": aggregate.password_set_at,
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        return {"rm_users": [row]}


class CreditNotesReadModel(ReadModel):
    name = "credit_notes"
    aggregate_type = CreditNote
    tables = {"rm_credit_notes": ("business_id", "id")}
    order_column = "id"
    json_columns = frozenset({"lines", "tax_breakdown", "seller", "buyer", "deliveries"})

    def rows(self, aggregate: Any) -> dict[str, list[Row]]:
        assert isinstance(aggregate, CreditNote)
        row: Row = {
            "business_id": aggregate.business_id,
            "id": aggregate.id,
            "number": aggregate.number,
            "invoice_id": aggregate.invoice_id,
            "invoice_number": aggregate.invoice_number,
            "invoice_issue_date": date.fromisoformat(aggregate.invoice_issue_date),
            "client_id": aggregate.client_id,
            "currency": aggregate.currency,
            "issue_date": date.fromisoformat(aggregate.issue_date),
            "reason": aggregate.reason,
            "lines": aggregate.lines,
            "tax_breakdown": aggregate.tax_breakdown,
            "subtotal_cents": aggregate.subtotal_cents,
            "tax_cents": aggregate.tax_cents,
            "total_cents": aggregate.total_cents,
            "refund_due_cents": aggregate.refund_due_cents,
            "refunded_cents": aggregate.refunded_cents,
            "seller": aggregate.seller,
            "buyer": aggregate.buyer,
            "public_token": aggregate.public_token,
            # Every delivery decided when it was sent, with its outcome: the delivery worker's
            # to-do list for credit notes (no table of their own: no runner of their own).
            "deliveries": list(aggregate.deliveries.values()),
            "version": aggregate.version,
            "created_at": aggregate.created_on,
            "updated_at": aggregate.modified_on,
        }
        return {"rm_credit_notes": [row]}


READ_MODELS: tuple[ReadModel, ...] = (
    BusinessReadModel(),
    ApiKeysReadModel(),
    ClientsReadModel(),
    InvoicesReadModel(),
    DeliveriesReadModel(),
    InvoiceEventsReadModel(),
    UsersReadModel(),
    CreditNotesReadModel(),
)


def read_model(name: str) -> ReadModel:
    for model in READ_MODELS:
        if model.name == name:
            return model
    raise KeyError(name)
