"""The legal checks before issue through the API (API.md "E-invoices and legal checks"): the
first send and a credit note refused with every broken rule and nothing recorded, the
validation endpoint, the sandbox sample profile, and tenancy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import Account, StoreProbe
from tests.helpers import assert_problem, assert_rejected, settle
from tests.invoicing_support import BUSINESS, INVOICES, create_client, create_invoice, get_json

SEND = {"channels": ["link"]}
# A live business's own legal profile, complete (a Norwegian seller: NO rules apply).
NORWEGIAN_PROFILE = {
    "address": "Storgata 1, 0155 Oslo",
    "country": "NO",
    "company_id": "974760673",
    "vat_number": "NO974760673MVA",
    "iban": "NO9386011117947",
    "currency": "EUR",
}


def rules(body: dict[str, Any], key: str = "errors") -> set[tuple[str, str]]:
    return {(e["field"], e["rule"]) for e in body[key]}


async def validation(client: AsyncTestClient[Any], account: Account, invoice_id: str) -> Any:
    return await get_json(client, account, f"{INVOICES}/{invoice_id}/validation")


async def test_a_live_business_without_a_legal_profile_cannot_issue_and_nothing_is_recorded(
    client: AsyncTestClient[Any], new_account: Callable[..., Account], store: StoreProbe
) -> None:
    account = new_account("Fresh Live SARL", mode="live")
    buyer = await create_client(client, account, "Acme", email="ap@acme.example", country="FR")
    invoice = await create_invoice(client, account, buyer["id"])

    body = await assert_rejected(
        client,
        store,
        "POST",
        f"{INVOICES}/{invoice['id']}/send",
        status=422,
        headers=account.headers,
        json=SEND,
    )
    broken = rules(body)
    assert {
        ("business.address", "BR-08"),
        ("business.country", "BR-09"),
        ("business.company_id", "BR-CO-26"),
        ("business.vat_number", "BR-S-02"),
    } <= broken
    assert all(e["message"] for e in body["errors"])
    fetched = await get_json(client, account, f"{INVOICES}/{invoice['id']}")
    assert fetched["status"] == "draft"

    # The validation endpoint reports the same rules, for the draft as its send would meet them.
    report = await validation(client, account, invoice["id"])
    assert report["valid"] is False
    assert rules(report) == broken

    # Completed: the draft takes the profile when it is edited (its parties are frozen again).
    changed = await client.put(BUSINESS, headers=account.headers, json=NORWEGIAN_PROFILE)
    assert changed.status_code == 200, changed.text
    assert (await validation(client, account, invoice["id"]))["valid"] is False
    edited = await client.put(f"{INVOICES}/{invoice['id']}", headers=account.headers, json={})
    assert edited.status_code == 200, edited.text
    report = await validation(client, account, invoice["id"])
    assert (report["valid"], report["errors"]) == (True, [])
    sent = await client.post(f"{INVOICES}/{invoice['id']}/send", headers=account.headers, json=SEND)
    assert sent.status_code == 200, sent.text


async def test_a_new_sandbox_business_can_send_at_once_with_its_sample_profile(
    client: AsyncTestClient[Any], account: Account
) -> None:
    profile = await get_json(client, account, BUSINESS)
    for field in ("address", "country", "company_id", "vat_number", "iban"):
        assert profile[field], field
    buyer = await create_client(client, account, "Walk-in", email="walk@in.example")
    invoice = await create_invoice(client, account, buyer["id"])
    report = await validation(client, account, invoice["id"])
    assert (report["valid"], report["errors"]) == (True, [])
    # No country: taken to be the seller's, with a warning.
    assert ("client.country", "FF-BUYER-COUNTRY") in rules(report, "warnings")
    sent = await client.post(f"{INVOICES}/{invoice['id']}/send", headers=account.headers, json=SEND)
    assert sent.status_code == 200, sent.text


async def test_send_lists_the_channel_and_legal_errors_together(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    # A French seller's B2B invoice to a French client needs the client's SIREN (BR-FR-11).
    buyer = await create_client(
        client, account, "Client SAS", country="FR", vat_number="FR44732829320"
    )
    invoice = await create_invoice(client, account, buyer["id"])
    body = await assert_rejected(
        client,
        store,
        "POST",
        f"{INVOICES}/{invoice['id']}/send",
        status=422,
        headers=account.headers,
        json={"channels": ["email", "link"]},
    )
    fields = {(e["field"], e.get("rule")) for e in body["errors"]}
    assert fields == {("channels", None), ("client.company_id", "BR-FR-11")}


async def test_a_reminder_is_not_checked_again(
    client: AsyncTestClient[Any], account: Account
) -> None:
    buyer = await create_client(client, account, "Reminded", country="FR", email="r@x.example")
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}/send"
    assert (await client.post(url, headers=account.headers, json=SEND)).status_code == 200
    # The profile breaks a rule now; the issued invoice's reminder is not an issue.
    changed = await client.put(BUSINESS, headers=account.headers, json={"address": None})
    assert changed.status_code == 200, changed.text
    reminder = await client.post(
        url, headers=account.headers, json={"channels": ["link"], "reminder": True}
    )
    assert reminder.status_code == 200, reminder.text


async def test_a_credit_note_that_would_break_a_rule_is_refused_and_nothing_is_recorded(
    client: AsyncTestClient[Any], account: Account, store: StoreProbe
) -> None:
    buyer = await create_client(client, account, "Credited", country="FR", email="c@x.example")
    invoice = await create_invoice(client, account, buyer["id"])
    sent = await client.post(f"{INVOICES}/{invoice['id']}/send", headers=account.headers, json=SEND)
    assert sent.status_code == 200, sent.text
    changed = await client.put(
        BUSINESS,
        headers=account.headers,
        json={"address": None, "vat_number": "FR00732829320"},
    )
    assert changed.status_code == 200, changed.text
    settle(store.database_url)
    body = await assert_rejected(
        client,
        store,
        "POST",
        f"{INVOICES}/{invoice['id']}/credit_notes",
        status=422,
        headers=account.headers,
        json={"reason": "Returned"},
    )
    assert rules(body) == {("business.address", "BR-08"), ("business.vat_number", "FF-SELLER-VAT")}


async def test_validation_is_tenant_scoped_and_takes_no_query_parameters(
    client: AsyncTestClient[Any], account: Account, new_account: Callable[..., Account]
) -> None:
    buyer = await create_client(client, account, "Mine", country="FR")
    invoice = await create_invoice(client, account, buyer["id"])
    url = f"{INVOICES}/{invoice['id']}/validation"
    intruder = new_account("Intruder SARL")
    for target in (url, f"{INVOICES}/not-a-uuid/validation"):
        assert_problem(await client.get(target, headers=intruder.headers), 404)
    assert_problem(
        await client.get(f"{INVOICES}/{buyer['id']}/validation", headers=account.headers), 404
    )
    assert_problem(await client.get(url), 401)
    unknown = assert_problem(await client.get(f"{url}?strict=1", headers=account.headers), 422)
    assert [e["field"] for e in unknown["errors"]] == ["strict"]
