"""The public invoice page, `GET /i/{token}` (API.md "Public page"): no API key.

The token (192 random bits) is the page's only key; an invoice id never opens it. Each view
records `opened` through the application (the first view of a sent invoice also sets its
status), and the page is rendered from the aggregate that command left, so the status shown
already includes this view. Unknown tokens and drafts are one and the same 404 page.
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.enums import MediaType
from litestar.params import FromPath

from fastfaktura.api.schemas import InvoiceResponse
from fastfaktura.api.services import services
from fastfaktura.documents.store import invoice_pdf, was_issued
from fastfaktura.domain.errors import NotFoundError
from fastfaktura.domain.invoice import InvoiceStateError
from fastfaktura.readmodels.models import InvoicesReadModel
from fastfaktura.readmodels.sql import statement
from fastfaktura.web.page import render_invoice, render_not_found

log = structlog.get_logger(__name__)
_ROWS = InvoicesReadModel()
# Tokens are 32 URL-safe characters; anything much longer is not worth a query.
MAX_TOKEN_LENGTH = 128
HEADERS = {
    # Every view is recorded and shows the live status: never served from a cache.
    "Cache-Control": "no-store",
    # The token is a secret: it must not leak to another site through a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    # The page loads nothing and runs no script: only its own inline style is allowed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
}


def _html(body: str, status_code: int = 200) -> Response[str]:
    return Response(body, status_code=status_code, media_type=MediaType.HTML, headers=dict(HEADERS))


def _not_found(request: Request[Any, Any, Any]) -> Response[str]:
    return _html(render_not_found(request.headers.get("accept-language")), 404)


@get("/i/{token:str}", include_in_schema=False)
async def public_invoice_page(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[str]:
    """The invoice, in its client's locale; records `opened`."""
    if not 0 < len(token) <= MAX_TOKEN_LENGTH:
        return _not_found(request)
    svc = services(request.app.state)
    row = await svc.pool.fetchrow(
        statement("invoices", "queries.sql", "get_invoice_by_token"), token
    )
    if row is None:
        return _not_found(request)
    business_id, invoice_id = row["business_id"], row["id"]
    try:
        written = await svc.execute(lambda: svc.app.open_invoice(business_id, invoice_id))
    except (InvoiceStateError, NotFoundError):
        # A draft has no public page yet: to the reader it is as if the link did not exist.
        return _not_found(request)
    # The row the read model now holds, computed from the aggregate this view left.
    invoice = InvoiceResponse.from_row(
        _ROWS.rows(written.value)["rm_invoices"][0], svc.settings.base_url()
    )
    log.info("public page viewed", invoice_id=str(invoice_id), status=invoice.status)
    return _html(render_invoice(invoice))


@get("/i/{token:str}/pdf", include_in_schema=False)
async def public_invoice_pdf(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[Any]:
    """The invoice's PDF (the same bytes as `GET /api/v1/invoices/{id}/pdf`), by token.

    Like the page, only for an invoice that was sent: a draft, or a draft cancelled unsent,
    is the not-found page. Downloading the PDF records nothing (the page view did).
    """
    if not 0 < len(token) <= MAX_TOKEN_LENGTH:
        return _not_found(request)
    svc = services(request.app.state)
    row = await svc.pool.fetchrow(
        statement("invoices", "queries.sql", "get_invoice_by_token"), token
    )
    if row is None:
        return _not_found(request)
    business_id, invoice_id = row["business_id"], row["id"]
    if not await was_issued(svc.app, business_id, invoice_id, row["status"]):
        return _not_found(request)
    invoice = InvoiceResponse.from_row(dict(row), svc.settings.base_url())
    pdf = await invoice_pdf(svc.pool, business_id, invoice, int(row["version"]), issued=True)
    # The page's headers but its Content-Security-Policy (a browser's PDF viewer may need more).
    headers = {name: value for name, value in HEADERS.items() if name != "Content-Security-Policy"}
    headers.update(
        {
            "Cache-Control": "private, no-cache",
            "Content-Disposition": f'inline; filename="{pdf.filename}"',
        }
    )
    return Response(pdf.content, media_type="application/pdf", headers=headers)
