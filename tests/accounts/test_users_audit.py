"""Users and named keys are events like everything else: `audit replay` finds a tampered
rm_users row or key name, and `projections rebuild` restores them from the events."""

from __future__ import annotations

import json
from datetime import timedelta

import psycopg

from fastfaktura.application import Invoicing
from fastfaktura.domain.user import parse_link_token
from fastfaktura.event_reader import event_reader
from fastfaktura.readmodels.catchup import catch_up
from fastfaktura.readmodels.models import READ_MODELS
from tests.conftest import Account
from tests.helpers import run_cli


def test_audit_finds_a_tampered_user_and_key_name_and_rebuild_restores_them(
    invoicing: Invoicing, account: Account, database_url: str
) -> None:
    signed_up = invoicing.sign_up(
        "Audited AB", "audited@audit-users.example", "$argon2id$signed"
    ).value
    link = invoicing.add_owner(
        account.business_id, "second@audit-users.example", timedelta(hours=1)
    ).value
    parsed = parse_link_token(link.token)
    assert parsed is not None
    invoicing.set_password_with_link(*parsed, "$argon2id$second")
    invoicing.issue_api_key(account.business_id, "named key")
    for model in READ_MODELS:
        catch_up(event_reader(invoicing), database_url, model)
    audit = ["audit", "replay", "--business", str(account.business_id), "--json"]
    clean = run_cli(database_url, *audit)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE rm_users SET password_hash = 'stolen'"
            " WHERE email = 'second@audit-users.example'"
        )
        conn.execute("UPDATE rm_api_keys SET name = 'renamed' WHERE name = 'named key'")
        conn.execute("DELETE FROM rm_users WHERE user_id = %s", (signed_up.id,))
    found = run_cli(database_url, *audit)
    assert found.returncode == 1, found.stdout + found.stderr
    tables = sorted(d["table"] for d in json.loads(found.stdout)["differences"])
    assert tables == ["rm_api_keys", "rm_users"]
    everyone = run_cli(database_url, "audit", "replay", "--json")
    assert sorted(d["table"] for d in json.loads(everyone.stdout)["differences"]) == [
        "rm_api_keys",
        "rm_users",
        "rm_users",
    ]

    rebuilt = run_cli(database_url, "projections", "rebuild", "users", "api_keys")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert run_cli(database_url, "audit", "replay").returncode == 0
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT email, password_hash FROM rm_users WHERE email LIKE '%%@audit-users.example'"
            " ORDER BY email"
        ).fetchall()
    assert rows == [
        ("audited@audit-users.example", "$argon2id$signed"),
        ("second@audit-users.example", "$argon2id$second"),
    ]
