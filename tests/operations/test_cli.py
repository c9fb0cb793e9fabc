"""`fastfaktura accounts` and `keys`, run as the installed command against the suite's database."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from uuid import UUID, uuid4

import psycopg
from litestar.testing import AsyncTestClient
from psycopg import sql

from tests.helpers import assert_problem, run_cli

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def create_account(database_url: str, *extra: str, name: str = "CLI Made SARL") -> dict[str, str]:
    result = run_cli(database_url, "accounts", "create", "--name", name, "--json", *extra)
    assert result.returncode == 0, result.stderr
    issued: dict[str, str] = json.loads(result.stdout)
    return issued


async def test_accounts_create_prints_a_sandbox_key_that_works_at_once(
    client: AsyncTestClient[Any], database_url: str
) -> None:
    issued = create_account(database_url, name="Café Müller & Co")
    assert set(issued) == {"business_id", "api_key", "key_prefix"}
    UUID(issued["business_id"])
    assert issued["api_key"].startswith("ffk_test_")
    assert issued["key_prefix"] == issued["api_key"][:16]

    for headers in (
        {"X-Api-Key": issued["api_key"]},
        {"Authorization": f"Bearer {issued['api_key']}"},
    ):
        response = await client.get("/api/v1/business", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["id"] == issued["business_id"]
        assert body["name"] == "Café Müller & Co"
        assert body["mode"] == "sandbox"


async def test_accounts_create_live_prints_a_live_key(
    client: AsyncTestClient[Any], database_url: str
) -> None:
    issued = create_account(database_url, "--live", name="Live Made AS")
    assert issued["api_key"].startswith("ffk_live_")
    assert issued["key_prefix"] == issued["api_key"][:16]
    response = await client.get("/api/v1/business", headers={"X-Api-Key": issued["api_key"]})
    assert response.status_code == 200
    assert response.json()["mode"] == "live"


def test_accounts_create_without_json_shows_the_key_once_in_text(database_url: str) -> None:
    result = run_cli(database_url, "accounts", "create", "--name", "Text Output AB")
    assert result.returncode == 0, result.stderr
    key = re.search(r"ffk_test_[A-Za-z0-9_-]{43}", result.stdout)
    assert key is not None, result.stdout
    assert key.group(0)[:16] in result.stdout.replace(key.group(0), "")


async def test_keys_create_list_and_revoke(client: AsyncTestClient[Any], database_url: str) -> None:
    first = create_account(database_url, name="Key Ring Oy")
    business = first["business_id"]
    made = run_cli(database_url, "keys", "create", "--business", business, "--json")
    assert made.returncode == 0, made.stderr
    second = json.loads(made.stdout)
    assert second["business_id"] == business
    assert second["api_key"].startswith("ffk_test_")
    assert second["key_prefix"] == second["api_key"][:16]
    assert second["api_key"] != first["api_key"]
    for key in (first, second):
        response = await client.get("/api/v1/business", headers={"X-Api-Key": key["api_key"]})
        assert response.json()["id"] == business

    listed = run_cli(database_url, "keys", "list", "--business", business)
    assert listed.returncode == 0, listed.stderr
    assert first["key_prefix"] in listed.stdout
    assert second["key_prefix"] in listed.stdout
    for key in (first, second):  # shown once: never the whole key again
        assert key["api_key"] not in listed.stdout
        assert key["api_key"][16:24] not in listed.stdout

    revoked = run_cli(database_url, "keys", "revoke", first["key_prefix"])
    assert revoked.returncode == 0, revoked.stderr
    gone = await client.get("/api/v1/business", headers={"X-Api-Key": first["api_key"]})
    assert_problem(gone, 401)
    kept = await client.get("/api/v1/business", headers={"X-Api-Key": second["api_key"]})
    assert kept.status_code == 200

    relisted = run_cli(database_url, "keys", "list", "--business", business).stdout
    lines = {
        key["key_prefix"]: next(line for line in relisted.splitlines() if key["key_prefix"] in line)
        for key in (first, second)
    }
    assert len(DATE.findall(lines[first["key_prefix"]])) == 2  # issued_at and revoked_at
    assert len(DATE.findall(lines[second["key_prefix"]])) == 1  # issued_at only

    again = run_cli(database_url, "keys", "revoke", first["key_prefix"])
    assert again.returncode == 0, again.stderr  # revoking twice is harmless


def test_keys_commands_refuse_unknown_businesses_and_prefixes(database_url: str) -> None:
    missing = run_cli(database_url, "keys", "create", "--business", str(uuid4()), "--json")
    assert missing.returncode == 1
    assert "ffk_" not in missing.stdout
    unknown = run_cli(database_url, "keys", "revoke", "ffk_test_nosuchk")
    assert unknown.returncode == 1
    assert "ffk_test_nosuchk" in unknown.stderr


def test_only_the_sha256_of_a_key_is_ever_stored(database_url: str) -> None:
    issued = create_account(database_url, name="Hash Only GmbH")
    secret = issued["api_key"]
    digest = hashlib.sha256(secret.encode()).hexdigest()
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT key_hash, key_prefix FROM rm_api_keys WHERE business_id = %s",
            (UUID(issued["business_id"]),),
        ).fetchall()
        assert rows == [(digest, secret[:16])]
        # The raw bytes of every stored event: the hash is there, the key is not.
        with_hash = conn.execute(
            "SELECT count(*) FROM invoicing_events WHERE position(%s::bytea in state) > 0",
            (digest.encode(),),
        ).fetchone()
        assert with_hash == (1,)
        for fragment in (secret, secret[16:]):
            found = conn.execute(
                "SELECT count(*) FROM invoicing_events WHERE position(%s::bytea in state) > 0",
                (fragment.encode(),),
            ).fetchone()
            assert found == (0,), fragment
        # Nor anywhere in any other table of the database.
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        ).fetchall()
        assert ("rm_api_keys",) in tables
        for (table,) in tables:
            hits = conn.execute(
                sql.SQL("SELECT count(*) FROM {} t WHERE strpos(t::text, %s) > 0").format(
                    sql.Identifier(table)
                ),
                (secret[16:],),
            ).fetchone()
            assert hits == (0,), table
