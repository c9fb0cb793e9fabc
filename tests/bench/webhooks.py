"""Webhooks on the main server (`fastfaktura serve`, its webhook worker running): deliveries per
second to a receiver in the bench process (aiohttp on 127.0.0.1), and the latency from
`POST /invoices/{id}/payments` to the receiver getting that invoice's `invoice.paid`.

Deliveries/s: the receiver holds its first requests while BACKLOG clients are created (their
`client.created` events queue up), then lets everything through: the drain rate of one endpoint
(at most FASTFAKTURA_WEBHOOK_CONCURRENCY in flight, 4 by default). Its baseline: the same
receiver taking the same bodies from a plain httpx client, 4 at a time.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import msgspec
from aiohttp import web

from tests.bench import http
from tests.bench.environment import HOST, free_port
from tests.bench.figures import Figure, percentile
from tests.bench.invoices import INVOICES, invoice_body
from tests.bench.registry import Bench, scenario
from tests.bench.scenarios import CLIENTS, _client_body, _connection

ENDPOINTS = "/api/v1/webhook_endpoints"
BACKLOG = 600
LATENCY_SAMPLES = 100
IN_FLIGHT = 4  # the worker's default per endpoint
MS = 1000.0


class Receiver:
    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}  # webhook-id -> first arrival (perf_counter)
        self.paid: dict[str, float] = {}  # invoice id -> invoice.paid arrival
        self.gate = asyncio.Event()
        self.gate.set()
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        await self.gate.wait()
        now = time.perf_counter()
        self.arrivals.setdefault(request.headers.get("webhook-id", str(now)), now)
        event = json.loads(body)
        if event.get("type") == "invoice.paid":
            self.paid.setdefault(event["data"]["id"], now)
        self.changed.set()
        return web.Response(status=204)

    async def until(self, done: Any, timeout: float = 120.0) -> None:
        deadline = time.perf_counter() + timeout
        while not done():
            self.changed.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise TimeoutError("the receiver did not get every webhook")
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                continue


async def _serve(receiver: Receiver) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    return runner, port


async def _json(conn: http.Connection, method: str, path: str, body: Any, status: int) -> Any:
    response = await conn.request(method, path, json.dumps(body).encode() if body else None)
    if response.status != status:
        raise RuntimeError(f"{method} {path}: HTTP {response.status} {response.body[:300]!r}")
    return msgspec.json.decode(response.body)


@scenario("webhooks", "Webhooks: deliveries/s to a local receiver; POST payments -> invoice.paid")
async def webhooks(bench: Bench) -> list[Figure]:
    receiver = Receiver()
    runner, port = await _serve(receiver)
    url = f"http://{HOST}:{port}/hook"
    conn = await _connection(bench).open()
    try:
        created = await _json(
            conn, "POST", ENDPOINTS, {"url": url, "events": ["client.created", "invoice.paid"]}, 201
        )
        # 1. the backlog, then its drain
        receiver.gate.clear()
        for n in range(BACKLOG):
            await _json(conn, "POST", CLIENTS, json.loads(_client_body(5_000_000 + n)), 201)
        receiver.gate.set()
        opened = time.perf_counter()
        await receiver.until(lambda: len(receiver.arrivals) >= BACKLOG)
        drain = time.perf_counter() - opened
        rate = BACKLOG / drain
        await conn.close()  # idle meanwhile: the server's keep-alive would close it
        ceiling = await _receiver_ceiling(url)
        await conn.open()

        # 2. POST payments -> invoice.paid at the receiver, one at a time
        client_id = (await _json(conn, "POST", CLIENTS, json.loads(_client_body(4_999_999)), 201))[
            "id"
        ]
        latencies: list[float] = []
        answers: list[float] = []
        for _ in range(LATENCY_SAMPLES):
            invoice = await _json(conn, "POST", INVOICES, json.loads(invoice_body(client_id)), 201)
            await _json(
                conn, "POST", f"{INVOICES}/{invoice['id']}/send", {"channels": ["link"]}, 200
            )
            started = time.perf_counter()
            await _json(
                conn,
                "POST",
                f"{INVOICES}/{invoice['id']}/payments",
                {"amount_cents": invoice["total_cents"], "method": "bank_transfer"},
                201,
            )
            answers.append(time.perf_counter() - started)
            await receiver.until(lambda i=invoice["id"]: i in receiver.paid, timeout=30)
            latencies.append(receiver.paid[invoice["id"]] - started)
        await _json(conn, "DELETE", f"{ENDPOINTS}/{created['id']}", None, 200)
    finally:
        await conn.close()
        await runner.cleanup()
    bench.client("webhook receiver", "aiohttp on 127.0.0.1 in the bench process, answers 204")
    return [
        Figure(
            "webhook_ceiling_rate",
            f"receiver ceiling: httpx POSTs x{IN_FLIGHT}",
            ceiling,
            "req/s",
        ),
        Figure(
            "webhook_delivery_rate",
            f"webhook deliveries, one endpoint, backlog of {BACKLOG}",
            rate,
            "deliveries/s",
            baseline="webhook_ceiling_rate",
            detail={"seconds": drain},
        ),
        Figure(
            "webhook_payment_answer_p50",
            "POST /invoices/{id}/payments answer p50",
            percentile(answers, 50) * MS,
            "ms",
        ),
        Figure(
            "webhook_paid_p50",
            "POST payments -> invoice.paid received, p50",
            percentile(latencies, 50) * MS,
            "ms",
            baseline="webhook_payment_answer_p50",
        ),
        Figure(
            "webhook_paid_p99",
            "POST payments -> invoice.paid received, p99",
            percentile(latencies, 99) * MS,
            "ms",
            baseline="webhook_payment_answer_p50",
        ),
    ]


async def _receiver_ceiling(url: str) -> float:
    """The receiver's own pace for this kind of request: signed-sized bodies, 4 at a time."""
    body = json.dumps({"type": "client.created", "timestamp": "x", "data": {"n": "x" * 400}})
    count = BACKLOG
    numbers = iter(range(count))

    async def worker(client: httpx.AsyncClient) -> None:
        for n in numbers:
            headers = {"webhook-id": f"ceiling-{n}", "content-type": "application/json"}
            (await client.post(url, content=body, headers=headers)).raise_for_status()

    started = time.perf_counter()
    async with httpx.AsyncClient() as client:
        await asyncio.gather(*(worker(client) for _ in range(IN_FLIGHT)))
    return count / (time.perf_counter() - started)
