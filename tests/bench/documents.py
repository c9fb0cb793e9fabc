"""Issue 5 figures: invoice PDF render time, and GET .../pdf served from storage vs rendered.

Render times are the real renderer (WeasyPrint + Factur-X embedding + XSD check) called in the
bench process on a document built from an invoice the server returned; the GET figures go
through the real server: each invoice's first send timed (since issue 18 it renders, stores and
records the PDF and XML before answering), then one sent invoice's PDF fetched many times from
storage.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import msgspec

from fastfaktura.adapters.pdf.document import build_document
from fastfaktura.adapters.pdf.render import render_pdf
from fastfaktura.api.schemas import InvoiceResponse
from tests.bench.figures import Figure, Goal, percentile
from tests.bench.registry import Bench, scenario

RENDER_SAMPLES = 30
UNCACHED_SAMPLES = 20
CACHED_SAMPLES = 100


def _line(index: int) -> dict[str, Any]:
    return {
        "description": f"Prestation de conseil, lot {index + 1}",
        "quantity": "1.5",
        "unit_price_cents": 12000 + index,
        "tax_rate": "20" if index % 3 else "5.5",
    }


async def _sent_invoice(
    http: httpx.AsyncClient, client_id: str, lines: int, send_times: list[float] | None = None
) -> dict[str, Any]:
    created = await http.post(
        "/api/v1/invoices",
        json={"client_id": client_id, "currency": "EUR", "lines": [_line(i) for i in range(lines)]},
    )
    created.raise_for_status()
    invoice: dict[str, Any] = created.json()
    started = time.perf_counter()
    sent = await http.post(f"/api/v1/invoices/{invoice['id']}/send", json={"channels": ["link"]})
    if send_times is not None:
        send_times.append(time.perf_counter() - started)
    sent.raise_for_status()
    body: dict[str, Any] = sent.json()["invoice"]
    return body


def _ms(values: list[float], q: float) -> float:
    return percentile(values, q) * 1000


async def _render_times(invoice: dict[str, Any]) -> list[float]:
    document = build_document(msgspec.convert(invoice, InvoiceResponse, strict=False), issued=True)
    times = []
    for _ in range(RENDER_SAMPLES):
        started = time.perf_counter()
        await asyncio.to_thread(render_pdf, document)
        times.append(time.perf_counter() - started)
    return times


async def _get_pdf(http: httpx.AsyncClient, invoice_id: str) -> float:
    started = time.perf_counter()
    response = await http.get(f"/api/v1/invoices/{invoice_id}/pdf")
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed


@scenario(
    "pdf_documents",
    "Invoice PDFs: render p50/p95 (1 and 50 lines); first send (issues them) vs GET .../pdf",
)
async def pdf_documents(bench: Bench) -> list[Figure]:
    env = bench.env
    bench.client("PDF requests", "httpx.AsyncClient, sequential requests, in the bench process")
    headers = {"X-Api-Key": env.account.api_key}
    async with httpx.AsyncClient(base_url=env.base_url, headers=headers, timeout=120) as http:
        created = await http.post(
            "/api/v1/clients",
            json={"name": "Client PDF", "email": "pdf@client.example", "locale": "fr"},
        )
        created.raise_for_status()
        client_id = created.json()["id"]
        one = await _render_times(await _sent_invoice(http, client_id, 1))
        fifty = await _render_times(await _sent_invoice(http, client_id, 50))
        uncached: list[float] = []  # first sends: render, store, record
        invoices = [
            await _sent_invoice(http, client_id, 1, uncached) for _ in range(UNCACHED_SAMPLES)
        ]
        cached = [await _get_pdf(http, invoices[0]["id"]) for _ in range(CACHED_SAMPLES)]
    return [
        Figure(
            "pdf_render_1_p50",
            "PDF render, 1 line, p50",
            _ms(one, 50),
            "ms",
            goal=Goal("value", "<=", 100),
        ),
        Figure("pdf_render_1_p95", "PDF render, 1 line, p95", _ms(one, 95), "ms"),
        Figure("pdf_render_50_p50", "PDF render, 50 lines, p50", _ms(fifty, 50), "ms"),
        Figure("pdf_render_50_p95", "PDF render, 50 lines, p95", _ms(fifty, 95), "ms"),
        Figure(
            "pdf_get_uncached_p50",
            "POST .../send, first (renders and stores the PDF and XML, records) p50",
            _ms(uncached, 50),
            "ms",
        ),
        Figure(
            "pdf_get_cached_p50",
            "GET .../pdf, stored, p50",
            _ms(cached, 50),
            "ms",
            baseline="pdf_get_uncached_p50",
            goal=Goal("value", "<=", 5),
        ),
        Figure("pdf_get_cached_p99", "GET .../pdf, stored, p99", _ms(cached, 99), "ms"),
    ]
