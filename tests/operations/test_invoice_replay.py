"""Invoices under audit replay and rebuild: the read model is exactly the events' projection,
tampering is found and named, a rebuild restores it, and `audit replay --as-of` time-travels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.audit import compare
from fastfaktura.readmodels.models import InvoicesReadModel
from fastfaktura.readmodels.rebuild import rebuild
from tests.conftest import Account
from tests.helpers import settle
from tests.invoicing_support import INVOICES, create_client, create_invoice, get_json

CLI = Path(sys.executable).with_name("fastfaktura")
LINES: list[dict[str, Any]] = [
    {"description": "Audit work", "quantity": 2.5, "unit_price_cents": 3999, "tax_rate": 20},
    {"description": "Books", "quantity": 1, "unit_price_cents": 1250, "tax_rate": 5.5},
]


async def _answers(
    client: AsyncTestClient[Any], account: Account, ids: list[str]
) -> list[dict[str, Any]]:
    """Every GET answer about these invoices, raw."""
    urls = [INVOICES, f"{INVOICES}?status=draft", f"{INVOICES}?per_page=1&page=2"]
    urls += [f"{INVOICES}/{i}" for i in ids] + [f"{INVOICES}/{i}/events" for i in ids]
    answers = []
    for url in urls:
        response = await client.get(url, headers=account.headers)
        assert response.status_code == 200, (url, response.text)
        answers.append({"url": url, "content": response.content})
    return answers


async def test_audit_finds_tampering_and_rebuild_restores_every_answer(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Audit Trail SARL")
    buyer = await create_client(client, account)
    invoices = [await create_invoice(client, account, buyer["id"], lines=LINES) for _ in range(3)]
    ids = [inv["id"] for inv in invoices]
    settle(database_url)
    model = InvoicesReadModel()

    assert (
        compare(event_reader(invoicing), database_url, model) == []
    )  # the whole store, every business
    before = await _answers(client, account, ids)

    target = ids[1]
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE rm_invoices SET total_cents = 1 WHERE id = %s", (target,))
    # The list reads rm_invoices (GET by id reads the answer the projection encoded, in
    # rm_invoice_responses since issue 12).
    listed = await get_json(client, account, INVOICES)
    tampered = next(invoice for invoice in listed["data"] if invoice["id"] == target)
    assert tampered["total_cents"] == 1  # GET reads the read model

    differences = compare(
        event_reader(invoicing), database_url, model, business_id=account.business_id
    )
    assert len(differences) == 1, differences
    difference = differences[0]
    assert difference.table == "rm_invoices"
    assert difference.key == {"business_id": str(account.business_id), "id": target}
    assert difference.problem.startswith("total_cents ")
    assert "total_cents" in str(difference)
    assert str(invoices[1]["total_cents"]) in difference.problem
    assert compare(event_reader(invoicing), database_url, model) == differences

    result = rebuild(event_reader(invoicing), database_url, model)
    assert result.name == "invoices"
    assert result.events >= 3
    assert compare(event_reader(invoicing), database_url, model) == []
    assert await _answers(client, account, ids) == before

    # The live projection carries on after the swap: a new invoice is projected and listed.
    later = await create_invoice(client, account, buyer["id"])
    listed = await get_json(client, account, INVOICES)
    assert listed["total"] == 4
    assert listed["data"][0]["id"] == later["id"]
    settle(database_url)
    assert compare(event_reader(invoicing), database_url, model) == []


async def test_audit_names_a_missing_row_and_a_row_without_events(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Missing Row AS")
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"])
    settle(database_url)
    model = InvoicesReadModel()
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT * FROM rm_invoices WHERE id = %s", (invoice["id"],)).fetchone()
        assert row is not None
        # A forged row: a copy under an id that no event stream has.
        conn.execute(
            "INSERT INTO rm_invoices SELECT business_id, gen_random_uuid(), 'F-FORGED',"
            " client_id, currency, status, issue_date, due_date, notes, subtotal_cents,"
            " tax_cents, total_cents, amount_paid_cents, amount_due_cents, lines,"
            " tax_breakdown, seller, buyer, 'forged-token', version, created_at, updated_at"
            " FROM rm_invoices WHERE id = %s",
            (invoice["id"],),
        )
        conn.execute("DELETE FROM rm_invoices WHERE id = %s", (invoice["id"],))
    try:
        problems = sorted(
            d.problem
            for d in compare(
                event_reader(invoicing), database_url, model, business_id=account.business_id
            )
        )
        # Reported in id order, which is not part of the contract: compare as a set.
        assert problems == [
            "in the read model but not in the events",
            "missing from the read model",
        ]
    finally:
        rebuild(event_reader(invoicing), database_url, model)
    assert (
        compare(event_reader(invoicing), database_url, model, business_id=account.business_id) == []
    )


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
        "COLUMNS": "200",
    }
    return subprocess.run(
        [str(CLI), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_cli_audit_replay_shows_an_invoice_as_it_stood(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    buyer = await create_client(client, account)
    invoice = await create_invoice(client, account, buyer["id"], lines=LINES, notes="as of")
    created_at = datetime.fromisoformat(invoice["created_at"].replace("Z", "+00:00"))

    earlier = (created_at - timedelta(seconds=1)).isoformat()
    gone = _cli(
        database_url, "audit", "replay", "--invoice", invoice["id"], "--as-of", earlier, "--json"
    )
    assert gone.returncode == 1, (gone.stdout, gone.stderr)
    assert "did not exist" in " ".join(gone.stderr.split())
    assert invoice["id"] in gone.stderr.replace("\n", "")

    later = (created_at + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    shown = _cli(
        database_url, "audit", "replay", "--invoice", invoice["id"], "--as-of", later, "--json"
    )
    assert shown.returncode == 0, (shown.stdout, shown.stderr)
    report = json.loads(shown.stdout)
    assert datetime.fromisoformat(report["as_of"]) == created_at + timedelta(seconds=1)
    assert len(report["states"]) == 1
    state = report["states"][0]
    assert state["table"] == "rm_invoices"
    assert UUID(state["id"]) == UUID(invoice["id"])
    assert UUID(state["business_id"]) == account.business_id
    assert state["number"] == invoice["number"]
    assert state["status"] == "draft"
    assert state["notes"] == "as of"
    # 2.5 * 3999 = 9997.5 -> 9998 at 20 % (1999.6 -> 2000); 1250 at 5.5 % (68.75 -> 69)
    assert (state["subtotal_cents"], state["tax_cents"], state["total_cents"]) == (
        11248,
        2069,
        13317,
    )
    for field in ("subtotal_cents", "tax_cents", "total_cents", "amount_due_cents"):
        assert state[field] == invoice[field], field
    assert state["amount_paid_cents"] == 0
    assert state["issue_date"] == invoice["issue_date"]
    assert state["due_date"] == invoice["due_date"]
