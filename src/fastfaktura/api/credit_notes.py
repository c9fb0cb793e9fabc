"""Credit notes (API.md "Credit notes"): issue one against an invoice, list and read them,
their event timeline, the refunds recorded against them, and their documents (the Factur-X PDF
and its CII XML, stored once). Sending is in credit_note_sending.py, the public page in
public_credit_notes.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter, QueryParameter

from fastfaktura.adapters.einvoice.on_request import credit_note_ubl
from fastfaktura.adapters.pdf.credit_note_store import CreditNoteDocuments
from fastfaktura.adapters.pdf.credit_notes import (
    credit_note_as_issued,
    issued_credit_note_document,
)
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.body_fields import PageNumber, PerPageCount, Total
from fastfaktura.api.credit_note_issue import issue_with_documents
from fastfaktura.api.errors import answers, problem_responses
from fastfaktura.api.fields import CREDIT_NOTE_FIELDS, REFUND_FIELDS
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.input import Page, PerPage, check, check_each, json_object, parse_uuid
from fastfaktura.api.invoice_input import parse_lines
from fastfaktura.api.invoice_xml import FORMAT_DESCRIPTION, XML_ANSWER, xml_format, xml_response
from fastfaktura.api.openapi import json_body
from fastfaktura.api.schemas import CreditNoteCreateRequest, EventList, RefundRequest
from fastfaktura.api.services import Services, json_response, parse_id, services
from fastfaktura.application import Written
from fastfaktura.domain.credit_note import CreditNote
from fastfaktura.domain.errors import FieldError, InvalidInputError, NotFoundError
from fastfaktura.readmodels import timeline
from fastfaktura.readmodels.credit_note_view import CreditNoteResponse
from fastfaktura.readmodels.models import CreditNotesReadModel
from fastfaktura.readmodels.queries.credit_notes import (
    StoredCreditNote,
    credit_note_from_row,
    credit_note_page,
    find_credit_note,
    find_stored_credit_note,
)
from fastfaktura.readmodels.wire_types import described

_ROWS = CreditNotesReadModel()
# A credit note's documents never change, but stay private to the business.
DOCUMENT_HEADERS = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}


class CreditNotePage(msgspec.Struct, kw_only=True):
    """A page of credit notes, newest first."""

    data: Annotated[list[CreditNoteResponse], described("The credit notes of this page")]
    page: PageNumber
    per_page: PerPageCount
    total: Total


def parse_credit_note(body: bytes) -> dict[str, Any]:
    """`reason` (required, not blank) and, optionally, `lines`: every error at once."""
    data = json_object(body)
    command, errors = check_each(
        {k: v for k, v in data.items() if k != "lines"}, CREDIT_NOTE_FIELDS
    )
    if "lines" in data:
        lines, line_errors = parse_lines(data["lines"])
        errors += line_errors
        command["lines"] = lines
    if errors:
        raise InvalidInputError(errors)
    return command


class CreditNoteController(Controller):
    path = "/api/v1"
    security = API_KEY_SECURITY
    tags = ["Credit notes"]

    @post(
        "/invoices/{invoice_id:str}/credit_notes",
        operation_id="CreateCreditNote",
        summary="Credit an issued invoice, in part (lines) or in full (no lines)",
        description=(
            "The invoice must be sent, opened, overdue or paid (else 409), and not fully "
            "credited. The credit note's total may not exceed the invoice total minus earlier "
            "credit notes (422 on `lines`). Numbered in its own gapless series. Its PDF, CII "
            "and UBL are rendered and stored when it is issued, their SHA-256 recorded in its "
            "`issued` event, then served byte for byte (503 when the PDF renderer is busy: "
            "nothing recorded, retry)."
        ),
        status_code=201,
        operation_class=json_body(CreditNoteCreateRequest, "The reason and credited lines"),
        responses=answers(201, CreditNoteResponse, "Issued", 400, 401, 404, 409, 422, 503),
    )
    async def create_credit_note(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(invoice_id, "invoice")

        async def produce() -> Response[bytes]:
            command = parse_credit_note(await request.body())
            svc = services(request.app.state)
            business = tenant.business_id
            written = await issue_with_documents(
                svc,
                business,
                lambda: svc.app.credit_note_to_issue(
                    business, target, command["reason"], command.get("lines")
                ),
                lambda rendered: svc.app.issue_credit_note(
                    business, target, **command, rendered=rendered
                ),
            )
            body = from_aggregate(svc, written.value)
            return json_response(body, 201, {"Location": f"/api/v1/credit_notes/{body.id}"})

        return await idempotent(request, tenant, produce)

    @get(
        "/credit_notes",
        operation_id="ListCreditNotes",
        description=(
            "The business's credit notes, newest first, paged, optionally only those of one "
            "invoice (`invoice_id`)."
        ),
        summary="List credit notes, newest first",
        responses=problem_responses(401, 422),
    )
    async def list_credit_notes(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        page: Page = 1,
        per_page: PerPage = 50,
        invoice_id: Annotated[
            str | None, Parameter(description="Only the credit notes of this invoice")
        ] = None,
    ) -> CreditNotePage:
        invoice = None
        if invoice_id is not None:
            invoice = parse_uuid(invoice_id)
            if invoice is None:
                raise InvalidInputError([FieldError("invoice_id", "must be a UUID")])
        svc = services(request.app.state)
        notes, total = await svc.read(
            lambda db: credit_note_page(
                db,
                tenant.business_id,
                invoice_id=invoice,
                page=page,
                per_page=per_page,
                base_url=svc.settings.base_url(),
            )
        )
        return CreditNotePage(data=notes, page=page, per_page=per_page, total=total)

    @get(
        "/credit_notes/{credit_note_id:str}",
        operation_id="GetCreditNote",
        description=(
            "One credit note, with its credited lines, totals, refund due and the parties "
            "frozen from the invoice."
        ),
        summary="A credit note",
        responses=problem_responses(401, 404),
    )
    async def get_credit_note(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        credit_note_id: FromPath[str],
    ) -> CreditNoteResponse:
        svc = services(request.app.state)
        target = parse_id(credit_note_id, "credit note")
        found = await svc.read(
            lambda db: find_credit_note(db, tenant.business_id, target, svc.settings.base_url())
        )
        if found is None:
            raise NotFoundError("credit note")
        return found

    @get(
        "/credit_notes/{credit_note_id:str}/events",
        operation_id="ListCreditNoteEvents",
        description=(
            "Every event of the credit note (issued, refund_recorded), oldest first, read from "
            "the event store."
        ),
        summary="The credit note's events (issued, refund_recorded), read from the event store",
        responses=problem_responses(401, 404),
    )
    async def list_credit_note_events(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        credit_note_id: FromPath[str],
    ) -> EventList:
        svc = services(request.app.state)
        events = await timeline.credit_note_events(
            svc.pool, svc.events, tenant.business_id, parse_id(credit_note_id, "credit note")
        )
        if events is None:
            raise NotFoundError("credit note")
        return EventList(data=events)

    @get(
        "/credit_notes/{credit_note_id:str}/pdf",
        operation_id="GetCreditNotePdf",
        summary="The credit note as a Factur-X PDF (type 381) in the client's locale",
        description=(
            "Rendered when the credit note is issued (its SHA-256 recorded in its `issued` "
            "event) and served byte for byte afterwards, with a strong ETag (its SHA-256): a "
            "PDF/A-3b with its CII XML (EN 16931, type code 381, the credited invoice as "
            "BT-25/BT-26) embedded. (Credit notes issued before documents were recorded: "
            "rendered once, on the first request.)"
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
    async def get_credit_note_pdf(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        credit_note_id: FromPath[str],
    ) -> Response[bytes]:
        documents = await _documents(request, tenant, credit_note_id)
        return Response(
            documents.pdf,
            media_type="application/pdf",
            headers={
                "ETag": f'"{documents.pdf_sha256}"',
                "Content-Disposition": f'inline; filename="{documents.filename}"',
                **DOCUMENT_HEADERS,
            },
        )

    @get(
        "/credit_notes/{credit_note_id:str}/xml",
        operation_id="GetCreditNoteXml",
        summary="The credit note's e-invoice XML: UBL (Peppol BIS 3.0, EHF) or CII (Factur-X)",
        description=(
            "Produced when the credit note is issued (their SHA-256 recorded in its `issued` "
            "event) and served byte for byte. "
            "`format=ubl` (the default, as for invoices): UBL 2.1 `CreditNote` (type code 381) "
            "following Peppol BIS Billing 3.0 (Norway's EHF 3.0), referring to the invoice it "
            "corrects (BT-25/BT-26). `format=cii`: UN/CEFACT CII following EN 16931, byte for "
            "byte the XML embedded in the credit note's Factur-X PDF. Both with a strong ETag "
            "(their SHA-256). Another format: 422."
        ),
        media_type="application/xml",
        responses={200: XML_ANSWER, **problem_responses(401, 404, 422, 503)},
    )
    async def get_credit_note_xml(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        credit_note_id: FromPath[str],
        requested_format: Annotated[
            str, QueryParameter(name="format", description=FORMAT_DESCRIPTION)
        ] = "ubl",
    ) -> Response[bytes]:
        if xml_format(requested_format) == "ubl":
            stored = await _stored(request, tenant, credit_note_id)
            pool = services(request.app.state).pool
            issued = await issued_credit_note_document(
                pool, tenant.business_id, stored.note.id, "ubl"
            )
            if issued is None:  # issued before its documents were recorded: made on request
                return xml_response(credit_note_ubl(stored.as_issued), stored.as_issued.number)
            return xml_response(issued.content, stored.note.number, issued.sha256)
        documents = await _documents(request, tenant, credit_note_id)
        number = documents.filename.removesuffix(".pdf")
        return xml_response(documents.xml, number, documents.xml_sha256)

    @post(
        "/credit_notes/{credit_note_id:str}/refunds",
        operation_id="RecordRefund",
        summary="Record money given back against the credit note's refund due",
        description=(
            "Records money given back to the client (`refund_recorded`), lowering the credit "
            "note's `refund_due_cents`; more than the refund due answers 422. "
            "Records a refund made elsewhere (bank transfer, cash, ...), whatever its `method`: "
            "it never moves money. What a credit note owes back to a card payment made through "
            "Stripe is refunded at Stripe automatically by the payments worker, which records "
            "its own `refund_recorded` (method `card`, reference the Stripe refund id)."
        ),
        status_code=201,
        operation_class=json_body(RefundRequest, "The refund"),
        responses=answers(201, CreditNoteResponse, "Recorded", 400, 401, 404, 422),
    )
    async def record_refund(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        credit_note_id: FromPath[str],
    ) -> Response[bytes]:
        target = parse_id(credit_note_id, "credit note")
        return await _credit_note_command(
            request,
            tenant,
            lambda body: check(json_object(body), REFUND_FIELDS),
            lambda svc, refund: svc.app.record_refund(tenant.business_id, target, **refund),
        )


async def _credit_note_command(
    request: Request[Any, Any, Any],
    tenant: Tenant,
    parse: Callable[[bytes], dict[str, Any]],
    command: Callable[[Services, dict[str, Any]], Written[CreditNote]],
) -> Response[bytes]:
    """A command answered `201` with the credit note, under Idempotency-Key."""

    async def produce() -> Response[bytes]:
        parsed = parse(await request.body())
        svc = services(request.app.state)
        written = await svc.execute(lambda: command(svc, parsed))
        body = from_aggregate(svc, written.value)
        return json_response(body, 201, {"Location": f"/api/v1/credit_notes/{body.id}"})

    return await idempotent(request, tenant, produce)


async def _stored(
    request: Request[Any, Any, Any], tenant: Tenant, credit_note_id: str
) -> StoredCreditNote:
    """A credit note of the caller's business (404 otherwise)."""
    svc = services(request.app.state)
    target = parse_id(credit_note_id, "credit note")
    stored = await find_stored_credit_note(
        svc.pool, tenant.business_id, target, svc.settings.base_url()
    )
    if stored is None:
        raise NotFoundError("credit note")
    return stored


async def _documents(
    request: Request[Any, Any, Any], tenant: Tenant, credit_note_id: str
) -> CreditNoteDocuments:
    """The stored PDF and XML of a credit note of the caller's business (404 otherwise)."""
    svc = services(request.app.state)
    stored = await _stored(request, tenant, credit_note_id)
    return await credit_note_as_issued(
        svc.pdfs, svc.pool, tenant.business_id, stored.as_issued, stored.version
    )


def from_aggregate(svc: Services, note: CreditNote) -> CreditNoteResponse:
    """The answer to a write: the same row the read model now holds."""
    row = _ROWS.rows(note)["rm_credit_notes"][0]
    return credit_note_from_row(row, svc.settings.base_url())
