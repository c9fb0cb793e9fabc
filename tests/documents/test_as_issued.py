"""As issued, forever (issue 18): the first send renders, stores and records an invoice's PDF
and CII XML; `/pdf` and `/xml` serve those bytes with a strong ETag; `audit verify` proves the
stored bytes are the ones the events recorded, and names a document changed in PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import httpx
import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.pdf.credit_note_store import embedded_xml
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.documents.support import invoice_for, seller_account, send
from tests.documents.test_pdf_pool import (
    LARGE,
    http_in_app,
    in_app_loop,
    pdf_pool,
    small_pool_client,  # noqa: F401 (a fixture)
    until,
)
from tests.helpers import assert_problem, run_cli, settle
from tests.invoicing_support import INVOICES


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def sent_documents(database_url: str, invoice_id: str) -> Any:
    """The `documents` of the invoice's `sent` event, as stored."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT state FROM invoicing_events WHERE originator_id = %s"
            " AND topic = 'fastfaktura:Invoice.Sent'",
            (invoice_id,),
        ).fetchone()
    assert row is not None
    return json.loads(bytes(row[0])).get("documents")


async def sent_invoice(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> tuple[Account, dict[str, Any]]:
    account = seller_account(new_account)
    invoice = await invoice_for(client, account)
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/send", json={"channels": ["link"]}, headers=account.headers
    )
    assert response.status_code == 200, response.text
    return account, invoice


async def test_the_first_send_records_and_serves_the_documents_as_issued(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, invoice = await sent_invoice(client, new_account)
    recorded = sent_documents(database_url, invoice["id"])
    assert sorted(recorded) == ["cii", "pdf", "ubl"]
    pdf = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    assert pdf.status_code == 200, pdf.text
    assert sha(pdf.content) == recorded["pdf"]
    assert pdf.headers["etag"] == f'"{recorded["pdf"]}"'
    xml = await client.get(f"{INVOICES}/{invoice['id']}/xml?format=cii", headers=account.headers)
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith("application/xml")
    assert sha(xml.content) == recorded["cii"]
    assert xml.headers["etag"] == f'"{recorded["cii"]}"'
    assert xml.content == embedded_xml(pdf.content)  # the XML inside the PDF, byte for byte
    ubl = await client.get(f"{INVOICES}/{invoice['id']}/xml", headers=account.headers)
    assert ubl.status_code == 200, ubl.text
    assert b"<cbc:CustomizationID>" in ubl.content  # the default format: UBL
    assert sha(ubl.content) == recorded["ubl"]
    assert ubl.headers["etag"] == f'"{recorded["ubl"]}"'
    # A payment later changes the invoice, never its documents.
    paid = await client.post(
        f"{INVOICES}/{invoice['id']}/payments",
        json={"amount_cents": 100, "method": "bank_transfer"},
        headers=account.headers,
    )
    assert paid.status_code in (200, 201), paid.text
    again = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    assert again.content == pdf.content
    # The timeline shows the digests the event records.
    events = await client.get(f"{INVOICES}/{invoice['id']}/events", headers=account.headers)
    sent = [e for e in events.json()["data"] if e["type"] == "sent"]
    assert sent[0]["data"]["documents"] == recorded


async def test_the_xml_endpoint_refuses_drafts_unknown_formats_and_other_businesses(
    client: AsyncTestClient[Any], new_account: Callable[..., Account]
) -> None:
    account = seller_account(new_account)
    draft = await invoice_for(client, account)
    url = f"{INVOICES}/{draft['id']}/xml"
    response = await client.get(f"{url}?format=cii", headers=account.headers)
    assert response.status_code == 409, response.text
    for query, field in (
        ("?format=xml", "format"),
        ("?format=UBL", "format"),
        ("?formats=cii", "formats"),
    ):
        response = await client.get(f"{url}{query}", headers=account.headers)
        assert response.status_code == 422, (query, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], response.text
    other, sent = await sent_invoice(client, new_account)
    foreign = await client.get(f"{INVOICES}/{sent['id']}/xml?format=cii", headers=account.headers)
    assert foreign.status_code == 404, foreign.text
    own = await client.get(f"{INVOICES}/{sent['id']}/xml?format=cii", headers=other.headers)
    assert own.status_code == 200, own.text


async def test_an_invoice_sent_without_recorded_documents_is_stored_on_first_request(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """As before this change (or a send that skips the API): rendered on the first request,
    stored, the same bytes afterwards; `audit verify` counts it as having no recorded hash."""
    account = seller_account(new_account)
    invoice = await invoice_for(client, account)
    send(invoicing, database_url, account, invoice)
    assert sent_documents(database_url, invoice["id"]) is None
    first = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    second = await client.get(f"{INVOICES}/{invoice['id']}/pdf", headers=account.headers)
    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert first.headers["etag"] == f'"{sha(first.content)}"'
    xml = await client.get(f"{INVOICES}/{invoice['id']}/xml?format=cii", headers=account.headers)
    assert xml.content == embedded_xml(first.content)
    result = run_cli(database_url, "audit", "verify", "--business", str(account.business_id))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 issued document(s) match" in result.stdout
    assert "2 stored with no recorded hash" in result.stdout


@contextmanager
def tampered(database_url: str, invoice_id: str, kind: str, statement: str) -> Iterator[None]:
    """Change one stored document as someone with database access would, then put it back
    (the suite's database is shared)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        saved = conn.execute(
            "SELECT business_id, document_id, kind, sha256, content, version, created_at"
            " FROM issued_documents WHERE document_id = %s AND kind = %s",
            (invoice_id, kind),
        ).fetchall()
        assert len(saved) == 1
        conn.execute(statement, (invoice_id, kind))
        try:
            yield
        finally:
            conn.execute(
                "DELETE FROM issued_documents WHERE document_id = %s AND kind = %s",
                (invoice_id, kind),
            )
            conn.cursor().executemany(
                "INSERT INTO issued_documents (business_id, document_id, kind, sha256, content,"
                " version, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                saved,
            )


async def test_audit_verify_names_a_stored_document_changed_in_the_database(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, invoice = await sent_invoice(client, new_account)
    settle(database_url)
    business = str(account.business_id)
    untouched = run_cli(database_url, "audit", "verify", "--business", business)
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    assert "3 issued document(s) match the SHA-256 their events record" in untouched.stdout
    # One byte of the PDF changed (its digest column left as it was).
    edit = (
        "UPDATE issued_documents SET content = overlay(content placing '\\x25'::bytea from 200)"
        " WHERE document_id = %s AND kind = %s"
    )
    with tampered(database_url, invoice["id"], "pdf", edit):
        result = run_cli(database_url, "audit", "verify", "--business", business)
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"invoice {invoice['id']} document pdf" in result.stdout
        assert "has changed" in result.stdout
    # The XML replaced, digest column and all: the event's digest is then nowhere.
    replace = (
        "UPDATE issued_documents SET content = 'forged', sha256 = encode(sha256('forged'), 'hex')"
        " WHERE document_id = %s AND kind = %s"
    )
    with tampered(database_url, invoice["id"], "cii", replace):
        result = run_cli(database_url, "audit", "verify", "--business", business)
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"invoice {invoice['id']} document cii" in result.stdout
        assert "is missing" in result.stdout
    again = run_cli(database_url, "audit", "verify", "--business", business)
    assert again.returncode == 0, again.stdout + again.stderr
    assert UUID(invoice["id"])


async def test_a_send_refused_by_a_full_render_queue_records_nothing(
    client: AsyncTestClient[Any],
    small_pool_client: AsyncTestClient[Any],  # noqa: F811 (the fixture imported above)
    new_account: Callable[..., Account],
    database_url: str,
) -> None:
    """The documents are rendered before anything is recorded: a send the PDF pool cannot take
    answers 503 and leaves the draft a draft, with no `sent` event and no stored document."""
    account = seller_account(new_account, "Busy Business")
    slow = [await invoice_for(client, account, lines=LARGE[:200]) for _ in range(2)]
    draft = await invoice_for(client, account)
    pool = pdf_pool(small_pool_client)
    # The pool's workers started (a busy machine takes seconds), so that the waits below time
    # the queue, not the start.
    warm = await small_pool_client.get(f"{INVOICES}/{draft['id']}/pdf", headers=account.headers)
    assert warm.status_code == 200, warm.text

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        async with http_in_app(small_pool_client) as http:
            first = asyncio.create_task(
                http.get(f"{INVOICES}/{slow[0]['id']}/pdf", headers=account.headers)
            )
            await until(lambda: pool.load().rendering == 1)
            second = asyncio.create_task(
                http.get(f"{INVOICES}/{slow[1]['id']}/pdf", headers=account.headers)
            )
            await until(lambda: pool.load().waiting == 1)
            # The business's share of the queue (one) is taken: its send cannot render.
            refused = await http.post(
                f"{INVOICES}/{draft['id']}/send",
                json={"channels": ["link"]},
                headers=account.headers,
            )
            return [await first, await second], refused

    drafts, refused = await in_app_loop(small_pool_client, scenario)
    assert [r.status_code for r in drafts] == [200, 200]
    problem = assert_problem(refused, 503)
    assert problem["type"].endswith("/pdf-queue-full"), problem
    with psycopg.connect(database_url) as conn:
        versions = conn.execute(
            "SELECT count(*) FROM invoicing_events WHERE originator_id = %s", (draft["id"],)
        ).fetchone()
        stored = conn.execute(
            "SELECT count(*) FROM issued_documents WHERE document_id = %s", (draft["id"],)
        ).fetchone()
    assert versions == (1,)
    assert stored == (0,)
    shown = await client.get(f"{INVOICES}/{draft['id']}", headers=account.headers)
    assert shown.json()["status"] == "draft"
