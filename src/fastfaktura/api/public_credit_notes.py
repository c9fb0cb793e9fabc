"""The public credit note page, `GET /c/{token}` (the credit note's `public_url`), and its PDF at
`/c/{token}/pdf`: no API key, like the invoice's page (public.py), with the same headers, rate
limit (ratelimit.PUBLIC_PATHS) and HTML error pages (errors.PUBLIC_PAGES_PREFIXES).

The token (192 random bits) is the page's only key. A credit note asks for no payment, so the
page has no pay button and runs no script; a view records nothing (a credit note has no
`opened`).
"""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response, get
from litestar.params import FromPath

from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.pdf.credit_notes import credit_note_as_issued
from fastfaktura.adapters.web.credit_note_page import render_credit_note
from fastfaktura.api.public import HEADERS, _html, _not_found, logo_policy, well_formed
from fastfaktura.api.services import services
from fastfaktura.readmodels.queries.credit_notes import find_credit_note_by_token

log = structlog.get_logger(__name__)


@get("/c/{token:str}", include_in_schema=False)
async def public_credit_note_page(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[str]:
    """The credit note as it stands (the refund still due), in its client's locale."""
    if not well_formed(token):
        return _not_found(request)
    svc = services(request.app.state)
    stored = await find_credit_note_by_token(svc.pool, token, svc.settings.base_url())
    if stored is None:
        return _not_found(request)
    log.info("public credit note page viewed", credit_note_id=str(stored.note.id))
    marks = await branding(svc.pool, stored.business_id)
    policy = logo_policy() if marks.logo is not None else None
    return _html(render_credit_note(stored.note, branding=marks), content_security_policy=policy)


@get("/c/{token:str}/pdf", include_in_schema=False)
async def public_credit_note_pdf(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[Any]:
    """The credit note's PDF, the same bytes as `GET /api/v1/credit_notes/{id}/pdf`."""
    if not well_formed(token):
        return _not_found(request)
    svc = services(request.app.state)
    stored = await find_credit_note_by_token(svc.pool, token, svc.settings.base_url())
    if stored is None:
        return _not_found(request)
    documents = await credit_note_as_issued(
        svc.pdfs, svc.pool, stored.business_id, stored.as_issued, stored.version
    )
    # The page's headers but its Content-Security-Policy (a browser's PDF viewer may need more).
    headers = {name: value for name, value in HEADERS.items() if name != "Content-Security-Policy"}
    headers.update(
        {
            "Cache-Control": "private, no-cache",
            "Content-Disposition": f'inline; filename="{documents.filename}"',
        }
    )
    return Response(documents.pdf, media_type="application/pdf", headers=headers)
