"""The invoice's events mapped once for the stored answer and the `invoice_events` rows
(readmodels/event_views.py): the same bytes as mapping and encoding them apart, and mapped
again as soon as the aggregate moves on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import msgspec

from fastfaktura.domain.invoice import Invoice, InvoiceLine
from fastfaktura.readmodels.event_views import shown_events
from fastfaktura.readmodels.invoice_view import InvoiceResponse
from fastfaktura.readmodels.models import InvoiceEventsReadModel, InvoicesReadModel
from fastfaktura.readmodels.timeline import event_response
from tests.unit.lifecycle_support import DUE, ISSUED

PARTY = {"email": "a@example.com", "phone": None, "address": "1 rue", "country": "FR"}
PARTY |= {"vat_number": None, "company_id": None}


def draft() -> Invoice:
    client_id = uuid4()
    invoice = Invoice.draft(
        business_id=uuid4(),
        client_id=client_id,
        number="F2026-00001",
        currency="EUR",
        issue_date=ISSUED,
        due_date=DUE,
        notes=None,
        lines=[InvoiceLine("Work", Decimal("1.5"), 10000, Decimal(20))],
        public_token="token",
        seller={**PARTY, "name": "Seller", "legal_name": "Seller SAS", "iban": None, "bic": None},
        buyer={**PARTY, "name": "Buyer", "locale": "fr", "id": str(client_id)},
    )
    invoice.collect_events()
    return invoice


def _composed_apart(invoice: object, row: dict[str, object]) -> tuple[bytes, list[str]]:
    """The answer and the events' data as they were built before: each event mapped and
    encoded on its own, for each read model."""
    history = invoice.history  # type: ignore[attr-defined]
    view = InvoiceResponse.from_row(row, "")
    view.events = [event_response(invoice.id, type(e).TOPIC, e) for e in history]  # type: ignore[attr-defined]
    data = [
        msgspec.json.encode(event_response(invoice.id, type(e).TOPIC, e).data).decode()  # type: ignore[attr-defined]
        for e in history
    ]
    return msgspec.json.encode(view), data


def test_stored_answer_and_event_rows_are_byte_for_byte_those_mapped_apart() -> None:
    invoice = draft()
    invoice.send({"link": None})
    for moved_on in (False, True):
        if moved_on:
            # The same object one event further: mapped again, not the last mapping reused.
            invoice.mark_overdue(DUE + timedelta(days=1))
        rows = InvoicesReadModel().rows(invoice)
        mapped = shown_events(invoice)
        events = InvoiceEventsReadModel().rows(invoice)["rm_invoice_events"]
        assert shown_events(invoice) is mapped  # mapped once for both read models
        assert len(mapped) == invoice.version
        answer, data = _composed_apart(invoice, rows["rm_invoices"][0])
        assert rows["rm_invoice_responses"][0]["response"] == answer
        assert [row["data"] for row in events] == data
        assert [row["version"] for row in events] == list(range(1, invoice.version + 1))
    assert msgspec.json.decode(answer)["events"][-1]["type"] == "overdue"


def test_event_ids_are_the_uuid5_of_the_aggregate_and_version() -> None:
    from uuid import NAMESPACE_URL, UUID, uuid5

    from fastfaktura.readmodels.timeline import event_id

    namespace = uuid5(NAMESPACE_URL, "https://fastfaktura.io/ns/event")
    for aggregate_id in (uuid4(), UUID(int=0), UUID(int=(1 << 128) - 1)):
        for version in (1, 2, 10, 123456):
            expected = uuid5(namespace, f"{aggregate_id}/{version}")
            got = event_id(aggregate_id, version)
            assert (got, got.version, got.variant) == (expected, 5, expected.variant)
