"""GET /api/v1/invoices/{id}/xml (API.md "E-invoices and legal checks"): an issued invoice's
e-invoice, UBL 2.1 following Peppol BIS Billing 3.0 (the default) or the CII of its Factur-X
PDF, with a strong ETag (the SHA-256 of the bytes). A draft has none: 409.

The XML is produced on request by adapters/einvoice/on_request.py (the same bytes each time
for an issued invoice)."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from fastfaktura.adapters.einvoice.on_request import XML_FORMATS, XmlFormat, invoice_xml
from fastfaktura.adapters.pdf.document import pdf_filename
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import problem_responses
from fastfaktura.api.services import parse_id, services
from fastfaktura.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from fastfaktura.readmodels.queries.invoices import find_invoice

# An issued invoice's XML never changes, but stays private to the business.
XML_HEADERS = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}
FORMAT_DESCRIPTION = (
    "`ubl` (default): UBL 2.1, Peppol BIS Billing 3.0 (EHF 3.0); `cii`: UN/CEFACT CII, "
    "EN 16931 (the XML inside the Factur-X PDF)"
)


def xml_format(value: str) -> XmlFormat:
    """`?format=`, or 422 naming `format`."""
    for known in XML_FORMATS:
        if value == known:
            return known
    raise InvalidInputError([FieldError("format", "must be one of: ubl, cii")])


def xml_response(content: bytes, number: str) -> Response[bytes]:
    """The XML with its strong ETag, inline as `{number}.xml`."""
    return Response(
        content,
        media_type="application/xml",
        headers={
            "ETag": f'"{hashlib.sha256(content).hexdigest()}"',
            "Content-Disposition": (
                f'inline; filename="{pdf_filename(number).removesuffix(".pdf")}.xml"'
            ),
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
            "byte for byte the XML embedded in the invoice's Factur-X PDF. Both are the "
            "invoice as issued, with a strong ETag (their SHA-256). A draft (or an invoice "
            "cancelled before it was ever sent) has no e-invoice: 409. Another format: 422."
        ),
        media_type="application/xml",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type="application/xml",
                description="The XML",
                generate_examples=False,
            ),
            **problem_responses(401, 404, 409, 422, 503),
        },
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
        target = parse_id(invoice_id, "invoice")
        stored = await find_invoice(svc.pool, tenant.business_id, target, svc.settings.base_url())
        if stored is None:
            raise NotFoundError("invoice")
        if not stored.was_sent:
            raise ConflictError("a draft has no e-invoice: it is issued when first sent")
        return xml_response(invoice_xml(stored.view, chosen), stored.view.number)
