"""`fastfaktura serve` takes a card payment by itself, from send to paid, with nothing from the
test in between but the client's card: the serve process (its own database, the Stripe settings
in its environment) creates the PaymentIntent in a local Stripe-compatible server, and that
server signs and posts `payment_intent.succeeded` to the webhook endpoint, as Stripe would.

On the way, the client's page is opened in headless Chromium (when `make browser` installed
it): under the page's Content-Security-Policy, Stripe.js (localstripe's stand-in) loads and the
page's script mounts the card field and enables the pay button."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import stripe

from tests.helpers import (
    CHROMIUM,
    chromium,
    drop_database,
    free_port,
    fresh_database,
    run_cli,
    serving,
)
from tests.payments.conftest import (
    TEST_PUBLISHABLE_KEY,
    TEST_SECRET_KEY,
)

SECRET = "whsec_serve_end_to_end"
PORTS = range(8700, 8800)


@pytest.fixture
def serve_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "payserve")
    yield url
    drop_database(database_url, url)


def assert_card_field_mounts(url: str, profile: Path) -> None:
    """In Chromium, once the page's scripts ran (5 s of virtual time): the card inputs of
    localstripe's Stripe.js are in #card-element, and the pay button was enabled."""
    dumped = chromium(url, profile, "--virtual-time-budget=5000", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr
    dom = html.unescape(dumped.stdout)
    form = dom.split('<form id="card-payment"', 1)[1].split("</form>", 1)[0]
    card_element = form.split('<div id="card-element">', 1)[1].split("</div>", 1)[0]
    for field in ("number", "exp_month", "exp_year", "cvc"):
        assert f'placeholder="{field}"' in card_element, field
    button = form.split("<button", 1)[1].split(">", 1)[0]
    assert "disabled" not in button  # the inline script ran to its end
    assert "Payer par carte" in dom


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)
    return value


def test_serve_takes_a_card_payment_from_send_to_paid(
    serve_url: str, stripe_api: str, stripe_test: stripe.StripeClient, tmp_path: Path
) -> None:
    port = free_port(PORTS)
    env = {
        "STRIPE_TEST_SECRET_KEY": TEST_SECRET_KEY,
        "STRIPE_TEST_PUBLISHABLE_KEY": TEST_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": stripe_api,
        # No PDF here: one worker, as each worker's warm-up renders are most of the start.
        "FASTFAKTURA_PDF_WORKERS": "1",
    }
    created = run_cli(serve_url, "accounts", "create", "--name", "Serve Pay", "--json")
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    with serving(serve_url, port, tmp_path / "serve.log", env) as base:
        # Stripe's webhook endpoint for this account points at the service.
        configured = httpx.post(
            f"{stripe_api}/_config/webhooks/serve-{port}",
            json={"url": f"{base}/api/v1/webhooks/stripe", "secret": SECRET},
        )
        assert configured.status_code == 200, configured.text
        headers = {"X-Api-Key": account["api_key"]}
        with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=30) as api:
            customer = api.post("/clients", json={"name": "Acme SA", "locale": "fr"}).json()
            invoice = api.post(
                "/invoices",
                json={
                    "client_id": customer["id"],
                    "currency": "EUR",
                    "lines": [
                        {
                            "description": "Audit",
                            "quantity": 2,
                            "unit_price_cents": 45000,
                            "tax_rate": 20,
                        }
                    ],
                },
            ).json()
            sent = api.post(f"/invoices/{invoice['id']}/send", json={"channels": ["link"]})
            assert sent.status_code == 200, sent.text

            def requested() -> str | None:
                events = api.get(f"/invoices/{invoice['id']}/events").json()["data"]
                ids = [
                    e["data"]["payment_intent_id"]
                    for e in events
                    if e["type"] == "payment_requested"
                ]
                return ids[0] if ids else None

            intent_id: str = wait_for(requested, "the payment_requested event")
            if CHROMIUM.exists():
                assert_card_field_mounts(invoice["public_url"], tmp_path / "profile")
            intent = stripe_test.v1.payment_intents.retrieve(intent_id)
            assert (intent.amount, intent.currency) == (108000, "eur")
            assert intent.metadata.to_dict() == {
                "invoice_id": invoice["id"],
                "business_id": account["business_id"],
                "invoice_number": invoice["number"],
            }

            # The client pays by card; Stripe confirms and notifies the service.
            method = stripe_test.v1.payment_methods.create(
                {
                    "type": "card",
                    "card": {
                        "number": "4242424242424242",
                        "exp_month": 12,
                        "exp_year": 2034,
                        "cvc": "123",
                    },
                }
            )
            stripe_test.v1.payment_intents.update(intent_id, {"payment_method": method.id})
            assert stripe_test.v1.payment_intents.confirm(intent_id).status == "succeeded"

            def paid() -> dict[str, Any] | None:
                body: dict[str, Any] = api.get(f"/invoices/{invoice['id']}").json()
                return body if body["status"] == "paid" else None

            body = wait_for(paid, "the invoice to be paid")
            assert (body["amount_paid_cents"], body["amount_due_cents"]) == (108000, 0)
            events = api.get(f"/invoices/{invoice['id']}/events").json()["data"]
            kinds = [e["type"] for e in events]
            # `delivered` (the link), `payment_requested` and (the browser's view) `opened`
            # come from different hands: in any order.
            assert kinds[:2] == ["created", "sent"]
            between = ["delivered", "payment_requested"] + (["opened"] if CHROMIUM.exists() else [])
            assert sorted(kinds[2:-2]) == sorted(between)
            assert kinds[-2:] == ["payment_recorded", "paid"]
            recorded = next(e for e in events if e["type"] == "payment_recorded")
            assert recorded["data"]["method"] == "card"
            assert recorded["data"]["reference"] == intent_id
            # Paid: the page asks for nothing more.
            page = httpx.get(invoice["public_url"], timeout=30)
            assert 'id="card-payment"' not in page.text
            assert "<script" not in page.text
    with psycopg.connect(serve_url) as conn:
        rows = conn.execute(
            "SELECT type, status, deliveries FROM stripe_inbox WHERE payment_intent_id = %s",
            (intent_id,),
        ).fetchall()
    assert rows == [("payment_intent.succeeded", "applied", 1)]
