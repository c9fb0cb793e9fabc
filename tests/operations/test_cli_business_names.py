"""`--business` takes a business's id or its exact name (keys create/list, users create, audit
replay/verify); a name several businesses share is refused, listing their ids."""

from __future__ import annotations

import json
import secrets

from tests.helpers import run_cli
from tests.operations.test_cli import create_account


def test_business_by_exact_name(database_url: str) -> None:
    name = f"Named By Name {secrets.token_hex(3)}"
    first = create_account(database_url, name=name)
    made = run_cli(database_url, "keys", "create", "--business", name, "--json")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["business_id"] == first["business_id"]
    listed = run_cli(database_url, "keys", "list", "--business", name)
    assert listed.returncode == 0, listed.stderr
    assert first["key_prefix"] in listed.stdout
    email = f"owner-{secrets.token_hex(3)}@named.example"
    owner = run_cli(database_url, "users", "create", "--business", name, "--email", email)
    assert owner.returncode == 0, owner.stderr
    replay = run_cli(database_url, "audit", "replay", "--business", name, "--json")
    assert replay.returncode == 0, replay.stderr
    verify = run_cli(database_url, "audit", "verify", "--business", name)
    assert verify.returncode == 0, verify.stderr
    # Exact: another case, or a part of the name, is no business.
    for other in (name.upper(), name[:-1]):
        missing = run_cli(database_url, "keys", "list", "--business", other)
        assert missing.returncode == 1
        assert "no business" in missing.stderr


def test_a_shared_name_is_refused_listing_the_ids(database_url: str) -> None:
    name = f"Twin Name {secrets.token_hex(3)}"
    twins = [create_account(database_url, name=name)["business_id"] for _ in range(2)]
    result = run_cli(database_url, "keys", "create", "--business", name, "--json")
    assert result.returncode == 1
    assert "ffk_" not in result.stdout
    for business_id in twins:
        assert business_id in result.stderr
    # The id still picks one of them.
    chosen = run_cli(database_url, "keys", "create", "--business", twins[1], "--json")
    assert chosen.returncode == 0, chosen.stderr
    assert json.loads(chosen.stdout)["business_id"] == twins[1]
