"""A client generated from the live OpenAPI document (openapi-python-client) runs the README's
quickstart against a real server: what a user of another generator gets from the document.

The client is generated at test time from the served document, so an operation or schema a
generator cannot read (a body missing from the components, an unknown media type) fails here:
the generator's warnings are errors. docs/openapi-python-client.yaml is the configuration
docs/api.md gives users (the package's name; PDF and XML answers are bytes and text).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import Account
from tests.helpers import free_port, serving

PORTS = range(9600, 9700)
REPOSITORY = Path(__file__).resolve().parents[2]
CONFIG = REPOSITORY / "docs" / "openapi-python-client.yaml"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "fastfaktura_client"  # docs/openapi-python-client.yaml names it


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("generated-client") / "serve.log"
    # One PDF worker (one PDF is rendered here): each worker's warm-up is most of the start.
    with serving(database_url, free_port(PORTS), log, {"FASTFAKTURA_PDF_WORKERS": "1"}) as base:
        yield base


def generate(document: Path, into: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(document),
            "--config",
            str(CONFIG),
            "--meta",
            "none",
            "--output-path",
            str(into / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def generated(server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package generated from the served document, importable as PACKAGE."""
    where = tmp_path_factory.mktemp("client")
    document = where / "openapi.json"
    document.write_bytes(httpx.get(f"{server}/schema/openapi.json", timeout=10).content)
    run = generate(document, where)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    # Each warning is a part of the document the generator skipped: an operation left out of
    # the client, or an answer it cannot read.
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_readme_quickstart_through_the_generated_client(
    server: str, generated: ModuleType, new_account: Callable[..., Account]
) -> None:
    def load(name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.{name}")

    api = "api"
    models = load("models")
    key = new_account("Quickstart Demo").api_key
    client = generated.AuthenticatedClient(
        base_url=server, token=key, raise_on_unexpected_status=True
    )

    def ok(answer: Any, status: int = 200) -> Any:
        assert answer.status_code == status, (answer.status_code, answer.content[:2000])
        assert answer.parsed is not None
        assert not isinstance(answer.parsed, models.Problem)
        return answer.parsed

    # The business profile, then a merge (fields left out keep their value)
    business = ok(load(f"{api}.business.get_business").sync_detailed(client=client))
    assert business.mode == models.BusinessResponseMode.SANDBOX
    changed = ok(
        load(f"{api}.business.update_business").sync_detailed(
            client=client,
            body=models.BusinessUpdateRequest(email="billing@demo.example", payment_terms_days=45),
        )
    )
    assert (changed.email, changed.payment_terms_days, changed.name) == (
        "billing@demo.example",
        45,
        business.name,
    )

    # 1. A client: create, list, search, fetch, update
    clients = f"{api}.clients"
    created = ok(
        load(f"{clients}.create_client").sync_detailed(
            client=client,
            body=models.ClientCreateRequest(
                name="Acme SARL",
                email="accounts@acme.example",
                country="FR",
                external_id="CRM-1001",
            ),
        ),
        201,
    )
    listed = ok(load(f"{clients}.list_clients").sync_detailed(client=client))
    assert [c.id for c in listed.data] == [created.id]
    found = ok(load(f"{clients}.list_clients").sync_detailed(client=client, q="acme"))
    assert found.total == 1
    assert ok(load(f"{clients}.get_client").sync_detailed(str(created.id), client=client)).name == (
        "Acme SARL"
    )
    updated = ok(
        load(f"{clients}.update_client").sync_detailed(
            str(created.id),
            client=client,
            body=models.ClientUpdateRequest(phone="+33612345678", tags=["vip"]),
        )
    )
    assert (updated.phone, updated.tags, updated.email) == (
        "+33612345678",
        ["vip"],
        "accounts@acme.example",
    )

    # 2. An invoice: 1.5 x 500.00 + 20 % VAT = 900.00, numbered at once
    invoices = f"{api}.invoices"
    invoice = ok(
        load(f"{invoices}.create_invoice").sync_detailed(
            client=client,
            body=models.InvoiceCreateRequest(
                client_id=created.id,
                currency=models.InvoiceCreateRequestCurrency.EUR,
                lines=[
                    models.InvoiceLineRequest(
                        description="Consulting", quantity=1.5, unit_price_cents=50000, tax_rate=20
                    )
                ],
            ),
        ),
        201,
    )
    assert (invoice.total_cents, invoice.status.value) == (90000, "draft")
    assert invoice.number.endswith("-00001")
    fetched = ok(load(f"{invoices}.get_invoice").sync_detailed(str(invoice.id), client=client))
    assert [e.type_ for e in fetched.events] == ["created"]
    assert ok(load(f"{invoices}.list_invoices").sync_detailed(client=client)).total == 1

    # 3. Send it by email, SMS and link: simulated in the sandbox
    sent = ok(
        load(f"{invoices}.send_invoice").sync_detailed(
            str(invoice.id),
            client=client,
            body=models.SendRequest(
                channels=[models.SendRequestChannelsItem(c) for c in ("email", "sms", "link")]
            ),
        )
    )
    assert sent.invoice.status.value == "sent"
    # `simulated` once the sandbox delivered it; `pending` if the send's bounded wait for the
    # delivery worker ran out first (a loaded machine renders the PDF slowly).
    assert [d.channel.value for d in sent.deliveries] == ["email", "sms", "link"]
    assert {d.status.value for d in sent.deliveries} <= {"simulated", "pending"}

    # 4. The messages the client would have received (the email once its PDF is rendered)
    email = None
    deadline = time.monotonic() + 60
    while email is None:
        messages = ok(
            load(f"{invoices}.list_sandbox_messages").sync_detailed(
                client=client, invoice_id=str(invoice.id)
            )
        )
        email = next((m for m in messages.data if m.channel.value == "email"), None)
        assert email is not None or time.monotonic() < deadline, messages
        time.sleep(0 if email else 0.2)
    assert invoice.number in email.subject
    assert [a.content_type for a in email.attachments] == ["application/pdf"]

    # 5. The public page, as the client opens it (HTML, no key): the invoice is "opened"
    assert httpx.get(sent.invoice.public_url, timeout=10).status_code == 200

    # 6. Two payments: a part, then the rest, which makes it "paid"
    record = load(f"{invoices}.record_payment")
    ok(
        record.sync_detailed(
            str(invoice.id),
            client=client,
            body=models.PaymentRequest(
                amount_cents=40000,
                method=models.PaymentRequestMethod.BANK_TRANSFER,
                reference="SEPA 2026-118",
            ),
        ),
        201,
    )
    paid = ok(
        record.sync_detailed(
            str(invoice.id),
            client=client,
            body=models.PaymentRequest(amount_cents=50000, method=models.PaymentRequestMethod.CARD),
        ),
        201,
    )
    assert (paid.status.value, paid.amount_due_cents) == ("paid", 0)

    # The invoice's whole story, read from the event store
    story = ok(
        load(f"{invoices}.list_invoice_events").sync_detailed(str(invoice.id), client=client)
    )
    lifecycle = {"created", "sent", "opened", "payment_recorded", "paid"}
    assert [e.type_ for e in story.data if e.type_ in lifecycle] == [
        "created",
        "sent",
        "opened",
        "payment_recorded",
        "payment_recorded",
        "paid",
    ]

    # Archive the client: gone from the list, there with archived=true
    archived = ok(load(f"{clients}.archive_client").sync_detailed(str(created.id), client=client))
    assert archived.archived_at is not None
    assert ok(load(f"{clients}.list_clients").sync_detailed(client=client)).total == 0
    assert (
        ok(load(f"{clients}.list_clients").sync_detailed(client=client, archived=True)).total == 1
    )


def test_an_error_answer_parses_as_the_problem_schema(
    generated: ModuleType, server: str, new_account: Callable[..., Account]
) -> None:
    """Error answers are documented with the problem schema: the client reads them typed."""
    models = importlib.import_module(f"{PACKAGE}.models")
    get_client = importlib.import_module(f"{PACKAGE}.api.clients.get_client")
    client = generated.AuthenticatedClient(base_url=server, token=new_account().api_key)
    missing = get_client.sync_detailed("0b7f6a52-1c1e-4d3f-8a47-5c2b9d8e7f10", client=client)
    assert missing.status_code == 404
    assert isinstance(missing.parsed, models.Problem)
    assert missing.parsed.status == 404
