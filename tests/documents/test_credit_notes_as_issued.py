"""As issued, forever, for credit notes (issues 14 and 18): issuing a credit note (a credit, or
the cancel of an issued invoice) renders, stores and records its PDF, CII and UBL; `/pdf` and
`/xml` serve those bytes with a strong ETag; `audit verify` names one changed in PostgreSQL.
A credit note issued before (no digest recorded) is still served, rendered on first request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any
from uuid import UUID

import httpx
import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.pdf.credit_note_store import embedded_xml
from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.documents.support import invoice_for, seller_account, send
from tests.documents.test_as_issued import sent_invoice, sha, tampered
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

CREDIT_NOTES = "/api/v1/credit_notes"


def issued_documents(database_url: str, note_id: str) -> Any:
    """The `documents` of the credit note's `issued` event, as stored."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT state FROM invoicing_events WHERE originator_id = %s"
            " AND topic = 'fastfaktura:CreditNote.Issued'",
            (note_id,),
        ).fetchone()
    assert row is not None
    return json.loads(bytes(row[0])).get("documents")


async def assert_served_as_recorded(
    client: AsyncTestClient[Any], account: Account, note_id: str, recorded: dict[str, str]
) -> bytes:
    """Each kind served byte for byte as recorded, its ETag the recorded digest; the PDF."""
    base = f"{CREDIT_NOTES}/{note_id}"
    served = {}
    for kind, path in (("pdf", "pdf"), ("cii", "xml?format=cii"), ("ubl", "xml?format=ubl")):
        response = await client.get(f"{base}/{path}", headers=account.headers)
        assert response.status_code == 200, (kind, response.text)
        assert sha(response.content) == recorded[kind], kind
        assert response.headers["etag"] == f'"{recorded[kind]}"', kind
        served[kind] = response.content
    assert served["cii"] == embedded_xml(served["pdf"])  # the XML inside the PDF
    assert b"<cbc:CustomizationID>" in served["ubl"]
    return served["pdf"]


async def test_a_credit_note_records_and_serves_its_documents_as_issued(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, invoice = await sent_invoice(client, new_account)
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/credit_notes",
        json={"reason": "Billed twice"},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    note = response.json()
    recorded = issued_documents(database_url, note["id"])
    assert sorted(recorded) == ["cii", "pdf", "ubl"]
    pdf = await assert_served_as_recorded(client, account, note["id"], recorded)
    # A refund later changes the credit note, never its documents.
    refund = await client.post(
        f"{CREDIT_NOTES}/{note['id']}/refunds",
        json={"amount_cents": 100, "method": "bank_transfer"},
        headers=account.headers,
    )
    assert refund.status_code in (201, 422), refund.text
    again = await client.get(f"{CREDIT_NOTES}/{note['id']}/pdf", headers=account.headers)
    assert again.content == pdf


async def test_the_cancel_of_an_issued_invoice_issues_its_credit_note_with_documents(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, invoice = await sent_invoice(client, new_account)
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/cancel",
        json={"reason": "Wrong client"},
        headers=account.headers,
    )
    assert response.status_code == 200, response.text
    listed = await client.get(f"{CREDIT_NOTES}?invoice_id={invoice['id']}", headers=account.headers)
    [note] = listed.json()["data"]
    recorded = issued_documents(database_url, note["id"])
    assert sorted(recorded) == ["cii", "pdf", "ubl"]
    await assert_served_as_recorded(client, account, note["id"], recorded)


async def test_audit_verify_names_a_changed_credit_note_pdf(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], database_url: str
) -> None:
    account, invoice = await sent_invoice(client, new_account)
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/credit_notes",
        json={"reason": "Billed twice"},
        headers=account.headers,
    )
    assert response.status_code == 201, response.text
    note = response.json()
    settle(database_url)
    business = str(account.business_id)
    untouched = run_cli(database_url, "audit", "verify", "--business", business)
    assert untouched.returncode == 0, untouched.stdout + untouched.stderr
    # The invoice's three and the credit note's three.
    assert "6 issued document(s) match the SHA-256 their events record" in untouched.stdout
    edit = (
        "UPDATE issued_documents SET content = overlay(content placing '\\x25'::bytea from 200)"
        " WHERE document_id = %s AND kind = %s"
    )
    with tampered(database_url, note["id"], "pdf", edit):
        result = run_cli(database_url, "audit", "verify", "--business", business)
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"credit note {note['id']} document pdf" in result.stdout
        assert "has changed" in result.stdout
    again = run_cli(database_url, "audit", "verify", "--business", business)
    assert again.returncode == 0, again.stdout + again.stderr


async def test_a_credit_note_issued_before_documents_were_recorded_is_still_served(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """Issued as before this change (no digest recorded): PDF and CII rendered on the first
    request into credit_note_documents, UBL made on request; verify counts them as unrecorded."""
    account = seller_account(new_account)
    invoice = await invoice_for(client, account)
    send(invoicing, database_url, account, invoice)
    note = invoicing.issue_credit_note(account.business_id, UUID(invoice["id"]), reason="Old")
    settle(database_url)
    note_id = str(note.value.id)
    assert issued_documents(database_url, note_id) is None
    first = await client.get(f"{CREDIT_NOTES}/{note_id}/pdf", headers=account.headers)
    second = await client.get(f"{CREDIT_NOTES}/{note_id}/pdf", headers=account.headers)
    assert first.status_code == second.status_code == 200, first.text
    assert first.content == second.content
    assert first.headers["etag"] == f'"{sha(first.content)}"'
    cii = await client.get(f"{CREDIT_NOTES}/{note_id}/xml?format=cii", headers=account.headers)
    assert cii.content == embedded_xml(first.content)
    ubl = await client.get(f"{CREDIT_NOTES}/{note_id}/xml", headers=account.headers)
    assert ubl.status_code == 200, ubl.text
    assert b"<cbc:CustomizationID>" in ubl.content
    result = run_cli(database_url, "audit", "verify", "--business", str(account.business_id))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 issued document(s) match" in result.stdout
    assert "2 stored with no recorded hash" in result.stdout


async def test_a_credit_note_refused_by_a_full_render_queue_records_nothing(
    client: AsyncTestClient[Any],
    small_pool_client: AsyncTestClient[Any],  # noqa: F811 (the fixture imported above)
    new_account: Callable[..., Account],
    database_url: str,
) -> None:
    """The documents are rendered before anything is recorded: a credit the PDF pool cannot
    take answers 503, with no credit note, no `credited` and no stored document."""
    account, invoice = await sent_invoice(client, new_account)
    slow = [await invoice_for(client, account, lines=LARGE[:200]) for _ in range(2)]
    pool = pdf_pool(small_pool_client)
    warm = await small_pool_client.get(f"{INVOICES}/{slow[0]['id']}/pdf", headers=account.headers)
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
            refused = await http.post(
                f"{INVOICES}/{invoice['id']}/credit_notes",
                json={"reason": "Billed twice"},
                headers=account.headers,
            )
            return [await first, await second], refused

    drafts, refused = await in_app_loop(small_pool_client, scenario)
    assert [r.status_code for r in drafts] == [200, 200]
    problem = assert_problem(refused, 503)
    assert problem["type"].endswith("/pdf-queue-full"), problem
    with psycopg.connect(database_url) as conn:
        notes = conn.execute(
            "SELECT count(*) FROM invoicing_events WHERE topic = 'fastfaktura:CreditNote.Issued'"
            " AND state::text LIKE %s",
            (f"%{invoice['id']}%",),
        ).fetchone()
    assert notes == (0,)
    shown = await client.get(f"{INVOICES}/{invoice['id']}", headers=account.headers)
    assert shown.json()["amount_credited_cents"] == 0
    listed = await client.get(f"{CREDIT_NOTES}?invoice_id={invoice['id']}", headers=account.headers)
    assert listed.json()["total"] == 0
