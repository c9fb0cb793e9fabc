"""/api/v1/invoices: create (numbered at once), edit a draft, list, read, the events timeline
and the PDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.openapi import ResponseSpec
from litestar.params import FromPath

from fastfaktura.adapters.deadlines import run_in_thread
from fastfaktura.adapters.pdf.store import invoice_pdf
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant, tenant_and_read
from fastfaktura.api.credit_note_issue import cancel_with_documents
from fastfaktura.api.domain_errors import field_errors
from fastfaktura.api.errors import answers, problem_responses
from fastfaktura.api.fields import CANCEL_FIELDS, PAYMENT_FIELDS
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.input import Page, PerPage, check, json_object, parse_uuid
from fastfaktura.api.invoice_input import parse_invoice
from fastfaktura.api.invoice_search import invoice_filters
from fastfaktura.api.openapi import json_body
from fastfaktura.api.schemas import (
    CancelRequest,
    EventList,
    EventResponse,
    InvoiceCreateRequest,
    InvoicePage,
    InvoiceResponse,
    InvoiceUpdateRequest,
    PaymentRequest,
)
from fastfaktura.api.services import Services, json_response, parse_id, services
from fastfaktura.application import Written
from fastfaktura.domain.errors import FieldError, InvalidInputError, NotFoundError
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels import timeline
from fastfaktura.readmodels.models import InvoicesReadModel, with_base_url
from fastfaktura.readmodels.queries.invoice_events import invoice_events
from fastfaktura.readmodels.queries.invoices import (
    INVOICE_RESPONSE,
    InvoiceFilters,
    StoredInvoice,
    find_invoice,
    invoice_page,
)

_ROWS = InvoicesReadModel()
T = TypeVar("T")


async def refuse_with_rules(
    svc: Services, tenant: Tenant, command: dict[str, Any], errors: list[FieldError]
) -> None:
    """A body with shape errors cannot be created, but the domain still judges the parts
    that are valid (client, due date, lines), so that every error is reported at once."""
    rules = await run_in_thread(
        lambda: svc.app.invoice_rules_broken(
            tenant.business_id,
            client_id=command.get("client_id"),
            due_date=command.get("due_date"),
            lines=command.get("lines"),
        ),
        svc.settings.database_timeout,
    )
    raise InvalidInputError(errors + field_errors(rules))


async def _stored_invoice(svc: Services, tenant: Tenant, invoice_id: Any) -> StoredInvoice:
    stored = await find_invoice(svc.pool, tenant.business_id, invoice_id, svc.settings.base_url())
    if stored is None:
        raise NotFoundError("invoice")
    return stored


async def _events(svc: Services, tenant: Tenant, invoice_id: Any) -> list[EventResponse]:
    """The timeline, read from the event store (`GET .../events`, as API.md says). Whether
    the stream is an invoice of the caller's business is decided by its first event's topic
    and business."""
    events = await timeline.invoice_events(svc.pool, svc.events, tenant.business_id, invoice_id)
    if events is None:
        raise NotFoundError("invoice")
    return events


class InvoiceController(Controller):
    path = "/api/v1/invoices"
    security = API_KEY_SECURITY
    tags = ["Invoices"]

    @post(
        operation_id="CreateInvoice",
        description=(
            "Creates a draft invoice for a live client, numbered at once "
            "({invoice_prefix}{YYYY}-{NNNNN}, gapless per business and year). Totals are "
            "computed exactly from the lines; the business's and the client's details are "
            "frozen into `seller` and `buyer`. Answers 201 with a `Location` header."
        ),
        summary="Create an invoice (with lines); numbered at once, gapless per business and year",
        status_code=201,
        operation_class=json_body(InvoiceCreateRequest, "The invoice and its lines"),
        responses=answers(201, InvoiceResponse, "Created", 400, 401, 409, 422),
    )
    async def create_invoice(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[bytes]:
        async def produce() -> Response[bytes]:
            svc = services(request.app.state)
            command, errors = parse_invoice(await request.body())
            if errors:
                await refuse_with_rules(svc, tenant, command, errors)
            # The domain decides the rest (RulesBroken: 422 naming each field).
            written = await svc.execute(
                lambda: svc.app.create_invoice(tenant.business_id, **command)
            )
            body = _from_aggregate(svc, written.value)
            return json_response(body, 201, {"Location": f"/api/v1/invoices/{body.id}"})

        return await idempotent(request, tenant, produce)

    @get(
        operation_id="ListInvoices",
        description=(
            "The business's invoices, newest first, paged, narrowed by the filters (status, "
            "client, number, text, issue and due dates); a malformed filter answers 422."
        ),
        summary='List invoices, newest first, filtered (API.md "Filters")',
        dependencies={"filters": Provide(invoice_filters)},
        responses=problem_responses(401, 422),
    )
    async def list_invoices(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        filters: NamedDependency[InvoiceFilters],
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> InvoicePage:
        svc = services(request.app.state)
        invoices, total = await svc.read(
            lambda db: invoice_page(
                db,
                tenant.business_id,
                filters,
                page=page,
                per_page=per_page,
                base_url=svc.settings.base_url(),
            )
        )
        return InvoicePage(data=invoices, page=page, per_page=per_page, total=total)

    @get(
        "/{invoice_id:str}",
        operation_id="GetInvoice",
        description="One invoice with its lines, totals, payments, parties and events.",
        summary="An invoice with its lines and events",
        responses=answers(200, InvoiceResponse, "The invoice", 401, 404),
    )
    async def get_invoice(
        self, request: Request[Any, Any, Any], invoice_id: FromPath[str]
    ) -> Response[bytes]:
        svc = services(request.app.state)
        target = parse_uuid(invoice_id)  # not a UUID: 404, once the key is checked
        # One row holds the whole answer, encoded by the projection (issue 12); its key says
        # whether this is an invoice of the caller's business (404). Read with the key: one
        # round trip (api/auth.py).
        tenant, stored = await tenant_and_read(request, INVOICE_RESPONSE, target)
        if target is None:
            raise NotFoundError("invoice")
        if stored is not None:
            return Response(
                with_base_url(stored, svc.settings.base_url()), media_type="application/json"
            )
        # Recorded before migration 0027 and not touched since: composed from the read models
        # (the event store is not read).
        invoice = (await _stored_invoice(svc, tenant, target)).view
        invoice.events = await invoice_events(svc.pool, tenant.business_id, target)
        return json_response(invoice)

    @put(
        "/{invoice_id:str}",
        operation_id="UpdateInvoice",
        summary="Edit a draft (merge: omitted fields kept, `lines` replaced whole); re-priced",
        description=(
            "Records `changed`. The number and issue date are kept; the seller's and buyer's "
            "details are frozen again as they are now. Anything but a draft: 409."
        ),
        operation_class=json_body(InvoiceUpdateRequest, "The fields to change"),
        responses=answers(200, InvoiceResponse, "Edited", 400, 401, 404, 409, 422),
    )
    async def update_invoice(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(invoice_id, "invoice")

        async def produce() -> Response[bytes]:
            svc = services(request.app.state)
            changes, errors = parse_invoice(await request.body(), edit=True)
            if errors:
                # Every error in one answer: the domain judges the parts that are valid.
                rules = await run_in_thread(
                    lambda: svc.app.edit_rules_broken(tenant.business_id, target, changes),
                    svc.settings.database_timeout,
                )
                raise InvalidInputError(errors + field_errors(rules))
            written = await svc.execute(
                lambda: svc.app.edit_invoice(tenant.business_id, target, changes)
            )
            return json_response(_from_aggregate(svc, written.value))

        return await idempotent(request, tenant, produce)

    @get(
        "/{invoice_id:str}/events",
        operation_id="ListInvoiceEvents",
        description="Every event of the invoice, oldest first, read from the event store itself.",
        summary="The invoice's event timeline, read from the event store",
        responses=problem_responses(401, 404),
    )
    async def list_events(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> EventList:
        svc = services(request.app.state)
        return EventList(data=await _events(svc, tenant, parse_id(invoice_id, "invoice")))

    @get(
        "/{invoice_id:str}/pdf",
        operation_id="GetInvoicePdf",
        summary="The invoice as a PDF in the client's locale (Factur-X once sent; drafts marked)",
        description=(
            "A sent invoice's PDF is rendered once, when it is issued (its first send), and "
            "served byte for byte afterwards with a strong ETag (its SHA-256, recorded in its "
            "`sent` event): a PDF/A-3b with its Factur-X XML (CII, EN 16931 profile) "
            "embedded. A draft is rendered on each request, marked DRAFT on every page, "
            "without XML, and has no ETag."
        ),
        media_type="application/pdf",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type="application/pdf",
                description="The PDF",
                generate_examples=False,
            ),
            **problem_responses(401, 404, 503),
        },
    )
    async def get_invoice_pdf(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        svc = services(request.app.state)
        stored = await _stored_invoice(svc, tenant, parse_id(invoice_id, "invoice"))
        pdf = await invoice_pdf(
            svc.pdfs,
            svc.pool,
            tenant.business_id,
            stored.view,
            stored.version,
            issued=stored.was_sent,  # the read model says whether it was ever sent
        )
        return Response(
            pdf.content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'inline; filename="{pdf.filename}"',
                # A draft changes; a sent invoice's PDF does not, but stays private.
                "Cache-Control": "private, no-cache",
                "X-Content-Type-Options": "nosniff",
                **({"ETag": f'"{pdf.sha256}"'} if pdf.sha256 else {}),
            },
        )

    @post(
        "/{invoice_id:str}/cancel",
        operation_id="CancelInvoice",
        description=(
            "Records `cancelled`; the invoice keeps its number. A sent invoice is credited in "
            "full in the same transaction (a credit note is issued). An invoice with payments, "
            "or already paid or cancelled, answers 409. The credit note's documents are "
            "rendered and stored first (503 when the PDF renderer is busy: nothing recorded)."
        ),
        summary="Cancel an invoice (it keeps its number; nothing is deleted)",
        status_code=200,
        operation_class=json_body(CancelRequest, "Optional reason", required=False),
        responses=answers(200, InvoiceResponse, "Cancelled", 400, 401, 404, 409, 422, 503),
    )
    async def cancel_invoice(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(invoice_id, "invoice")

        def reason(body: bytes) -> str | None:
            return check(json_object(body), CANCEL_FIELDS).get("reason") if body.strip() else None

        async def produce() -> Response[bytes]:
            why = reason(await request.body())
            svc = services(request.app.state)
            written = await cancel_with_documents(svc, tenant.business_id, target, why)
            return json_response(_from_aggregate(svc, written.value))

        return await idempotent(request, tenant, produce)

    @post(
        "/{invoice_id:str}/payments",
        operation_id="RecordPayment",
        description=(
            "Records `payment_recorded` (partial payments allowed), then `paid` once nothing is "
            "due. Only a sent, opened or overdue invoice takes a payment (else 409); more than "
            "the amount due answers 422."
        ),
        summary="Record a payment (partial allowed); `paid` once nothing is due",
        status_code=201,
        operation_class=json_body(PaymentRequest, "The payment"),
        responses=answers(201, InvoiceResponse, "Recorded", 400, 401, 404, 409, 422),
    )
    async def record_payment(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(invoice_id, "invoice")
        return await _invoice_command(
            request,
            tenant,
            lambda body: check(json_object(body), PAYMENT_FIELDS),
            lambda svc, payment: svc.app.record_payment(tenant.business_id, target, **payment),
            status_code=201,
        )


async def _invoice_command(
    request: Request[Any, Any, Any],
    tenant: Tenant,
    parse: Callable[[bytes], T],
    command: Callable[[Services, T], Written[Invoice]],
    status_code: int = 200,
) -> Response[bytes]:
    """A command on one invoice, answered with the invoice, under Idempotency-Key."""

    async def produce() -> Response[bytes]:
        parsed = parse(await request.body())
        svc = services(request.app.state)
        written = await svc.execute(lambda: command(svc, parsed))
        return json_response(_from_aggregate(svc, written.value), status_code)

    return await idempotent(request, tenant, produce)


def _from_aggregate(svc: Services, invoice: Any) -> InvoiceResponse:
    """The answer to a write: the same row the read model now holds."""
    return InvoiceResponse.from_row(_ROWS.rows(invoice)["rm_invoices"][0], svc.settings.base_url())
