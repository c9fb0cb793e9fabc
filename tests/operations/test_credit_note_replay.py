"""Credit notes under `audit replay` and `projections rebuild`: the audit compares the credit
notes and the invoices' credited amounts with their events, names a difference, and a rebuild
restores every answer; random sequences of payments, credit notes, refunds and cancels leave
read models the audit agrees with."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from tests.conftest import Account
from tests.helpers import run_cli, settle
from tests.invoicing_support import INVOICES, get_json, invoice_for

CREDIT_NOTES = "/api/v1/credit_notes"
LINES = [
    {"description": "Work", "quantity": "2.5", "unit_price_cents": 33333, "tax_rate": 20},
    {"description": "Books", "quantity": 3, "unit_price_cents": 1999, "tax_rate": "5.5"},
]


def audit(database_url: str, business_id: UUID) -> tuple[int, str]:
    done = run_cli(database_url, "audit", "replay", "--business", str(business_id))
    return done.returncode, done.stdout + done.stderr


async def random_history(
    client: AsyncTestClient[Any],
    account: Account,
    invoicing: Invoicing,
    database_url: str,
    seed: int,
) -> list[str]:
    """A few invoices taken through random payments, credit notes, refunds and cancels (each
    accepted or refused by the API); the URLs of everything to compare."""
    rng = random.Random(seed)
    urls = [CREDIT_NOTES]
    for _ in range(3):
        invoice = await invoice_for(client, account, invoicing, database_url, lines=LINES)
        base = f"{INVOICES}/{invoice['id']}"
        urls += [base, f"{CREDIT_NOTES}?invoice_id={invoice['id']}"]
        notes: list[str] = []
        for _ in range(rng.randint(2, 7)):
            kind = rng.choice(["pay", "credit", "credit", "credit_all", "refund", "cancel"])
            amount = rng.randint(1, invoice["total_cents"])
            if kind == "pay":
                body: dict[str, Any] = {"amount_cents": amount, "method": "cash"}
                response = await client.post(f"{base}/payments", headers=account.headers, json=body)
            elif kind in ("credit", "credit_all"):
                rate = rng.choice([20, "5.5"])
                line = {
                    "description": "C",
                    "quantity": 1,
                    "unit_price_cents": amount // 2,
                    "tax_rate": rate,
                }
                body = {"reason": kind} | ({"lines": [line]} if kind == "credit" else {})
                response = await client.post(
                    f"{base}/credit_notes", headers=account.headers, json=body
                )
                if response.status_code == 201:
                    notes.append(response.json()["id"])
            elif kind == "refund" and notes:
                response = await client.post(
                    f"{CREDIT_NOTES}/{notes[-1]}/refunds",
                    headers=account.headers,
                    json={"amount_cents": amount // 4 + 1, "method": "bank_transfer"},
                )
            else:
                response = await client.post(f"{base}/cancel", headers=account.headers)
            assert response.status_code in (200, 201, 409, 422), response.text
        urls += [f"{CREDIT_NOTES}/{n}" for n in notes] + [
            f"{CREDIT_NOTES}/{n}/events" for n in notes
        ]
        invoice_now = await get_json(client, account, base)
        assert invoice_now["amount_due_cents"] >= 0
        assert invoice_now["amount_credited_cents"] <= invoice_now["total_cents"]
    return urls


async def test_random_histories_agree_with_the_audit_and_survive_a_rebuild(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Replay Credits AS")
    urls: list[str] = []
    for seed in (1, 2, 3):
        urls += await random_history(client, account, invoicing, database_url, seed)
    settle(database_url)
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM rm_credit_notes WHERE business_id = %s", (account.business_id,)
        ).fetchone()
    assert row is not None
    assert row[0] > 0  # the seeds do issue credit notes
    code, output = audit(database_url, account.business_id)
    assert code == 0, output

    before = {url: await get_json(client, account, url) for url in urls}
    rebuilt = run_cli(database_url, "projections", "rebuild", "credit_notes", "invoices")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert {url: await get_json(client, account, url) for url in urls} == before
    code, output = audit(database_url, account.business_id)
    assert code == 0, output


async def test_the_audit_names_a_credit_note_or_a_credited_amount_that_differs(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Audit Credits AS")
    invoice = await invoice_for(client, account, invoicing, database_url, lines=LINES)
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/credit_notes",
        headers=account.headers,
        json={"reason": "Audit me"},
    )
    assert response.status_code == 201, response.text
    note = response.json()
    settle(database_url)
    assert audit(database_url, account.business_id)[0] == 0
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE rm_credit_notes SET total_cents = 1 WHERE id = %s", (note["id"],))
        conn.execute(
            "UPDATE rm_invoices SET amount_credited_cents = 0 WHERE id = %s", (invoice["id"],)
        )
    code, output = audit(database_url, account.business_id)
    assert code == 1
    said = " ".join(output.split())  # the console wraps long lines
    assert (
        f"rm_credit_notes (business_id={account.business_id}, id={note['id']}): total_cents is 1"
        in said
    )
    assert f"id={invoice['id']}): amount_credited_cents is 0 in the read model" in said
    rebuilt = run_cli(database_url, "projections", "rebuild", "credit_notes", "invoices")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert audit(database_url, account.business_id)[0] == 0
    assert (await get_json(client, account, f"{CREDIT_NOTES}/{note['id']}")) == note


async def test_sent_credit_notes_agree_with_the_audit_and_a_rebuild_delivers_nothing_again(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    account = new_account("Replay Sends AS")
    invoice = await invoice_for(
        client, account, invoicing, database_url, client_fields={"email": "a@replay.example"}
    )
    response = await client.post(
        f"{INVOICES}/{invoice['id']}/credit_notes", headers=account.headers, json={"reason": "R"}
    )
    note = response.json()
    response = await client.post(
        f"{CREDIT_NOTES}/{note['id']}/send",
        headers=account.headers,
        json={"channels": ["email", "link"]},
    )
    assert response.status_code == 200, response.text
    settle(database_url)

    def kept() -> list[tuple[Any, ...]]:
        with psycopg.connect(database_url) as conn:
            return conn.execute(
                "SELECT id, channel FROM sandbox_messages WHERE credit_note_id = %s ORDER BY id",
                (note["id"],),
            ).fetchall()

    def deliveries() -> Any:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(
                "SELECT deliveries FROM rm_credit_notes WHERE id = %s", (note["id"],)
            ).fetchone()
        assert row is not None
        return sorted(row[0], key=lambda d: d["id"])

    before = deliveries()
    assert [d["status"] for d in before] == ["delivered", "delivered"]
    messages = kept()
    assert [channel for _, channel in messages] == ["email"]
    code, output = audit(database_url, account.business_id)
    assert code == 0, output
    rebuilt = run_cli(database_url, "projections", "rebuild", "credit_notes")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    settle(database_url)
    assert deliveries() == before
    assert kept() == messages
    code, output = audit(database_url, account.business_id)
    assert code == 0, output
