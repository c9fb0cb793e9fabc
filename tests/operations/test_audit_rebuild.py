"""`audit replay` finds what differs from the events, `projections rebuild` restores it, and a
rebuild (also beside the live projections, under writes) changes no API answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import psycopg
from litestar.testing import AsyncTestClient

from fastfaktura.application import Invoicing
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels import audit
from fastfaktura.readmodels.models import read_model
from fastfaktura.readmodels.rebuild import RebuildResult, rebuild
from tests.conftest import Account
from tests.helpers import run_cli, settle

CLIENTS = "/api/v1/clients"


async def populate(client: AsyncTestClient[Any], account: Account) -> list[str]:
    """A business with varied clients: full details, tags, external ids, one archived."""
    bodies: list[dict[str, Any]] = [
        {"name": "Zeta AB", "email": "z@zeta.example", "locale": "sv", "tags": ["b", "a"]},
        {"name": "alpha SARL", "phone": "+33612345678", "country": "FR", "external_id": "A-1"},
        {"name": "Mid Oy", "address": "Street 1\nHelsinki", "vat_number": "FI12345678"},
        {"name": "Archived Ltd", "external_id": "ARCH"},
    ]
    ids = []
    for body in bodies:
        response = await client.post(CLIENTS, headers=account.headers, json=body)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    changed = await client.put(
        f"{CLIENTS}/{ids[2]}", headers=account.headers, json={"email": "mid@mid.example"}
    )
    assert changed.status_code == 200
    archived = await client.delete(f"{CLIENTS}/{ids[3]}", headers=account.headers)
    assert archived.status_code == 200
    profile = await client.put(
        "/api/v1/business",
        headers=account.headers,
        json={"legal_name": "Rebuild Test SAS", "payment_terms_days": 14},
    )
    assert profile.status_code == 200
    return ids


async def answers(client: AsyncTestClient[Any], account: Account, ids: list[str]) -> dict[str, Any]:
    """Every GET answer about this business, by URL."""
    urls = [
        "/api/v1/business",
        CLIENTS,
        f"{CLIENTS}?archived=true",
        f"{CLIENTS}?archived=true&per_page=2&page=2",
        f"{CLIENTS}?q=ALPHA",
        *(f"{CLIENTS}/{i}" for i in ids),
    ]
    seen = {}
    for url in urls:
        response = await client.get(url, headers=account.headers)
        assert response.status_code == 200, (url, response.text)
        seen[url] = response.json()
    return seen


def audit_replay(database_url: str, business_id: UUID, *extra: str) -> Any:
    return run_cli(database_url, "audit", "replay", "--business", str(business_id), *extra)


async def test_audit_names_a_deleted_row_and_rebuild_restores_every_answer(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    database_url: str,
) -> None:
    account = new_account("Audit Rebuild SAS")
    ids = await populate(client, account)
    settle(database_url)
    before = await answers(client, account, ids)
    clean = audit_replay(database_url, account.business_id)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    victim = ids[1]
    with psycopg.connect(database_url, autocommit=True) as conn:
        deleted = conn.execute("DELETE FROM rm_clients WHERE id = %s", (UUID(victim),))
        assert deleted.rowcount == 1
    assert (await client.get(f"{CLIENTS}/{victim}", headers=account.headers)).status_code == 404

    found = audit_replay(database_url, account.business_id)
    assert found.returncode == 1, found.stdout + found.stderr
    assert "rm_clients" in found.stdout
    assert victim in found.stdout
    assert "missing" in found.stdout
    as_json = json.loads(audit_replay(database_url, account.business_id, "--json").stdout)
    assert as_json["ok"] is False
    assert [(d["table"], d["key"]["id"]) for d in as_json["differences"]] == [
        ("rm_clients", victim)
    ]

    rebuilt = run_cli(database_url, "projections", "rebuild", "--all")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    again = audit_replay(database_url, account.business_id)
    assert again.returncode == 0, again.stdout + again.stderr
    # Every answer is exactly what it was before the row went missing and the rebuild.
    assert await answers(client, account, ids) == before

    # The live projections keep working on the swapped-in tables.
    later = await client.post(CLIENTS, headers=account.headers, json={"name": "After Rebuild"})
    assert later.status_code == 201
    assert (await client.get(later.headers["location"], headers=account.headers)).json() == (
        later.json()
    )
    listed = await client.get(f"{CLIENTS}?q=after", headers=account.headers)
    assert [c["id"] for c in listed.json()["data"]] == [later.json()["id"]]


async def test_audit_names_tampered_and_invented_rows_in_every_read_model(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    database_url: str,
) -> None:
    account = new_account("Tamper Check AS")
    ids = await populate(client, account)
    settle(database_url)
    before = await answers(client, account, ids)
    ghost = uuid4()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("UPDATE rm_clients SET name = 'Tampered' WHERE id = %s", (UUID(ids[0]),))
        conn.execute(
            "UPDATE rm_business SET payment_terms_days = 99 WHERE business_id = %s",
            (account.business_id,),
        )
        conn.execute(
            "UPDATE rm_api_keys SET revoked_at = now() WHERE key_prefix = %s",
            (account.key_prefix,),
        )
        conn.execute(
            "INSERT INTO rm_clients SELECT business_id, %s, 'Ghost', email, phone, address,"
            " country, locale, external_id, tags, vat_number, company_id, archived_at, version,"
            " created_at, updated_at FROM rm_clients WHERE id = %s",
            (ghost, UUID(ids[2])),
        )
    found = audit_replay(database_url, account.business_id, "--json")
    assert found.returncode == 1, found.stdout + found.stderr
    differences = json.loads(found.stdout)["differences"]
    named = {
        (d["table"], d["key"].get("id") or d["key"].get("key_hash") or d["key"]["business_id"])
        for d in differences
    }
    key_hash = next(d["key"]["key_hash"] for d in differences if d["table"] == "rm_api_keys")
    assert named == {
        ("rm_clients", ids[0]),
        ("rm_clients", str(ghost)),
        ("rm_business", str(account.business_id)),
        ("rm_api_keys", key_hash),
    }
    texts = " ".join(d["text"] for d in differences)
    assert "'Tampered'" in texts
    assert "99" in texts
    assert "not in the events" in texts

    rebuilt = run_cli(database_url, "projections", "rebuild", "business", "api_keys", "clients")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert audit_replay(database_url, account.business_id).returncode == 0
    assert await answers(client, account, ids) == before
    assert (await client.get(f"{CLIENTS}/{ghost}", headers=account.headers)).status_code == 404


async def test_rebuild_beside_the_live_projections_under_writes_loses_nothing(
    client: AsyncTestClient[Any],
    new_account: Callable[..., Account],
    invoicing: Invoicing,
    database_url: str,
) -> None:
    """Readers never see a half-built model, and every write during the rebuild is kept."""
    model = read_model("clients")
    reader = new_account("Steady Reader AB")
    steady = await populate(client, reader)
    writer = new_account("Busy Writer Oy")
    settle(database_url)
    expected_total = (await client.get(f"{CLIENTS}?archived=true", headers=reader.headers)).json()[
        "total"
    ]
    assert expected_total == len(steady)

    def rebuild_repeatedly() -> list[RebuildResult]:
        return [rebuild(event_reader(invoicing), database_url, model) for _ in range(3)]

    # A real thread: the test client runs each request to completion on its own portal, so
    # an asyncio task would only start once the writes are over.
    pool = ThreadPoolExecutor(max_workers=1)
    rebuilding = pool.submit(rebuild_repeatedly)
    written: list[str] = []
    totals: list[int] = []
    during = 0  # writes answered while the rebuilds were still running
    while not rebuilding.done() or len(written) < 10:
        during += 0 if rebuilding.done() else 1
        response = await client.post(
            CLIENTS, headers=writer.headers, json={"name": f"Concurrent {len(written):03d}"}
        )
        assert response.status_code == 201, response.text
        written.append(response.json()["id"])
        if len(written) % 3 == 0:
            await client.put(
                f"{CLIENTS}/{written[-1]}", headers=writer.headers, json={"tags": ["edited"]}
            )
        page = await client.get(f"{CLIENTS}?archived=true", headers=reader.headers)
        totals.append(page.json()["total"])
        assert len(written) < 2000, "the rebuild does not finish"
    results = rebuilding.result(timeout=60)
    pool.shutdown()
    assert all(result.events > 0 for result in results)
    assert during >= 3, during

    assert set(totals) == {expected_total}  # never a half-built list
    settle(database_url)
    assert audit.compare(event_reader(invoicing), database_url, model) == []
    assert (
        audit.compare(event_reader(invoicing), database_url, model, business_id=writer.business_id)
        == []
    )
    listed = await client.get(f"{CLIENTS}?per_page=100", headers=writer.headers)
    assert listed.json()["total"] == len(written)
    assert {c["id"] for c in listed.json()["data"]} >= set(written[:100])
    for client_id in written[2::3]:
        one = await client.get(f"{CLIENTS}/{client_id}", headers=writer.headers)
        assert one.json()["tags"] == ["edited"]
