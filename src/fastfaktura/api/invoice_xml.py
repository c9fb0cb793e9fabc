"""GET /api/v1/invoices/{id}/xml (API.md "E-invoices and legal checks"): an issued invoice's
e-invoice, UBL 2.1 following Peppol BIS Billing 3.0 (the default) or the CII of its Factur-X
PDF, as issued (issue 18, adapters/pdf/issued.py): byte for byte, with a strong ETag."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from fastfaktura.adapters.einvoice.on_request import XML_FORMATS, XmlFormat
from fastfaktura.adapters.pdf.document import pdf_filename
from fastfaktura.adapters.pdf.issued import issued_document
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import problem_responses
from fastfaktura.api.invoices import _stored_invoice
from fastfaktura.api.services import parse_id, services
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.domain.invoice import InvoiceStateError

FORMAT_DESCRIPTION = (
    "`ubl` (default): UBL 2.1, Peppol BIS Billing 3.0 (EHF 3.0); `cii`: UN/CEFACT CII, "
    "EN 16931 (the XML inside the Factur-X PDF)"
)
XML_HEADERS = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
XML_ANSWER = ResponseSpec(
    data_container=bytes,
    media_type="application/xml",
    description="The XML",
    generate_examples=False,
)


def xml_format(value: str) -> XmlFormat:
    """`?format=`, or 422 naming `format`."""
    for known in XML_FORMATS:
        if value == known:
            return known
    raise InvalidInputError([FieldError("format", "must be one of: ubl, cii")])


def xml_response(content: bytes, number: str, sha256: str | None = None) -> Response[bytes]:
    """The XML with its strong ETag (its SHA-256), inline as `{number}.xml`."""
    digest = sha256 or hashlib.sha256(content).hexdigest()
    xml_name = pdf_filename(number).removesuffix(".pdf") + ".xml"
    return Response(
        content,
        media_type="application/xml",
        headers={
            "ETag": f'"{digest}"',
            "Content-Disposition": f'inline; filename="{xml_name}"',
            **XML_HEADERS,
        },
    )


class InvoiceXmlController(Controller):
    path = "/api/v1/invoices"
    security = API_KEY_SECURITY
    tags = ["Invoices"]

    @get(
        "/{invoice_id:str}/xml",
        operation_id="GetInvoiceXml",
        summary="The invoice's e-invoice XML: UBL (Peppol BIS 3.0, EHF) or CII (Factur-X)",
        description=(
            "`format=ubl` (the default): UBL 2.1 `Invoice` following Peppol BIS Billing 3.0, "
            "which is also Norway's EHF 3.0. `format=cii`: UN/CEFACT CII following EN 16931, "
            "byte for byte the XML embedded in the invoice's Factur-X PDF. Both are produced "
            "when the invoice is issued (its first send) and served identical afterwards, with "
            "a strong ETag (their SHA-256, recorded in the `sent` event). A draft (or an "
            "invoice cancelled before it was ever sent) has no e-invoice: 409. Another "
            "format: 422."
        ),
        media_type="application/xml",
        responses={200: XML_ANSWER, **problem_responses(401, 404, 409, 422, 503)},
    )
    async def get_invoice_xml(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
        requested_format: Annotated[
            str, QueryParameter(name="format", description=FORMAT_DESCRIPTION)
        ] = "ubl",
    ) -> Response[bytes]:
        chosen = xml_format(requested_format)
        svc = services(request.app.state)
        stored = await _stored_invoice(svc, tenant, parse_id(invoice_id, "invoice"))
        if not stored.was_sent:
            raise InvoiceStateError("a draft has no e-invoice XML: send it first")
        document = await issued_document(
            svc.pdfs, svc.pool, tenant.business_id, stored.view, stored.version, chosen
        )
        return xml_response(document.content, stored.view.number, document.sha256)
