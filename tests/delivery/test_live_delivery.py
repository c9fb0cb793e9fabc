"""Live deliveries against real local servers: an SMTP server (aiosmtpd) and an SMS gateway
(http.server), both on 127.0.0.1, performed by the real DeliveryWorker.

Why a database of its own: only one delivery worker is active per database (an advisory
lock), and in the suite's database the session app's worker holds it and has no transports,
so it would race the tests for every live delivery (and fail it). Here, on the suite's
PostgreSQL server, a fresh database is served by an API-only app configured with SMTP_URL and
SMS_GATEWAY_URL; no worker runs unless a test runs one: `DeliveryWorker.run_once` (what the
worker's loop runs), or the policies exactly as `serve` starts them.

Why not a second full app: one full app holds about 50 PostgreSQL connections (mostly its
projection runners); beside the session app that exceeds the server's max_connections (100).
The read models are kept up to date instead by a thread running the projections' catch-up
(the same code `new_account` uses), so the API still answers after its read models show a
write.

"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import psycopg
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.stripe_gateway import StripeGateway
from fastfaktura.api.app import create_app
from fastfaktura.application import Invoicing
from fastfaktura.config import Settings
from fastfaktura.domain.sample_profile import SAMPLE_PROFILES
from fastfaktura.policies.delivery import MAX_ATTEMPTS, DeliveryWorker
from fastfaktura.policies.loop import LockedWorker
from fastfaktura.policies.start import start_policies, transports
from tests.conftest import invoicing_on
from tests.helpers import caught_up_continuously, drop_database, fresh_database, settle
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json

PORTS = range(8600, 8700)
BASE_URL = "http://testserver"
SELLER = "Live Co SAS"
REPLY_TO = "billing@live.example"
MAIL_FROM = "invoices@fastfaktura.localhost"


# -- the real servers -------------------------------------------------------------------------


@dataclass
class Mailbox:
    """What arrived at the SMTP server."""

    port: int = 0
    received: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((envelope, message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for envelope, message in self.received if address in envelope.rcpt_tos]


@dataclass
class Gateway:
    """An SMS gateway: records each POST; answers the scripted statuses first, then 200."""

    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[int] = field(default_factory=list)
    always: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def to(self, number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["json"].get("to") == number]

    def answer(self, request: dict[str, Any]) -> int:
        with self.lock:
            self.requests.append(request)
            if self.always is not None:
                return self.always
            return self.script.pop(0) if self.script else 200


def _handler(gateway: Gateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = gateway.answer(
                {
                    "path": self.path,
                    "json": json.loads(raw),
                    "idempotency_key": self.headers.get("Idempotency-Key"),
                    "content_type": self.headers.get("Content-Type"),
                }
            )
            payload = json.dumps({"ok": status == 200}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def smtp() -> Iterator[Mailbox]:
    mailbox = Mailbox()
    for port in PORTS:
        controller = Controller(mailbox, hostname="127.0.0.1", port=port)
        try:
            controller.start()
        except (OSError, RuntimeError):
            continue
        mailbox.port = port
        break
    else:
        pytest.fail("no free port in 8600-8699 for the SMTP server")
    yield mailbox
    controller.stop()


@pytest.fixture(scope="module")
def sms_server() -> Iterator[Gateway]:
    gateway = Gateway()
    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), _handler(gateway))
        except OSError:
            continue
        gateway.port = port
        break
    else:
        pytest.fail("no free port in 8600-8699 for the SMS gateway")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield gateway
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def gateway(sms_server: Gateway) -> Iterator[Gateway]:
    yield sms_server
    sms_server.script.clear()
    sms_server.always = None


# -- a database of its own, its app, its worker ---------------------------------------------


def _settings(url: str, smtp: Mailbox, gateway: Gateway) -> Settings:
    return Settings(
        database_url=url,
        public_base_url=BASE_URL,
        smtp_url=f"smtp://127.0.0.1:{smtp.port}",
        sms_gateway_url=f"http://127.0.0.1:{gateway.port}/messages",
    )


@pytest.fixture(scope="module")
def live_url(database_url: str) -> Iterator[str]:
    url = fresh_database(database_url, "live")
    yield url
    drop_database(database_url, url)


@pytest.fixture(scope="module")
def settings(live_url: str, smtp: Mailbox, sms_server: Gateway) -> Settings:
    return _settings(live_url, smtp, sms_server)


@pytest.fixture(scope="module")
def live_invoicing(live_url: str) -> Iterator[Invoicing]:
    with invoicing_on(live_url) as app:
        yield app


@pytest.fixture(scope="module")
def projections(live_url: str, live_invoicing: Invoicing) -> Iterator[None]:
    with caught_up_continuously(live_invoicing, live_url):
        yield


@pytest.fixture(scope="module")
async def live_client(
    settings: Settings, live_url: str, projections: None
) -> AsyncIterator[AsyncTestClient[Any]]:
    app = create_app(settings, live_url, run_projections=False)  # API only: no worker here
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def pool(live_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(live_url, min_size=1, max_size=5) as created:
        yield created


@dataclass(frozen=True)
class LiveAccount:
    business_id: UUID
    headers: dict[str, str]


@pytest.fixture
def live_account(
    live_client: AsyncTestClient[Any], live_invoicing: Invoicing, live_url: str
) -> LiveAccount:
    # A live business completes its own legal profile before its first send (API.md
    # "E-invoices and legal checks"): the sample values stand in for it.
    issued = live_invoicing.register_business(
        "Live Co", "live", legal_name=SELLER, email=REPLY_TO, country="FR", **SAMPLE_PROFILES["FR"]
    ).value
    settle(live_url)
    return LiveAccount(issued.business_id, {"X-Api-Key": issued.secret})


@dataclass
class Sent:
    invoice: dict[str, Any]
    answer: dict[str, Any]
    deliveries: dict[str, str]  # channel -> delivery id, from the `sent` event
    email: str
    phone: str


@dataclass
class Live:
    """A live business on the API-only app, its delivery worker (run by the tests), and the
    real SMTP server and SMS gateway it delivers to."""

    client: AsyncTestClient[Any]
    account: LiveAccount
    invoicing: Invoicing
    pool: asyncpg.Pool
    settings: Settings
    url: str
    smtp: Mailbox
    gateway: Gateway

    def worker(self, settings: Settings | None = None) -> DeliveryWorker:
        """A worker as the app builds one, with transports from the settings (a 'restart')."""
        settings = settings or self.settings
        return DeliveryWorker(
            self.pool, self.invoicing, settings.base_url(), transports=transports(settings)
        )

    async def drain(self, worker: DeliveryWorker | None = None, timeout: float = 10.0) -> None:
        """Run a worker until nothing is due any more, and the read models show the outcome."""
        worker = worker or self.worker()
        deadline = time.monotonic() + timeout
        while await worker.run_once():
            assert time.monotonic() < deadline, "the worker keeps finding due deliveries"
            await asyncio.sleep(0.01)
        settle(self.url)

    async def send(self, channels: list[str], *, locale: str = "fr") -> Sent:
        """A fresh client (unique address and number) and invoice, sent through the API."""
        address = f"{uuid4().hex[:12]}@client.example"
        phone = f"+336{secrets.randbelow(10**8):08d}"
        buyer = await create_client(
            self.client, self.account, "Acme SARL", email=address, phone=phone, locale=locale
        )
        invoice = await create_invoice(self.client, self.account, buyer["id"])
        response = await self.client.post(
            f"{INVOICES}/{invoice['id']}/send",
            headers=self.account.headers,
            json={"channels": channels},
        )
        assert response.status_code == 200, response.text
        return Sent(invoice, response.json(), await self.delivery_ids(invoice), address, phone)

    async def events(self, invoice: dict[str, Any]) -> list[dict[str, Any]]:
        body = await get_json(self.client, self.account, f"{INVOICES}/{invoice['id']}/events")
        data: list[dict[str, Any]] = body["data"]
        return data

    async def types(self, invoice: dict[str, Any]) -> list[str]:
        return [e["type"] for e in await self.events(invoice)]

    async def delivery_ids(self, invoice: dict[str, Any]) -> dict[str, str]:
        """The deliveries the last `sent` / `reminder_sent` decided: channel -> id."""
        decided = [e for e in await self.events(invoice) if e["type"] in ("sent", "reminder_sent")]
        return {d["channel"]: d["id"] for d in decided[-1]["data"]["deliveries"]}

    async def wait_until_delivered(self, invoice: dict[str, Any], count: int) -> None:
        """Until `count` deliveries of the invoice are recorded (a running worker records
        each one just after performing it)."""
        deadline = time.monotonic() + 10
        while (await self.types(invoice)).count("delivered") < count:
            assert time.monotonic() < deadline, "not recorded"
            await asyncio.sleep(0.02)


@pytest.fixture
def live(
    live_client: AsyncTestClient[Any],
    live_account: LiveAccount,
    live_invoicing: Invoicing,
    pool: asyncpg.Pool,
    settings: Settings,
    live_url: str,
    smtp: Mailbox,
    gateway: Gateway,
) -> Live:
    return Live(live_client, live_account, live_invoicing, pool, settings, live_url, smtp, gateway)


async def attempts_row(pool: asyncpg.Pool, delivery_id: str) -> dict[str, Any] | None:
    row = await pool.fetchrow(
        "SELECT attempts, last_error, done_at,"
        " extract(epoch FROM next_attempt_at - now())::float AS wait"
        " FROM delivery_attempts WHERE delivery_id = $1",
        UUID(delivery_id),
    )
    return dict(row) if row else None


async def make_due(pool: asyncpg.Pool, delivery_id: str) -> None:
    """Skip the backoff wait."""
    await pool.execute(
        "UPDATE delivery_attempts SET next_attempt_at = now() WHERE delivery_id = $1",
        UUID(delivery_id),
    )


# -- the tests --------------------------------------------------------------------------------


async def test_live_email_and_sms_are_delivered_for_real_once(live: Live) -> None:
    sent = await live.send(["email", "sms", "link"])
    invoice, number, url = sent.invoice, sent.invoice["number"], sent.invoice["public_url"]
    assert sent.answer["invoice"]["status"] == "sent"
    # Live: decided, not yet performed (no worker runs); nothing has left yet.
    assert sent.answer["deliveries"] == [
        {"channel": "email", "to": sent.email, "status": "pending", "url": url},
        {"channel": "sms", "to": sent.phone, "status": "pending", "url": url},
        {"channel": "link", "to": None, "status": "pending", "url": url},
    ]
    assert (live.smtp.to(sent.email), live.gateway.to(sent.phone)) == ([], [])

    await live.drain()

    (mail,) = live.smtp.to(sent.email)
    envelope = next(env for env, msg in live.smtp.received if msg is mail)
    assert envelope.mail_from == MAIL_FROM
    assert envelope.rcpt_tos == [sent.email]
    assert mail["To"] == sent.email
    assert mail["From"].addresses[0].display_name == SELLER
    assert mail["From"].addresses[0].addr_spec == MAIL_FROM
    assert mail["Reply-To"] == REPLY_TO
    assert mail["Subject"] == f"Facture {number} de {SELLER}"
    assert mail["Message-ID"] == f"<{sent.deliveries['email']}@fastfaktura>"
    body = mail.get_body(preferencelist=("plain",)).get_content()
    for part in (number, "120,00\xa0€", url, "Bonjour Acme SARL"):
        assert part in body, (part, body)
    # The invoice as issued travels with the email: a real PDF named after its number.
    (pdf,) = list(mail.iter_attachments())
    assert (pdf.get_content_type(), pdf.get_filename()) == ("application/pdf", f"{number}.pdf")
    assert pdf.get_content().startswith(b"%PDF")

    (sms,) = live.gateway.to(sent.phone)
    assert sms["path"] == "/messages"
    assert sms["content_type"] == "application/json"
    assert sms["idempotency_key"] == sent.deliveries["sms"]
    assert sms["json"]["reference"] == sent.deliveries["sms"]
    assert sms["json"]["to"] == sent.phone
    for part in (number, "120,00\xa0€", url):
        assert part in sms["json"]["body"], (part, sms["json"]["body"])

    timeline = await live.events(invoice)
    assert [e["type"] for e in timeline] == [
        "created",
        "sent",
        "delivered",
        "delivered",
        "delivered",
    ]
    assert {e["data"]["delivery_id"] for e in timeline[2:]} == set(sent.deliveries.values())
    # Nothing was kept in the sandbox outbox: a live business's messages really left.
    outbox = await live.client.get("/api/v1/sandbox/messages", headers=live.account.headers)
    assert outbox.json()["total"] == 0

    # Never twice: the same worker again, then a second worker instance, send nothing more.
    await live.drain()
    again = live.worker()
    assert await again.run_once() == 0
    assert (len(live.smtp.to(sent.email)), len(live.gateway.to(sent.phone))) == (1, 1)
    assert await live.types(invoice) == [e["type"] for e in timeline]


async def test_a_live_reminder_is_delivered_with_the_reminder_text(live: Live) -> None:
    sent = await live.send(["link"], locale="en")
    await live.drain()
    response = await live.client.post(
        f"{INVOICES}/{sent.invoice['id']}/send",
        headers=live.account.headers,
        json={"channels": ["email", "sms"], "reminder": True},
    )
    assert response.status_code == 200, response.text
    reminder_ids = await live.delivery_ids(sent.invoice)
    await live.drain()
    (mail,) = live.smtp.to(sent.email)
    assert mail["Subject"] == f"Reminder: invoice {sent.invoice['number']} from {SELLER}"
    assert "€120.00" in mail.get_body(preferencelist=("plain",)).get_content()
    (sms,) = live.gateway.to(sent.phone)
    assert "reminder" in sms["json"]["body"]
    assert sms["idempotency_key"] == reminder_ids["sms"]
    assert await live.types(sent.invoice) == [
        "created",
        "sent",
        "delivered",
        "reminder_sent",
        "delivered",
        "delivered",
    ]


async def test_a_failing_gateway_is_retried_with_backoff_and_delivered_once(live: Live) -> None:
    live.gateway.script[:] = [500, 500]
    sent = await live.send(["sms"])
    delivery = sent.deliveries["sms"]
    worker = live.worker()

    for attempt in (1, 2):
        await worker.run_once()
        assert len(live.gateway.to(sent.phone)) == attempt
        row = await attempts_row(live.pool, delivery)
        assert row is not None
        assert row["attempts"] == attempt
        assert row["done_at"] is None
        assert "500" in row["last_error"]
        # Exponential backoff: 2 s after the first failure, 4 s after the second.
        assert 2**attempt - 1.5 < row["wait"] <= 2**attempt, row
        # Not due yet: the worker leaves it alone until then.
        await worker.run_once()
        assert len(live.gateway.to(sent.phone)) == attempt
        assert await live.types(sent.invoice) == ["created", "sent"]
        await make_due(live.pool, delivery)

    await live.drain(worker)
    requests = live.gateway.to(sent.phone)
    assert len(requests) == 3
    # Every try carried the same idempotency key: the gateway can drop a repeat.
    assert {r["idempotency_key"] for r in requests} == {delivery}
    row = await attempts_row(live.pool, delivery)
    assert row is not None
    assert row["done_at"] is not None
    assert await live.types(sent.invoice) == [
        "created",
        "sent",
        "delivered",
    ]
    await make_due(live.pool, delivery)
    await live.drain()
    assert len(live.gateway.to(sent.phone)) == 3


async def test_after_max_attempts_the_delivery_fails_and_is_never_tried_again(live: Live) -> None:
    live.gateway.always = 503
    sent = await live.send(["sms"])
    delivery = sent.deliveries["sms"]
    worker = live.worker()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await worker.run_once()
        assert len(live.gateway.to(sent.phone)) == attempt
        if attempt < MAX_ATTEMPTS:
            assert await live.types(sent.invoice) == [
                "created",
                "sent",
            ]
            await make_due(live.pool, delivery)
    # At once, as the worker's loop does (it runs again straight after finding work), while
    # the read model may still show the delivery pending: no further attempt.
    await worker.run_once()
    assert len(live.gateway.to(sent.phone)) == MAX_ATTEMPTS

    settle(live.url)
    timeline = await live.events(sent.invoice)
    assert [e["type"] for e in timeline] == ["created", "sent", "delivery_failed"]
    failed = timeline[-1]["data"]
    assert (failed["delivery_id"], failed["channel"]) == (delivery, "sms")
    assert "503" in failed["error"]
    fetched = await get_json(live.client, live.account, f"{INVOICES}/{sent.invoice['id']}")
    assert fetched["status"] == "sent"

    # However often a worker runs later, even with the wait skipped: nothing more.
    live.gateway.always = None
    await make_due(live.pool, delivery)
    await live.drain()
    # And with the read model lagging behind the `delivery_failed` event (shown pending).
    await live.pool.execute(
        "UPDATE rm_deliveries SET status = 'pending' WHERE id = $1", UUID(delivery)
    )
    try:
        await make_due(live.pool, delivery)
        await live.worker().run_once()
    finally:
        await live.pool.execute(
            "UPDATE rm_deliveries SET status = 'failed' WHERE id = $1", UUID(delivery)
        )
    assert len(live.gateway.to(sent.phone)) == MAX_ATTEMPTS
    assert await live.types(sent.invoice) == [
        "created",
        "sent",
        "delivery_failed",
    ]


async def test_an_unreachable_smtp_server_is_a_retried_failure(live: Live) -> None:
    sent = await live.send(["email"])
    delivery = sent.deliveries["email"]
    # A port where nothing listens: the SMTP server is down.
    down = Settings(database_url=live.url, public_base_url=BASE_URL, smtp_url="smtp://127.0.0.1:1")
    await live.worker(down).run_once()
    row = await attempts_row(live.pool, delivery)
    assert row is not None
    assert (row["attempts"], row["done_at"]) == (1, None)
    assert "SMTP" in row["last_error"]
    assert await live.types(sent.invoice) == ["created", "sent"]
    # The server is back: the next attempt delivers.
    await make_due(live.pool, delivery)
    await live.drain()
    assert len(live.smtp.to(sent.email)) == 1
    assert await live.types(sent.invoice) == [
        "created",
        "sent",
        "delivered",
    ]


@pytest.mark.parametrize("how", ["api", "application"])
async def test_a_decision_recorded_while_no_worker_ran_is_delivered_once_after_restart(
    live: Live, how: str
) -> None:
    if how == "api":
        sent = await live.send(["email"])
        invoice, address = sent.invoice, sent.email
    else:
        address = f"{uuid4().hex[:12]}@client.example"
        buyer = await create_client(live.client, live.account, "Acme", email=address)
        invoice = await create_invoice(live.client, live.account, buyer["id"])
        live.invoicing.send_invoice(live.account.business_id, UUID(invoice["id"]), ["email"])
    # The decision is recorded (and projected); the process "crashed" before delivering.
    settle(live.url)
    # No worker runs here (the "crash"): nothing can have been delivered.
    assert live.smtp.to(address) == []
    assert await live.types(invoice) == ["created", "sent"]

    # Restart: a fresh worker delivers it, exactly once; another restart adds nothing.
    await live.drain()
    assert len(live.smtp.to(address)) == 1
    await live.drain()
    assert len(live.smtp.to(address)) == 1
    assert await live.types(invoice) == ["created", "sent", "delivered"]


async def test_a_delivery_performed_but_not_recorded_is_recorded_without_sending_again(
    live: Live,
) -> None:
    sent = await live.send(["email", "sms"])
    # The crash came after the worker sent both and noted them done, before `delivered`.
    for delivery in sent.deliveries.values():
        await live.pool.execute(
            "INSERT INTO delivery_attempts (delivery_id, attempts, next_attempt_at, done_at)"
            " VALUES ($1, 1, now(), now())",
            UUID(delivery),
        )
    await live.drain()
    assert (live.smtp.to(sent.email), live.gateway.to(sent.phone)) == ([], [])
    timeline = await live.events(sent.invoice)
    assert [e["type"] for e in timeline] == ["created", "sent", "delivered", "delivered"]
    assert {e["data"]["delivery_id"] for e in timeline[2:]} == set(sent.deliveries.values())


async def test_the_policies_as_serve_starts_them_deliver_by_themselves(live: Live) -> None:
    """`serve` (or `projections run`) with SMTP_URL and SMS_GATEWAY_URL: the worker, its
    transports built from the settings, takes the lock and delivers; no help from the test."""
    policies = start_policies(
        live.pool, live.invoicing, live.settings, StripeGateway(live.settings.stripe)
    )
    worker, tasks = policies.delivery, policies.tasks
    try:
        sent = await live.send(["email", "sms"], locale="sv")
        deadline = time.monotonic() + 10
        while not (live.smtp.to(sent.email) and live.gateway.to(sent.phone)):
            assert time.monotonic() < deadline, f"nothing delivered; worker {worker.status}"
            await asyncio.sleep(0.02)
        assert worker.status == "running"
        await live.wait_until_delivered(sent.invoice, 2)
        await looked_again(worker)  # the worker keeps running: still nothing more
        assert await live.types(sent.invoice) == [
            "created",
            "sent",
            "delivered",
            "delivered",
        ]
        (mail,) = live.smtp.to(sent.email)
        assert mail["Subject"] == f"Faktura {sent.invoice['number']} från {SELLER}"
        assert mail["Message-ID"] == f"<{sent.deliveries['email']}@fastfaktura>"
        assert len(live.gateway.to(sent.phone)) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # Stopped, the worker gave its lock back: another process's worker can take over.
    with psycopg.connect(live.url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pg_try_advisory_lock(hashtext(%s))", (DeliveryWorker.LOCK,)
        ).fetchone()
        assert row == (True,)
        conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (DeliveryWorker.LOCK,))


async def test_an_unexpected_error_is_a_failed_attempt_not_a_stopped_worker(live: Live) -> None:
    """A misconfigured gateway (port out of range: not even an HTTP error) must not stop the
    worker for every other delivery: it is a failed attempt, retried, and the email goes."""
    sent = await live.send(["sms", "email"])
    broken = Settings(
        database_url=live.url,
        public_base_url=BASE_URL,
        smtp_url=live.settings.smtp_url,
        sms_gateway_url="http://127.0.0.1:99999/messages",
    )
    await live.drain(live.worker(broken))
    assert len(live.smtp.to(sent.email)) == 1
    row = await attempts_row(live.pool, sent.deliveries["sms"])
    assert row is not None
    assert (row["attempts"], row["done_at"]) == (1, None)
    assert row["last_error"]
    assert await live.types(sent.invoice) == [
        "created",
        "sent",
        "delivered",
    ]
    # Configured properly again, the next attempt reaches the gateway.
    await make_due(live.pool, sent.deliveries["sms"])
    await live.drain()
    assert len(live.gateway.to(sent.phone)) == 1
    assert await live.types(sent.invoice) == [
        "created",
        "sent",
        "delivered",
        "delivered",
    ]


async def test_the_worker_survives_losing_its_database_connections(live: Live) -> None:
    """The database drops the worker's connections (restart, failover): the worker takes its
    lock again and goes on delivering; it never runs without the lock."""
    name = f"ff-worker-{secrets.token_hex(3)}"
    worker_pool = await asyncpg.create_pool(
        live.url, min_size=1, max_size=3, server_settings={"application_name": name}
    )
    policies = start_policies(
        worker_pool, live.invoicing, live.settings, StripeGateway(live.settings.stripe)
    )
    worker, tasks = policies.delivery, policies.tasks
    worker.restart_seconds = 0.1
    try:
        await wait_for(lambda: worker.status == "running")
        with psycopg.connect(live.url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                (name,),
            )
        sent = await live.send(["email"])
        await wait_for(lambda: len(live.smtp.to(sent.email)) == 1)
        await wait_for(lambda: worker.status == "running")
        # The delivery lock is held again, by one of the worker's own (new) connections.
        with psycopg.connect(live.url, autocommit=True) as conn:
            held = conn.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = %s"
                " AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext(%s)::bigint",
                (name, DeliveryWorker.LOCK),
            ).fetchone()
            taken = conn.execute(
                "SELECT pg_try_advisory_lock(hashtext(%s))", (DeliveryWorker.LOCK,)
            ).fetchone()
        assert (held, taken) == ((1,), (False,))
        await live.wait_until_delivered(sent.invoice, 1)
        await looked_again(worker)  # still running: nothing more
        assert await live.types(sent.invoice) == [
            "created",
            "sent",
            "delivered",
        ]
        assert len(live.smtp.to(sent.email)) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Stopped, the worker has given every connection back.
        try:
            await asyncio.wait_for(worker_pool.close(), 10)
        except TimeoutError:
            pytest.fail("the stopped worker kept a pooled connection")


async def looked_again(worker: LockedWorker) -> None:
    """Wake the running worker and wait until it has looked for work and found none: what
    follows is checked after a pass of its own, not after a guess of how long one takes."""
    before = worker.idle_passes
    worker.wake()
    await wait_for(lambda: worker.idle_passes > before)


async def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_reminder_decided_before_a_payment_is_not_sent_after_it(live: Live) -> None:
    sent = await live.send(["link"], locale="en")
    await live.drain()
    reminder = await live.client.post(
        f"{INVOICES}/{sent.invoice['id']}/send",
        headers=live.account.headers,
        json={"channels": ["email"], "reminder": True},
    )
    assert reminder.status_code == 200, reminder.text
    # Paid in full before any worker picked the reminder up.
    payment = await live.client.post(
        f"{INVOICES}/{sent.invoice['id']}/payments",
        headers=live.account.headers,
        json={"amount_cents": sent.invoice["total_cents"], "method": "bank_transfer"},
    )
    assert payment.status_code == 201, payment.text
    await live.drain()
    assert live.smtp.to(sent.email) == []
    history = await live.events(sent.invoice)
    assert [e["type"] for e in history][-1] == "delivery_failed"
    assert "paid" in history[-1]["data"]["error"]


# -- credit notes (issue 13): sent like invoices, the credit note's PDF attached --------------

CREDIT_NOTES = "/api/v1/credit_notes"


async def note_events(live: Live, note: dict[str, Any]) -> list[str]:
    body = await get_json(live.client, live.account, f"{CREDIT_NOTES}/{note['id']}/events")
    return [event["type"] for event in body["data"]]


async def test_a_live_credit_note_is_emailed_with_its_pdf_and_texted_once(live: Live) -> None:
    sent = await live.send(["link"], locale="fr")
    await live.drain()
    invoice = sent.invoice
    response = await live.client.post(
        f"/api/v1/invoices/{invoice['id']}/credit_notes",
        headers=live.account.headers,
        json={"reason": "Prestation annulée"},
    )
    assert response.status_code == 201, response.text
    note = response.json()
    response = await live.client.post(
        f"{CREDIT_NOTES}/{note['id']}/send",
        headers=live.account.headers,
        json={"channels": ["email", "sms"]},
    )
    assert response.status_code == 200, response.text
    # Live, and no worker in this app: decided, not yet performed.
    assert [(d["channel"], d["to"], d["status"]) for d in response.json()["deliveries"]] == [
        ("email", sent.email, "pending"),
        ("sms", sent.phone, "pending"),
    ]
    await live.drain()
    # Once more, and with a fresh worker (a restart): nothing is due, nothing goes twice.
    await live.drain()
    await live.drain(live.worker())

    (mail,) = live.smtp.to(sent.email)
    assert mail["Subject"] == f"Avoir {note['number']} de {SELLER}"
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert f"relatif à la facture {invoice['number']}" in text
    assert note["public_url"] in text
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_filename() == f"{note['number']}.pdf"
    assert attachment.get_content_type() == "application/pdf"
    pdf = await live.client.get(f"{CREDIT_NOTES}/{note['id']}/pdf", headers=live.account.headers)
    assert attachment.get_content() == pdf.content
    (sms,) = live.gateway.to(sent.phone)
    assert note["number"] in sms["json"]["body"]
    assert note["public_url"] in sms["json"]["body"]
    assert await note_events(live, note) == ["issued", "sent", "delivered", "delivered"]


async def test_a_failing_live_delivery_is_retried_then_recorded_once(live: Live) -> None:
    sent = await live.send(["link"], locale="en")
    await live.drain()
    response = await live.client.post(
        f"/api/v1/invoices/{sent.invoice['id']}/credit_notes",
        headers=live.account.headers,
        json={"reason": "Cancelled order"},
    )
    note = response.json()
    live.gateway.script[:] = [503]  # the gateway fails once, then accepts
    response = await live.client.post(
        f"{CREDIT_NOTES}/{note['id']}/send",
        headers=live.account.headers,
        json={"channels": ["sms"]},
    )
    assert response.status_code == 200, response.text
    worker = live.worker()
    assert await worker.run_once() == 1  # the failed attempt, noted with a backoff
    assert await note_events(live, note) == ["issued", "sent"]
    await live.pool.execute("UPDATE delivery_attempts SET next_attempt_at = now()")
    await live.drain(worker)
    requests = live.gateway.to(sent.phone)
    assert len(requests) == 2
    # The same idempotency key on the retry: the gateway can tell it from a new message.
    assert requests[0]["idempotency_key"] == requests[1]["idempotency_key"]
    assert await note_events(live, note) == ["issued", "sent", "delivered"]
