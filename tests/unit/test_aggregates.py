"""The foundation's aggregates, without a database: what each command decides and records."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate

from fastfaktura.domain.api_key import (
    KEY_PREFIX_LENGTH,
    ApiKey,
    hash_key,
    id_for_prefix,
    key_prefix,
    new_key_secret,
)
from fastfaktura.domain.business import EDITABLE_FIELDS, PROFILE_DEFAULTS, Business
from fastfaktura.domain.client import (
    CLIENT_FIELDS,
    Client,
    ClientArchivedError,
    ExternalIdClaim,
    claim_id,
)
from fastfaktura.domain.errors import ConflictError, ExternalIdTaken
from fastfaktura.readmodels.model import Folder

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def recorded(aggregate: Aggregate) -> list[tuple[str, dict[str, Any]]]:
    """The pending events (class name, payload) and clears them, as a save would."""
    events = aggregate.collect_events()
    return [
        (
            type(e).__name__,
            {
                k: v
                for k, v in vars(e).items()
                if k not in ("originator_id", "originator_version", "timestamp")
            },
        )
        for e in events
    ]


# -- API keys ---------------------------------------------------------------------------------


def test_new_key_secrets_carry_their_mode_and_256_random_bits() -> None:
    sandbox, live = new_key_secret("sandbox"), new_key_secret("live")
    assert sandbox.startswith("ffk_test_")
    assert live.startswith("ffk_live_")
    for secret in (sandbox, live):
        assert re.fullmatch(r"ffk_(test|live)_[A-Za-z0-9_-]{43}", secret)
    assert len({new_key_secret("sandbox") for _ in range(100)}) == 100


def test_key_hash_is_sha256_hex_and_prefix_its_first_16_characters() -> None:
    secret = new_key_secret("sandbox")
    assert hash_key(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert KEY_PREFIX_LENGTH == 16
    assert key_prefix(secret) == secret[:16]
    assert secret not in hash_key(secret)


def test_api_key_id_derives_from_its_prefix_and_revokes_once() -> None:
    secret = new_key_secret("live")
    business_id = uuid4()
    api_key = ApiKey(
        business_id=business_id,
        key_prefix=key_prefix(secret),
        key_hash=hash_key(secret),
        mode="live",
        issued_at=NOW,
    )
    assert api_key.id == id_for_prefix(key_prefix(secret))
    assert id_for_prefix(key_prefix(secret)) != id_for_prefix(key_prefix(new_key_secret("live")))
    created = recorded(api_key)
    assert [name for name, _ in created] == ["Created"]
    assert created[0][1]["key_hash"] == hash_key(secret)
    assert secret not in repr(created)
    assert api_key.revoked_at is None

    api_key.revoke(NOW)
    api_key.revoke(NOW + timedelta(days=1))
    assert recorded(api_key) == [("Revoked", {"revoked_at": NOW})]
    assert api_key.revoked_at == NOW


# -- business -------------------------------------------------------------------------------


def test_business_registers_with_the_documented_defaults() -> None:
    business = Business.register(name="Nord AS", mode="sandbox", locale="nb", currency="NOK")
    assert business.name == "Nord AS"
    assert business.mode == "sandbox"
    assert business.profile == {**PROFILE_DEFAULTS, "locale": "nb", "currency": "NOK"}
    assert PROFILE_DEFAULTS["payment_terms_days"] == 30
    assert PROFILE_DEFAULTS["invoice_prefix"] == "F"
    assert business.business_id == business.id
    assert [name for name, _ in recorded(business)] == ["Created"]


def test_business_refuses_unknown_profile_fields() -> None:
    with pytest.raises(ValueError, match="colour"):
        Business.register(name="X", mode="sandbox", colour="blue")
    business = Business.register(name="X", mode="sandbox")
    recorded(business)
    for field in ("mode", "id", "created_at", "colour"):
        with pytest.raises(ConflictError):
            business.change_profile({field: "x"})
    assert recorded(business) == []
    assert "mode" not in EDITABLE_FIELDS


def test_business_records_only_the_fields_that_really_change() -> None:
    business = Business.register(name="Old", mode="sandbox")
    recorded(business)
    business.change_profile({"name": "New", "locale": "en", "email": "a@example.com"})
    assert recorded(business) == [
        ("ProfileChanged", {"changes": {"name": "New", "email": "a@example.com"}})
    ]
    assert business.name == "New"
    assert business.field("name") == "New"
    assert business.field("email") == "a@example.com"
    business.change_profile({"name": "New", "email": "a@example.com"})
    business.change_profile({})
    assert recorded(business) == []
    business.change_profile({"email": None})
    assert recorded(business) == [("ProfileChanged", {"changes": {"email": None}})]
    assert business.field("email") is None


# -- clients --------------------------------------------------------------------------------


def test_client_keeps_every_known_field_and_defaults_tags_to_empty() -> None:
    business_id = uuid4()
    client = Client(business_id=business_id, details={"name": "Acme", "unknown": "dropped"})
    assert set(client.details) == set(CLIENT_FIELDS)
    assert client.details["name"] == "Acme"
    assert client.details["tags"] == []
    assert client.business_id == business_id
    assert not client.is_archived
    assert [name for name, _ in recorded(client)] == ["Created"]


def test_client_change_records_only_effective_changes_and_returns_them() -> None:
    client = Client(business_id=uuid4(), details={"name": "Acme", "email": "a@example.com"})
    recorded(client)
    assert client.change({"name": "Acme", "email": "b@example.com"}) == {"email": "b@example.com"}
    assert recorded(client) == [("DetailsChanged", {"changes": {"email": "b@example.com"}})]
    assert client.change({"email": "b@example.com"}) == {}
    assert recorded(client) == []


def test_archived_client_refuses_changes_and_archives_only_once() -> None:
    client = Client(business_id=uuid4(), details={"name": "Acme"})
    recorded(client)
    assert client.archive(NOW) is True
    assert client.archive(NOW + timedelta(hours=1)) is False
    assert recorded(client) == [("Archived", {"archived_at": NOW})]
    assert client.is_archived
    assert client.archived_at == NOW
    with pytest.raises(ClientArchivedError):
        client.change({"name": "Other"})
    with pytest.raises(ConflictError):
        client.change({})
    assert recorded(client) == []
    assert client.details["name"] == "Acme"


def test_external_id_claim_is_held_by_one_client_until_released() -> None:
    business_id, first, second = uuid4(), uuid4(), uuid4()
    claim = ExternalIdClaim(business_id=business_id, external_id="crm-1", client_id=first)
    assert claim.id == claim_id(business_id, "crm-1")
    assert claim_id(business_id, "crm-1") != claim_id(uuid4(), "crm-1")
    assert claim_id(business_id, "crm-1") != claim_id(business_id, "crm-2")
    recorded(claim)

    claim.claim(first)  # the holder again: nothing to record
    with pytest.raises(ExternalIdTaken) as taken:
        claim.claim(second)
    assert taken.value.external_id == "crm-1"  # the rule's data; the API names the field
    claim.release(second)  # not the holder: no effect
    assert recorded(claim) == []
    assert claim.holder == first

    claim.release(first)
    claim.claim(second)
    assert recorded(claim) == [("Released", {}), ("Reclaimed", {"client_id": second})]
    assert claim.holder == second


# -- the fold the read models use ----------------------------------------------------------


def test_folder_rebuilds_state_event_by_event_and_loads_when_it_cannot_follow() -> None:
    client = Client(business_id=uuid4(), details={"name": "A"})
    client.change({"name": "B"})
    client.archive(NOW)
    events = client.collect_events()
    loads: list[tuple[Any, int]] = []

    def load(aggregate_id: Any, version: int) -> Aggregate:
        loads.append((aggregate_id, version))
        return client

    folder = Folder(load)
    states = [folder.apply(event) for event in events]
    final = states[-1]
    assert isinstance(final, Client)
    assert (final.details["name"], final.archived_at, final.version) == ("B", NOW, 3)
    assert folder.apply(events[-1]) is final  # delivered again: unchanged
    assert loads == []

    joined_midway = Folder(load)
    assert joined_midway.apply(events[2]) is client
    assert loads == [(client.id, 3)]
