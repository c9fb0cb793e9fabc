"""The pay button on the public page (API.md "Public page"; the issue: a pay button when money
is due and a PaymentIntent exists, with Stripe.js and the intent's client secret).

Against the real local Stripe-compatible server (localstripe): the worker makes the
PaymentIntents, the page reads them back from it. The page is read with the standard library's
HTML parser; the CSP header is taken apart into its directives.
"""

from __future__ import annotations

import socket
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.web.labels import LABELS, LOCALES
from fastfaktura.api.app import create_app
from fastfaktura.api.public import STRIPE_PAGE_TIMEOUT_SECONDS
from fastfaktura.application import Invoicing
from fastfaktura.config import LOCAL_STRIPE_JS_PATH, Settings
from fastfaktura.policies.payments import PaymentWorker
from tests.payments.conftest import (
    BASE_URL,
    TEST_PUBLISHABLE_KEY,
    new_pay_account,
    stripe_settings,
)
from tests.payments.support import (
    TOTAL,
    Shop,
    drain,
    intent_id_of,
    sent_invoice,
)

STRICT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
CARD_WORDS = ("pay_by_card", "pay_now", "card_processing", "card_succeeded", "card_failed")


class PageParser(HTMLParser):
    """Every element's attributes by id, the scripts in order, and their inline text."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.scripts: list[dict[str, str | None]] = []
        self.script_texts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if "id" in attributes and attributes["id"] is not None:
            self.by_id[attributes["id"]] = {"tag": tag, **attributes}
        if tag == "script":
            self.scripts.append(attributes)
            self.script_texts.append("")
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.script_texts[-1] += data


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: [sources]}."""
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def public_page(client: AsyncTestClient[Any], invoice: dict[str, Any]) -> httpx.Response:
    assert invoice["public_url"].startswith(f"{BASE_URL}/i/")
    response = await client.get(urlsplit(invoice["public_url"]).path)
    assert response.status_code == 200, response.text
    return response


def assert_no_pay_button(response: httpx.Response) -> None:
    page = parse(response.text)
    assert "card-payment" not in page.by_id
    assert "pay-button" not in page.by_id
    assert page.scripts == []
    assert response.headers["content-security-policy"] == STRICT_POLICY


async def test_a_sent_invoice_with_a_payment_intent_has_a_pay_button(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    intent = await shop.intent(intent_id)

    response = await public_page(shop.client, invoice)

    page = parse(response.text)
    form = page.by_id["card-payment"]
    assert form["tag"] == "form"
    assert form["data-publishable-key"] == TEST_PUBLISHABLE_KEY
    assert form["data-client-secret"] == intent.client_secret
    assert intent.client_secret
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert form["data-locale"] == "en"
    assert form["data-succeeded"] == LABELS["en"]["card_succeeded"]
    assert page.by_id["card-element"]["tag"] == "div"
    button = page.by_id["pay-button"]
    assert (button["tag"], button["type"]) == ("button", "submit")
    assert "€120.00" in response.text.split('id="pay-button"', 1)[1].split("</button>", 1)[0]
    assert page.by_id["payment-message"]["role"] == "status"
    assert LABELS["en"]["pay_by_card"] in response.text
    # Stripe.js from its configured place, then the one inline script, by nonce.
    js_url = f"{shop.stripe_api}{LOCAL_STRIPE_JS_PATH}"
    external, inline = page.scripts
    assert external == {"src": js_url}
    nonce = inline["nonce"]
    assert nonce
    assert len(nonce) >= 16
    assert "confirmCardPayment" in page.script_texts[1]
    assert intent.client_secret not in page.script_texts[1]  # keys travel as data only
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == [f"'nonce-{nonce}'", origin_of(js_url)]
    assert policy["frame-src"] == [origin_of(js_url), "https://hooks.stripe.com"]
    assert policy["connect-src"] == [origin_of(shop.stripe_api)]
    assert policy["img-src"] == ["https://*.stripe.com"]
    for strict in ("default-src", "base-uri", "form-action", "frame-ancestors"):
        assert policy[strict] == ["'none'"], strict
    assert policy["style-src"] == ["'unsafe-inline'"]

    again = await public_page(shop.client, invoice)

    # A nonce is for one response only.
    assert parse(again.text).scripts[1]["nonce"] != nonce


async def test_no_pay_button_before_the_payment_intent_exists(shop: Shop) -> None:
    invoice = await shop.sent_invoice()  # the worker has not run

    assert_no_pay_button(await public_page(shop.client, invoice))


async def test_no_pay_button_on_a_paid_invoice(shop: Shop) -> None:
    invoice, _ = await shop.requested()
    await shop.record_payment(invoice["id"], TOTAL)

    response = await public_page(shop.client, invoice)

    assert 'data-status="paid"' in response.text
    assert_no_pay_button(response)


async def test_no_pay_button_while_the_intent_asks_for_more_than_is_due(shop: Shop) -> None:
    invoice, intent_id = await shop.requested()
    assert "card-payment" in parse((await public_page(shop.client, invoice)).text).by_id
    await shop.record_payment(invoice["id"], 2000)
    assert (await shop.intent(intent_id)).amount == TOTAL  # stale

    response = await public_page(shop.client, invoice)

    assert_no_pay_button(response)

    # Once the worker has made the intent ask for the rest, the button is back, for the rest.
    await shop.drain()
    assert (await shop.intent(intent_id)).amount == TOTAL - 2000
    again = await public_page(shop.client, invoice)
    assert "card-payment" in parse(again.text).by_id
    assert "€100.00" in again.text.split('id="pay-button"', 1)[1].split("</button>", 1)[0]


@pytest.mark.parametrize(
    "missing",
    [("live_secret_key", "live_publishable_key"), ("live_publishable_key",)],
    ids=["no live keys", "no live publishable key"],
)
async def test_no_pay_button_when_the_business_mode_lacks_a_stripe_key(
    pay_url: str,
    pay_invoicing: Invoicing,
    pay_projections: None,
    stripe_api: str,
    worker: PaymentWorker,
    missing: tuple[str, ...],
) -> None:
    """This app lacks live keys; the worker (which has them) made a live PaymentIntent."""
    settings = Settings(
        database_url=pay_url,
        public_base_url=BASE_URL,
        stripe=stripe_settings(stripe_api, **dict.fromkeys(missing)),
    )
    app = create_app(settings, pay_url, run_projections=False)
    async with AsyncTestClient(app=app) as client:
        account = new_pay_account(pay_invoicing, pay_url, mode="live")
        invoice = await sent_invoice(client, account)
        await drain(worker, pay_url)
        assert await intent_id_of(client, account, invoice["id"])

        assert_no_pay_button(await public_page(client, invoice))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


@pytest.mark.parametrize("stripe_is", ["unreachable", "silent"])
async def test_a_stripe_out_of_reach_hides_the_button_and_still_shows_the_page(
    shop: Shop, stripe_is: str
) -> None:
    """Nothing listens (refused at once), or a server takes the connection and never answers:
    the page comes without the button, and a silent Stripe holds it up for a few seconds at
    most (STRIPE_PAGE_TIMEOUT_SECONDS), not for the SDK's 20 s and its retries."""
    invoice, _ = await shop.requested()
    assert "card-payment" in parse((await public_page(shop.client, invoice)).text).by_id
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # the kernel completes connections; nobody ever reads or answers
        port = silent.getsockname()[1] if stripe_is == "silent" else closed_port()
        settings = Settings(
            database_url=shop.url,
            public_base_url=BASE_URL,
            stripe=stripe_settings(f"http://127.0.0.1:{port}"),
        )
        app = create_app(settings, shop.url, run_projections=False)
        async with AsyncTestClient(app=app) as client:
            started = time.monotonic()
            response = await public_page(client, invoice)
            waited = time.monotonic() - started

    assert invoice["number"] in response.text
    assert_no_pay_button(response)
    assert waited < STRIPE_PAGE_TIMEOUT_SECONDS + 2


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_pay_button_speaks_the_clients_language(shop: Shop, locale: str) -> None:
    invoice = await sent_invoice(shop.client, shop.account, locale=locale)
    await shop.drain()

    response = await public_page(shop.client, invoice)

    words = LABELS[locale]
    assert f"<h2>{words['pay_by_card']}</h2>" in response.text
    form = parse(response.text).by_id["card-payment"]
    assert form["data-locale"] == locale
    assert (form["data-processing"], form["data-succeeded"], form["data-failed"]) == (
        words["card_processing"],
        words["card_succeeded"],
        words["card_failed"],
    )


def test_every_locale_words_the_card_payment() -> None:
    for locale in LOCALES:
        for word in CARD_WORDS:
            assert LABELS[locale][word].strip(), (locale, word)
    assert LABELS["fr"]["pay_by_card"] == "Payer par carte"
    assert LABELS["en"]["pay_by_card"] == "Pay by card"
    assert LABELS["nb"]["pay_by_card"] == "Betal med kort"
    assert LABELS["sv"]["pay_by_card"] == "Betala med kort"
