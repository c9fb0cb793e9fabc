"""Whether an invoice was ever sent is in the invoices read model (`rm_invoices.was_sent`): the
PDF and the public page read it there, never the aggregate; rebuild, the audit and the
migration that added the column all agree with the events."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.adapters.pdf.document import DRAFT_MARKS
from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.audit import compare
from fastfaktura.readmodels.models import InvoicesReadModel
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account
from tests.documents.support import attachments, get_pdf, invoice_for, pages_text, seller_account
from tests.helpers import settle
from tests.invoicing_support import INVOICES

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "0010_invoices_was_sent.sql"


def was_sent(database_url: str, invoice_id: str) -> bool:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT was_sent FROM rm_invoices WHERE id = %s", (invoice_id,))
        return bool(row.fetchone()[0])  # type: ignore[index]


def set_was_sent(database_url: str, invoice_id: str, value: bool) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE rm_invoices SET was_sent = %s WHERE id = %s", (value, invoice_id))


async def cancelled_pair(
    client: AsyncTestClient[Any], invoicing: Invoicing, database_url: str, account: Account
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two cancelled invoices: one never sent, one sent first."""
    unsent = await invoice_for(client, account, locale="nb")
    sent = await invoice_for(client, account, locale="nb")
    invoicing.send_invoice(account.business_id, UUID(sent["id"]), ["link"])
    settle(database_url)
    for invoice in (unsent, sent):
        answer = await client.post(f"{INVOICES}/{invoice['id']}/cancel", headers=account.headers)
        assert answer.status_code == 200, answer.text
    return unsent, sent


async def test_the_read_model_records_whether_a_cancelled_invoice_was_sent(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account)
    unsent, sent = await cancelled_pair(client, invoicing, database_url, account)
    assert not was_sent(database_url, unsent["id"])
    assert was_sent(database_url, sent["id"])


async def test_the_pdf_and_public_page_follow_the_read_model_and_rebuild_restores_it(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account)
    _, sent = await cancelled_pair(client, invoicing, database_url, account)
    public_pdf = sent["public_url"].removeprefix("http://testserver") + "/pdf"
    assert (await client.get(public_pdf)).status_code == 200
    # The row says "never sent" (tampered): the answers follow it, so they do not ask the
    # aggregate, and the audit reports the column.
    set_was_sent(database_url, sent["id"], False)
    assert (await client.get(public_pdf)).status_code == 404
    pdf = await get_pdf(client, account, sent["id"])
    assert DRAFT_MARKS["nb"] in pages_text(pdf)[0]
    events = event_reader(invoicing)
    model = InvoicesReadModel()
    differences = compare(events, database_url, model, business_id=account.business_id)
    assert [(d.key["id"], d.problem.split(" ")[0]) for d in differences] == [
        (sent["id"], "was_sent")
    ]
    rebuild(events, database_url, model)
    assert was_sent(database_url, sent["id"])
    assert (await client.get(public_pdf)).status_code == 200
    assert attachments(await get_pdf(client, account, sent["id"])) != []  # Factur-X again


async def test_the_migration_backfills_what_the_projection_computes(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = seller_account(new_account)
    unsent, sent = await cancelled_pair(client, invoicing, database_url, account)
    draft = await invoice_for(client, account)
    open_one = await invoice_for(client, account)
    invoicing.send_invoice(account.business_id, UUID(open_one["id"]), ["link"])
    settle(database_url)
    ids = [unsent["id"], sent["id"], draft["id"], open_one["id"]]
    projected = [was_sent(database_url, i) for i in ids]
    assert projected == [False, True, False, True]
    backfill = MIGRATION.read_text().split(";", 1)[1]  # what follows the ALTER TABLE
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "UPDATE rm_invoices SET was_sent = NOT was_sent WHERE business_id = %s",
            (account.business_id,),
        )
        conn.execute(backfill)
    assert [was_sent(database_url, i) for i in ids] == projected
