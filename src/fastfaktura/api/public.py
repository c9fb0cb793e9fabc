"""The public invoice page, `GET /i/{token}` (API.md "Public page"): no API key.

The token (192 random bits) is the page's only key; an invoice id never opens it. Each view
goes through the application's `open_invoice`, which records `opened` at most once per
invoice per UTC day (the first view of a sent invoice also sets its status) and never fails
because another view raced it; the page is rendered from the aggregate that command left, so
the status shown already includes this view. Unknown tokens and drafts are one and the same
404 page.

While money is due and the invoice's PaymentIntent (made by the payments worker) can still be
paid for exactly that amount, the page offers to pay by card with Stripe.js; its
Content-Security-Policy then lets in Stripe, and one inline script by its nonce. Stripe being
unreachable only hides the button.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from typing import Any, Final
from urllib.parse import urlsplit

import structlog
from litestar import Request, Response, get
from litestar.enums import MediaType
from litestar.params import FromPath

from fastfaktura.adapters.logo_store import branding
from fastfaktura.adapters.pdf.store import invoice_pdf
from fastfaktura.adapters.stripe_gateway import PaymentIntentInfo, PaymentProviderError
from fastfaktura.adapters.web.page import (
    ERROR_PAGE_HEADERS,
    CardPayment,
    render_invoice,
    render_not_found,
)
from fastfaktura.api.schemas import InvoiceResponse
from fastfaktura.api.services import Services, services
from fastfaktura.config import StripeSettings
from fastfaktura.domain.errors import NotFoundError
from fastfaktura.domain.invoice import Invoice, InvoiceStateError
from fastfaktura.readmodels.models import InvoicesReadModel
from fastfaktura.readmodels.queries.business import find_business
from fastfaktura.readmodels.queries.invoices import find_invoice_by_token

log = structlog.get_logger(__name__)
_ROWS = InvoicesReadModel()
# Tokens are 32 URL-safe characters; anything much longer is not worth a query.
MAX_TOKEN_LENGTH = 128
# Anything else (a NUL byte, which PostgreSQL text cannot hold, or other junk) names no invoice.
TOKEN_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "-_")
# Every view may be recorded and shows the live status (never cached); the token is a secret
# (no Referer); without a pay button the page loads nothing and runs no script. The same
# headers as every error page of the public pages.
HEADERS = dict(ERROR_PAGE_HEADERS)
# A PaymentIntent the client can still pay (not paid, processing nor cancelled).
OPEN_INTENT_STATUSES: Final = frozenset(
    {"requires_payment_method", "requires_confirmation", "requires_action"}
)
STRIPE_API_URL: Final = "https://api.stripe.com"
# How long a page view waits for Stripe before it shows no pay button.
STRIPE_PAGE_TIMEOUT_SECONDS: Final = 3.0
# Stripe.js opens its 3-D Secure challenges in frames from there.
STRIPE_HOOKS_ORIGIN: Final = "https://hooks.stripe.com"


def well_formed(token: str) -> bool:
    """Whether `token` could be a public token at all: only those are worth a query."""
    return 0 < len(token) <= MAX_TOKEN_LENGTH and TOKEN_CHARACTERS.issuperset(token)


def _html(
    body: str, status_code: int = 200, content_security_policy: str | None = None
) -> Response[str]:
    headers = dict(HEADERS)
    if content_security_policy is not None:
        headers["Content-Security-Policy"] = content_security_policy
    return Response(body, status_code=status_code, media_type=MediaType.HTML, headers=headers)


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL: what a CSP source names."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def card_payment_policy(card: CardPayment, stripe: StripeSettings, *, logo: bool = False) -> str:
    """The page's policy, widened just enough for Stripe.js and the one inline script (and
    the business's logo, an inline data: image, when it has one)."""
    js = origin(card.js_url)
    api = origin(stripe.api_base or STRIPE_API_URL)
    images = "https://*.stripe.com data:" if logo else "https://*.stripe.com"
    return (
        f"default-src 'none'; script-src 'nonce-{card.script_nonce}' {js}; "
        f"frame-src {js} {STRIPE_HOOKS_ORIGIN}; connect-src {api}; img-src {images}; "
        "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def logo_policy() -> str:
    """The page's policy when it shows the business's logo: images from data: URIs (the logo
    is inline), still nothing fetched from anywhere."""
    return f"{HEADERS['Content-Security-Policy']}; img-src data:"


def pays_exactly_what_is_due(intent: PaymentIntentInfo, invoice: Invoice) -> bool:
    """The intent can still be paid, and for the amount due now: one made before a partial
    bank payment would take too much, and must not be offered."""
    return (
        intent.status in OPEN_INTENT_STATUSES
        and intent.amount_cents == invoice.amount_due_cents
        and intent.currency == invoice.currency
        and intent.metadata.get("invoice_id") == str(invoice.id)
    )


async def card_payment_for(svc: Services, invoice: Invoice) -> CardPayment | None:
    """The card payment the page offers, or None (nothing to pay by card, or Stripe is out
    of reach: the page shows without the button rather than fail)."""
    intent_id = invoice.payable_intent_id
    if intent_id is None:
        return None
    business = await find_business(svc.pool, invoice.business_id)
    if business is None:
        return None
    mode = str(business.mode)
    publishable_key = svc.settings.stripe.publishable_key(mode)
    if publishable_key is None or svc.settings.stripe.secret_key(mode) is None:
        return None
    try:
        # The client is waiting for the page: a slow Stripe only costs the button.
        intent = await asyncio.wait_for(
            svc.stripe.retrieve_payment_intent(mode, intent_id), STRIPE_PAGE_TIMEOUT_SECONDS
        )
    except (PaymentProviderError, TimeoutError) as exc:
        log.warning(
            "payment intent unavailable: no pay button",
            invoice_id=str(invoice.id),
            payment_intent=intent_id,
            error=str(exc) or type(exc).__name__,
        )
        return None
    if intent.client_secret is None or not pays_exactly_what_is_due(intent, invoice):
        log.info(
            "payment intent not payable: no pay button",
            invoice_id=str(invoice.id),
            payment_intent=intent_id,
            intent_status=intent.status,
        )
        return None
    return CardPayment(
        publishable_key=publishable_key,
        client_secret=intent.client_secret,
        js_url=svc.settings.stripe.js_url,
        script_nonce=secrets.token_urlsafe(16),
    )


def _not_found(request: Request[Any, Any, Any]) -> Response[str]:
    return _html(render_not_found(request.headers.get("accept-language")), 404)


@get("/i/{token:str}", include_in_schema=False)
async def public_invoice_page(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[str]:
    """The invoice, in its client's locale; records `opened` (once a day at most)."""
    if not well_formed(token):
        return _not_found(request)
    svc = services(request.app.state)
    stored = await find_invoice_by_token(svc.pool, token, svc.settings.base_url())
    if stored is None:
        return _not_found(request)
    business_id, invoice_id = stored.business_id, stored.view.id
    try:
        written = await svc.execute(lambda: svc.app.open_invoice(business_id, invoice_id))
    except (InvoiceStateError, NotFoundError):
        # A draft has no public page yet: to the reader it is as if the link did not exist.
        return _not_found(request)
    # The row the read model now holds, computed from the aggregate this view left.
    invoice = InvoiceResponse.from_row(
        _ROWS.rows(written.value)["rm_invoices"][0], svc.settings.base_url()
    )
    card = await card_payment_for(svc, written.value)
    marks = await branding(svc.pool, business_id)
    has_logo = marks.logo is not None
    log.info(
        "public page viewed",
        invoice_id=str(invoice_id),
        status=invoice.status,
        pay_button=card is not None,
    )
    if card is None:
        policy = logo_policy() if has_logo else None
        return _html(render_invoice(invoice, branding=marks), content_security_policy=policy)
    policy = card_payment_policy(card, svc.settings.stripe, logo=has_logo)
    return _html(
        render_invoice(invoice, card_payment=card, branding=marks),
        content_security_policy=policy,
    )


@get("/i/{token:str}/pdf", include_in_schema=False)
async def public_invoice_pdf(
    request: Request[Any, Any, Any], token: FromPath[str]
) -> Response[Any]:
    """The invoice's PDF (the same bytes as `GET /api/v1/invoices/{id}/pdf`), by token.

    Like the page, only for an invoice that was sent: a draft, or a draft cancelled unsent,
    is the not-found page. Downloading the PDF records nothing (the page view did).
    """
    if not well_formed(token):
        return _not_found(request)
    svc = services(request.app.state)
    stored = await find_invoice_by_token(svc.pool, token, svc.settings.base_url())
    if stored is None or not stored.was_sent:
        return _not_found(request)
    pdf = await invoice_pdf(
        svc.pdfs, svc.pool, stored.business_id, stored.view, stored.version, issued=True
    )
    # The page's headers but its Content-Security-Policy (a browser's PDF viewer may need more).
    headers = {name: value for name, value in HEADERS.items() if name != "Content-Security-Policy"}
    headers.update(
        {
            "Cache-Control": "private, no-cache",
            "Content-Disposition": f'inline; filename="{pdf.filename}"',
        }
    )
    return Response(pdf.content, media_type="application/pdf", headers=headers)
