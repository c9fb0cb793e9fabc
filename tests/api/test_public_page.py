"""The public invoice page `GET /i/{token}` (API.md "Public page"), through the whole app.

No API key is ever sent to the page. Each test has its own business. Views are checked in the
event store (`GET /invoices/{id}/events`, with the owner's key) and through the invoice's
status. Amounts are asserted exactly as Babel formats them: U+00A0 is a no-break space,
U+202F a narrow no-break space (French digit groups).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.web.labels import LABELS, LOCALES, STATUS_LABELS
from fastfaktura.adapters.web.page import preferred_locale
from fastfaktura.api.services import services
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.helpers import settle
from tests.invoicing_support import (
    INVOICES,
    concurrently,
    get_json,
    invoice_event_count,
    invoice_for,
)

NBSP = "\u00a0"
NNBSP = "\u202f"
DUE = date(2099, 3, 5)
# 2.5 x 40.00 at 20 % (net 100.00, VAT 20.00) and 1 x 1,000.00 at 5.5 % (VAT 55.00).
LINES: list[dict[str, Any]] = [
    {"description": "Conseil", "quantity": 2.5, "unit_price_cents": 4000, "tax_rate": 20},
    {"description": "Licence", "quantity": 1, "unit_price_cents": 100000, "tax_rate": 5.5},
]
PAID = 17500  # a partial payment: 175.00 paid, 1,000.00 still due


async def event_types(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> list[str]:
    body = await get_json(client, account, f"{INVOICES}/{invoice_id}/events")
    return [event["type"] for event in body["data"]]


async def status_of(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> str:
    status: str = (await get_json(client, account, f"{INVOICES}/{invoice_id}"))["status"]
    return status


def lifecycle(types: list[str]) -> list[str]:
    """The lifecycle events other than `opened` (delivery outcomes are recorded by the
    delivery worker, asynchronously, and are not part of the lifecycle)."""
    return [t for t in types if t not in ("opened", "delivered", "delivery_failed")]


def text(page: str) -> str:
    """The page's text as a reader sees it (entities decoded, markup kept)."""
    return html.unescape(page)


def shown_status(page: str) -> str:
    found = re.search(r'data-status="([a-z]+)"', page)
    assert found, page
    return found.group(1)


# Per locale and currency: total, subtotal, VAT, paid, due, a line's net, a quantity, the rates.
FORMATS = {
    ("fr", "EUR"): {
        "total": f"1{NNBSP}175,00{NBSP}€",
        "subtotal": f"1{NNBSP}100,00{NBSP}€",
        "tax": f"75,00{NBSP}€",
        "paid": f"175,00{NBSP}€",
        "due": f"1{NNBSP}000,00{NBSP}€",
        "unit": f"40,00{NBSP}€",
        "quantity": "2,5",
        "rates": [f"20{NBSP}%", f"5,5{NBSP}%"],
        "due_date": "5 mars 2099",
    },
    ("en", "EUR"): {
        "total": "€1,175.00",
        "subtotal": "€1,100.00",
        "tax": "€75.00",
        "paid": "€175.00",
        "due": "€1,000.00",
        "unit": "€40.00",
        "quantity": "2.5",
        "rates": ["20%", "5.5%"],
        "due_date": "March 5, 2099",
    },
    ("nb", "NOK"): {
        "total": f"1{NBSP}175,00{NBSP}kr",
        "subtotal": f"1{NBSP}100,00{NBSP}kr",
        "tax": f"75,00{NBSP}kr",
        "paid": f"175,00{NBSP}kr",
        "due": f"1{NBSP}000,00{NBSP}kr",
        "unit": f"40,00{NBSP}kr",
        "quantity": "2,5",
        "rates": [f"20{NBSP}%", f"5,5{NBSP}%"],
        "due_date": "5. mars 2099",
    },
    ("sv", "SEK"): {
        "total": f"1{NBSP}175,00{NBSP}kr",
        "subtotal": f"1{NBSP}100,00{NBSP}kr",
        "tax": f"75,00{NBSP}kr",
        "paid": f"175,00{NBSP}kr",
        "due": f"1{NBSP}000,00{NBSP}kr",
        "unit": f"40,00{NBSP}kr",
        "quantity": "2,5",
        "rates": [f"20{NBSP}%", f"5,5{NBSP}%"],
        "due_date": "5 mars 2099",
    },
}
# The words an accountant looks for first, as each locale's page must print them.
WORDS = {
    "fr": ["Facture", "Date d'émission", "Échéance", "Total HT", "TVA", "Total TTC", "Montant dû"],
    "en": ["Invoice", "Issue date", "Due date", "Subtotal", "VAT", "Total", "Amount due"],
    "nb": ["Faktura", "Fakturadato", "Forfallsdato", "MVA", "Totalt", "Å betale"],
    "sv": ["Faktura", "Fakturadatum", "Förfallodatum", "Moms", "Totalt", "Att betala"],
}


@pytest.mark.parametrize(("locale", "currency"), list(FORMATS))
async def test_the_page_shows_the_invoice_in_the_clients_locale_without_a_key(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
    locale: str,
    currency: str,
) -> None:
    account = new_account(f"Seller {locale}", legal_name=f"Seller {locale} Ltd", country="FR")
    invoice = await invoice_for(
        client,
        account,
        invoicing,
        database_url,
        locale=locale,
        client_name="Nordlys AS",
        client_fields={"country": "NO", "address": "Storgata 1\n0155 Oslo"},
        currency=currency,
        lines=LINES,
        due_date=DUE.isoformat(),
        notes="Merci / Thanks / Takk / Tack",
    )
    paid = await client.post(
        f"{INVOICES}/{invoice['id']}/payments",
        headers=account.headers,
        json={"amount_cents": PAID, "method": "bank_transfer"},
    )
    assert paid.status_code == 201, paid.text

    response = await client.get(invoice["public_url"])  # no X-Api-Key

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    page = text(response.text)
    assert f'<html lang="{locale}">' in page
    assert invoice["number"] in page
    assert "Conseil" in page
    assert "Licence" in page
    assert "Nordlys AS" in page
    assert f"Seller {locale}" in page
    assert f"Seller {locale} Ltd" in page
    assert "Storgata 1\n0155 Oslo" in page
    assert "Merci / Thanks / Takk / Tack" in page
    expected = FORMATS[(locale, currency)]
    for key in ("total", "subtotal", "tax", "paid", "due", "unit", "due_date"):
        assert f">{expected[key]}<" in page, (key, expected[key])
    assert f">{expected['quantity']}<" in page
    for rate in expected["rates"]:
        assert f">{rate}<" in page, rate
    for word in WORDS[locale]:
        assert word in page, word
    assert ">" + STATUS_LABELS[locale]["opened"] + "<" in page
    assert shown_status(page) == "opened"


async def test_first_view_of_a_sent_invoice_opens_it_and_a_later_view_that_day_adds_nothing(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    assert await status_of(client, account, invoice["id"]) == "sent"
    assert "opened" not in await event_types(client, account, invoice["id"])

    first = await client.get(invoice["public_url"])
    assert first.status_code == 200, first.text
    # The page already shows this very view (read-your-writes), and so does the API.
    assert shown_status(first.text) == "opened"
    assert await status_of(client, account, invoice["id"]) == "opened"
    assert (await event_types(client, account, invoice["id"])).count("opened") == 1

    second = await client.get(invoice["public_url"])
    assert second.status_code == 200, second.text
    assert shown_status(second.text) == "opened"
    assert await status_of(client, account, invoice["id"]) == "opened"
    # At most one `opened` per invoice per UTC day (API.md lifecycle table).
    assert (await event_types(client, account, invoice["id"])).count("opened") == 1


@pytest.mark.parametrize("status", ["overdue", "paid", "cancelled"])
async def test_views_of_overdue_paid_or_cancelled_invoices_record_opened_once_a_day_only(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    status: str,
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url, locale="en")
    invoice_id = invoice["id"]
    if status == "overdue":
        due = date.fromisoformat(invoice["due_date"])
        invoicing.mark_overdue(account.business_id, UUID(invoice_id), due + timedelta(days=1))
    elif status == "paid":
        response = await client.post(
            f"{INVOICES}/{invoice_id}/payments",
            headers=account.headers,
            json={"amount_cents": invoice["total_cents"], "method": "card"},
        )
        assert response.status_code == 201, response.text
    else:
        response = await client.post(f"{INVOICES}/{invoice_id}/cancel", headers=account.headers)
        assert response.status_code == 200, response.text
    before = await event_types(client, account, invoice_id)

    for _ in range(2):
        response = await client.get(invoice["public_url"])
        assert response.status_code == 200, response.text
        assert shown_status(response.text) == status
        assert f">{STATUS_LABELS['en'][status]}<" in response.text
        after = await event_types(client, account, invoice_id)
        assert after.count("opened") == 1  # the second view, the same day, records nothing
        assert lifecycle(after) == lifecycle(before)
        assert await status_of(client, account, invoice_id) == status

    page = text(response.text)
    notice = {"overdue": "notice_overdue", "paid": "notice_paid", "cancelled": "notice_cancelled"}
    assert LABELS["en"][notice[status]] in page
    # A cancelled invoice asks for nothing: no amount due is printed for it.
    assert ("Amount due" in page) is (status != "cancelled")


def pin_clock(client: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch, at: datetime) -> None:
    """The serving app's clock (Invoicing(clock=...)) reads `at` until the test ends."""
    monkeypatch.setattr(services(client.app.state).app, "clock", lambda: at)


async def test_64_concurrent_views_all_answer_the_page_and_record_one_opened(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    """Viewers racing on one invoice: each gets the page (never a 409), one `opened`."""
    invoice = await invoice_for(client, account, invoicing, database_url)

    path = urlsplit(invoice["public_url"]).path
    responses = await concurrently(client, [("GET", path, {})] * 64)

    assert [r.status_code for r in responses] == [200] * 64, {
        r.status_code: r.text[:200] for r in responses if r.status_code != 200
    }
    assert {shown_status(r.text) for r in responses} == {"opened"}
    types = await event_types(client, account, invoice["id"])
    assert types.count("opened") == 1
    assert await status_of(client, account, invoice["id"]) == "opened"


async def test_views_record_one_opened_per_utc_day(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    day = datetime(2031, 5, 6, 0, 0, 1, tzinfo=UTC)
    pin_clock(client, monkeypatch, day)

    for _ in range(50):
        response = await client.get(invoice["public_url"])
        assert response.status_code == 200, response.text
    events = await get_json(client, account, f"{INVOICES}/{invoice['id']}/events")
    opened = [e for e in events["data"] if e["type"] == "opened"]
    assert [e["data"] for e in opened] == [{"on": "2031-05-06"}]

    # Just before and just after midnight UTC (a clock in another zone counts in UTC).
    pin_clock(client, monkeypatch, day.replace(hour=23, minute=59, second=59))
    assert (await client.get(invoice["public_url"])).status_code == 200
    # 01:30 on the next day in UTC+2 is still 23:30 on the first day in UTC.
    pin_clock(client, monkeypatch, datetime(2031, 5, 7, 1, 30, tzinfo=timezone(timedelta(hours=2))))
    assert (await client.get(invoice["public_url"])).status_code == 200
    pin_clock(client, monkeypatch, day + timedelta(days=1))
    for _ in range(3):
        assert (await client.get(invoice["public_url"])).status_code == 200

    events = await get_json(client, account, f"{INVOICES}/{invoice['id']}/events")
    opened = [e for e in events["data"] if e["type"] == "opened"]
    assert [e["data"] for e in opened] == [{"on": "2031-05-06"}, {"on": "2031-05-07"}]
    assert await status_of(client, account, invoice["id"]) == "opened"


async def test_a_draft_has_no_public_page_and_its_view_records_nothing(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url, send=False)
    settle(database_url)
    events = invoice_event_count(database_url, invoice["id"])

    response = await client.get(invoice["public_url"])

    assert response.status_code == 404
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Invoice not found" in response.text
    assert invoice["number"] not in response.text
    assert invoice_event_count(database_url, invoice["id"]) == events
    assert await event_types(client, account, invoice["id"]) == ["created"]
    assert await status_of(client, account, invoice["id"]) == "draft"


async def test_unknown_tokens_and_invoice_ids_are_a_404_page(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    token = invoice["public_url"].rsplit("/", 1)[1]
    for path in (
        f"/i/{token[:-1]}",  # one character short
        f"/i/{token}x",
        f"/i/{invoice['id']}",  # the page is served by token only, never by invoice id
        f"/i/{uuid4()}",
        "/i/" + "A" * 500,
        f"/i/{token.lower() if token != token.lower() else token.upper()}",
    ):
        response = await client.get(path, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "Facture introuvable" in response.text
        assert invoice["number"] not in response.text
    assert "opened" not in await event_types(client, account, invoice["id"])
    assert await status_of(client, account, invoice["id"]) == "sent"


async def test_the_page_is_not_in_the_openapi_document_and_needs_no_key(
    client: AsyncTestClient[Any], account: Account, invoicing: Invoicing, database_url: str
) -> None:
    invoice = await invoice_for(client, account, invoicing, database_url)
    # Even a wrong key is ignored: the page does not authenticate.
    response = await client.get(invoice["public_url"], headers={"X-Api-Key": "ffk_wrong"})
    assert response.status_code == 200, response.text
    document = (await client.get("/schema/openapi.json")).json()
    assert not any(path.startswith("/i/") for path in document["paths"])


HOSTILE = {
    "client_name": "<script>alert(1)</script>",
    "description": '<img src=x onerror="alert(2)">',
    "notes": "</p><script>alert(3)</script><p>",
    "address": '"><svg onload=alert(4)>',
    "seller": "<b onmouseover=alert(5)>Evil & Co</b>",
}


async def test_user_text_is_escaped_and_can_never_inject_markup(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account(HOSTILE["seller"], address=HOSTILE["address"])
    invoice = await invoice_for(
        client,
        account,
        invoicing,
        database_url,
        client_name=HOSTILE["client_name"],
        # Not French: a French seller's invoice to a French business client needs its valid
        # SIREN to be sent (API.md "E-invoices and legal checks"), and this id is hostile text.
        client_fields={"address": HOSTILE["address"], "company_id": "<i>123</i>", "country": "DE"},
        lines=[{**LINES[0], "description": HOSTILE["description"]}],
        notes=HOSTILE["notes"],
    )

    response = await client.get(invoice["public_url"])

    assert response.status_code == 200, response.text
    raw = response.text
    for value in [*HOSTILE.values(), "<i>123</i>"]:
        assert value not in raw, value
        assert value in text(raw), value  # shown, as text
    # The page itself has no script, no handler and no external resource at all.
    lowered = raw.lower()
    for forbidden in ("<script", "<img", "<svg", "<b ", "<i>"):
        assert forbidden not in lowered, forbidden
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered)  # no event handler on any tag
    assert "http" not in lowered
    assert "url(" not in lowered
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_every_locale_has_every_word() -> None:
    assert set(LABELS) == set(STATUS_LABELS) == set(LOCALES)
    for locale in LOCALES:
        assert LABELS[locale].keys() == LABELS["en"].keys(), locale
        assert STATUS_LABELS[locale].keys() == STATUS_LABELS["en"].keys(), locale
        assert all(word.strip() for word in LABELS[locale].values()), locale


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("", "en"),
        ("fr-FR,fr;q=0.9,en;q=0.8", "fr"),
        ("de-DE,sv;q=0.7,en;q=0.5", "sv"),
        ("nn-NO", "nb"),
        ("no", "nb"),
        ("en;q=0.2,nb;q=0.9", "nb"),
        ("fr;q=0,sv", "sv"),
        ("ja", "en"),
        ("fr;q=bad", "en"),
    ],
)
def test_the_404_page_speaks_the_readers_language_when_it_can(
    header: str | None, locale: str
) -> None:
    assert preferred_locale(header) == locale
