"""The public invoice page, pure: an invoice in, its view data and HTML out (no I/O).

Money, numbers, percentages, dates and country names are formatted by Babel for the client's
locale (the invoice's frozen `buyer.locale`). Templates are Jinja2 with autoescaping always on:
descriptions, notes and names are user text and can never inject markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any, Final

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import Environment, PackageLoader, StrictUndefined
from litestar import Response
from litestar.enums import MediaType

from fastfaktura.adapters.web.branding import NO_BRANDING, SANDBOX_LABELS, Branding
from fastfaktura.adapters.web.e_invoicing_labels import reference_label
from fastfaktura.adapters.web.labels import (
    DEFAULT_LOCALE,
    ERROR_PAGE_LABELS,
    LABELS,
    LOCALES,
    STATUS_LABELS,
)
from fastfaktura.adapters.web.legal import french_franchise, legal_mentions, mentions_for
from fastfaktura.readmodels.invoice_view import Buyer, InvoiceResponse, Seller

# Every currency the API accepts (EUR, USD, GBP, NOK, SEK, DKK) counts in hundredths.
MINOR_UNIT_DIGITS: Final = 2
NOTICES: Final = {
    "paid": "notice_paid",
    "cancelled": "notice_cancelled",
    "overdue": "notice_overdue",
}


@dataclass(frozen=True)
class CardPayment:
    """What the page needs to take a card payment with Stripe.js: the business mode's
    publishable key, the PaymentIntent's client secret, where Stripe.js is served from, and
    this response's CSP nonce (the page's only inline script carries it)."""

    publishable_key: str
    client_secret: str
    js_url: str
    script_nonce: str


@dataclass(frozen=True)
class PartyView:
    name: str
    legal_name: str | None
    address: str | None
    country: str | None
    email: str | None
    phone: str | None
    vat_number: str | None
    company_id: str | None


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: str
    unit_price: str
    vat_rate: str
    net: str


@dataclass(frozen=True)
class TaxView:
    rate: str
    base: str
    tax: str


@dataclass(frozen=True)
class InvoiceView:
    """Everything the template shows, already formatted for `locale`."""

    locale: str
    number: str
    status: str
    status_label: str
    notice: str | None
    issue_date: str
    due_date: str
    seller: PartyView
    buyer: PartyView
    lines: list[LineView]
    breakdown: list[TaxView]
    subtotal: str
    tax: str
    total: str
    amount_paid: str
    amount_due: str
    # A cancelled invoice asks for nothing: its amount due is not shown as owed.
    show_amount_due: bool
    notes: str | None
    iban: str | None
    bic: str | None
    # What the seller's country requires, as the PDF prints it (adapters/web/legal.py).
    legal_mentions: tuple[str, ...] = ()
    # BT-83, under its local name (a KID in Norway, an OCR number in Sweden).
    payment_reference: str | None = None
    payment_reference_label: str = ""


def client_locale(value: str | None) -> str:
    return value if value in LOCALES else DEFAULT_LOCALE


def money(cents: int, currency: str, locale: str) -> str:
    return format_currency(Decimal(cents).scaleb(-MINOR_UNIT_DIGITS), currency, locale=locale)


def quantity(value: int | float | str, locale: str) -> str:
    # Quantities keep every decimal they have (up to 4): never rounded for display.
    return format_decimal(Decimal(str(value)), locale=locale, decimal_quantization=False)


def percent(rate: int | float | str, locale: str) -> str:
    return format_percent(Decimal(str(rate)).scaleb(-2), locale=locale, decimal_quantization=False)


def long_date(value: date, locale: str) -> str:
    return format_date(value, format="long", locale=locale)


def country_name(code: str | None, locale: str) -> str | None:
    if not code:
        return None
    name = Locale.parse(locale).territories.get(code.upper())
    return str(name) if name else code


def grouped_iban(iban: str | None) -> str | None:
    """An IBAN as it is printed for people: groups of four characters."""
    if not iban:
        return None
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def party_view(party: Seller | Buyer, locale: str) -> PartyView:
    legal_name = getattr(party, "legal_name", None)
    return PartyView(
        name=party.name,
        legal_name=legal_name if legal_name and legal_name != party.name else None,
        address=party.address,
        country=country_name(party.country, locale),
        email=party.email,
        phone=party.phone,
        vat_number=party.vat_number,
        company_id=party.company_id,
    )


def invoice_view(invoice: InvoiceResponse) -> InvoiceView:
    """The invoice as the client reads it, in the client's locale."""
    locale = client_locale(invoice.buyer.locale)
    currency = invoice.currency
    notice = NOTICES.get(invoice.status)
    no_vat = all(item.rate == 0 for item in invoice.tax_breakdown)
    return InvoiceView(
        locale=locale,
        number=invoice.number,
        status=invoice.status,
        status_label=STATUS_LABELS[locale][invoice.status],
        notice=LABELS[locale][notice] if notice else None,
        issue_date=long_date(invoice.issue_date, locale),
        due_date=long_date(invoice.due_date, locale),
        seller=party_view(invoice.seller, locale),
        buyer=party_view(invoice.buyer, locale),
        lines=[
            LineView(
                description=line.description,
                quantity=quantity(line.quantity, locale),
                unit_price=money(line.unit_price_cents, currency, locale),
                vat_rate=percent(line.tax_rate, locale),
                net=money(line.net_cents, currency, locale),
            )
            for line in invoice.lines
        ],
        breakdown=[
            TaxView(
                rate=percent(item.rate, locale),
                base=money(item.base_cents, currency, locale),
                tax=money(item.tax_cents, currency, locale),
            )
            for item in invoice.tax_breakdown
        ],
        subtotal=money(invoice.subtotal_cents, currency, locale),
        tax=money(invoice.tax_cents, currency, locale),
        total=money(invoice.total_cents, currency, locale),
        amount_paid=money(invoice.amount_paid_cents, currency, locale),
        amount_due=money(invoice.amount_due_cents, currency, locale),
        show_amount_due=invoice.status != "cancelled",
        notes=invoice.notes,
        iban=grouped_iban(invoice.seller.iban),
        bic=invoice.seller.bic,
        legal_mentions=legal_mentions(invoice.seller, locale, all_rates_zero=no_vat)
        + mentions_for(invoice, locale, franchise=french_franchise(invoice.seller) and no_vat),
        payment_reference=invoice.payment_reference,
        payment_reference_label=reference_label(
            invoice.payment_reference, invoice.seller.country, locale
        ),
    )


@cache
def environment() -> Environment:
    """Built on first use (not at import). Autoescaping is on for every template, whatever
    its name; StrictUndefined turns a missing value into an error instead of a blank."""
    return Environment(
        loader=PackageLoader("fastfaktura.adapters.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_template(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def branding_context(locale: str, branding: Branding) -> dict[str, Any]:
    """What base.html shows above a document page: a sandbox business's test banner and the
    business's logo (an inline data: URI; the page's CSP allows images from data: only)."""
    return {
        "test_banner": SANDBOX_LABELS[locale]["test_banner"] if branding.sandbox else None,
        "logo": branding.logo.data_uri if branding.logo is not None else None,
    }


def render_invoice(
    invoice: InvoiceResponse,
    card_payment: CardPayment | None = None,
    branding: Branding = NO_BRANDING,
) -> str:
    """The page; with `card_payment`, a pay-by-card form (the caller decided it is due)."""
    view = invoice_view(invoice)
    return render_template(
        "invoice.html",
        lang=view.locale,
        page=view,
        t=LABELS[view.locale],
        # Relative to the page (`/i/{token}` -> `/i/{token}/pdf`): the page names no host.
        pdf_url=f"{invoice.public_url.rsplit('/', 1)[-1]}/pdf",
        card=card_payment,
        **branding_context(view.locale, branding),
    )


def preferred_locale(accept_language: str | None) -> str:
    """The first of the page's locales named by an Accept-Language header (no/nn read as nb)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().split("-")[0].lower()
        primary = "nb" if primary in ("no", "nn") else primary
        if primary in LOCALES and quality > 0:
            ranked.append((-quality, index, primary))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


def render_not_found(accept_language: str | None) -> str:
    """No such invoice (unknown token, or a draft): a page, in the reader's language if known."""
    locale = preferred_locale(accept_language)
    return render_template("not_found.html", lang=locale, t=LABELS[locale])


# What every error page of the public pages carries: never cached, no script, no referrer.
ERROR_PAGE_HEADERS: Final = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    ),
}
_ERROR_KINDS: Final = {429: "too_many_requests", 503: "unavailable"}


def render_error(status: int, accept_language: str | None) -> str:
    """The page for an error answer of the public pages (404: not found; 429, 503: try again
    shortly; anything else: a generic error), in the reader's language if known."""
    if status == 404:
        return render_not_found(accept_language)
    locale = preferred_locale(accept_language)
    title, text = ERROR_PAGE_LABELS[locale][_ERROR_KINDS.get(status, "error")]
    return render_template("error.html", lang=locale, t=LABELS[locale], title=title, text=text)


def public_error_page(
    status: int, retry_after: int | str | None = None, accept_language: str | None = None
) -> Response[str]:
    """The HTML answer of a public page (`/i/...`) that fails with `status`: the public pages
    answer HTML in every case, never JSON (API.md "Limits and availability"). `retry_after`
    (seconds) is sent as `Retry-After` (429, 503)."""
    headers = dict(ERROR_PAGE_HEADERS)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return Response(
        render_error(status, accept_language),
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )
