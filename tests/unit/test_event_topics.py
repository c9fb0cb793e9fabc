"""The stored event topics are a contract with every event already in the store: pin them.

Renaming an event class or its topic, or adding an aggregate or an event without pinning it
here, fails this test. Stored events are only ever read back by these names.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, datetime
from uuid import uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

import fastfaktura.domain
from fastfaktura.domain.api_key import ApiKey
from fastfaktura.domain.business import Business
from fastfaktura.domain.client import Client, ExternalIdClaim
from fastfaktura.domain.user import User
from fastfaktura.readmodels.model import event_topics
from fastfaktura.readmodels.models import READ_MODELS

PINNED: dict[str, tuple[str, ...]] = {
    "fastfaktura:ApiKey": (
        "fastfaktura:ApiKey.Created",
        "fastfaktura:ApiKey.Named",
        "fastfaktura:ApiKey.Revoked",
    ),
    "fastfaktura:Business": (
        "fastfaktura:Business.Created",
        "fastfaktura:Business.LogoChanged",
        "fastfaktura:Business.LogoRemoved",
        "fastfaktura:Business.ProfileChanged",
        "fastfaktura:Business.WebhookEndpointDisabled",
    ),
    "fastfaktura:Client": (
        "fastfaktura:Client.Archived",
        "fastfaktura:Client.Created",
        "fastfaktura:Client.DetailsChanged",
    ),
    "fastfaktura:ExternalIdClaim": (
        "fastfaktura:ExternalIdClaim.Created",
        "fastfaktura:ExternalIdClaim.Reclaimed",
        "fastfaktura:ExternalIdClaim.Released",
    ),
    "fastfaktura:Invoice": (
        "fastfaktura:Invoice.Cancelled",
        "fastfaktura:Invoice.Changed",
        "fastfaktura:Invoice.Created",
        "fastfaktura:Invoice.Credited",
        "fastfaktura:Invoice.Delivered",
        "fastfaktura:Invoice.DeliveryFailed",
        "fastfaktura:Invoice.Opened",
        "fastfaktura:Invoice.Overdue",
        "fastfaktura:Invoice.Paid",
        "fastfaktura:Invoice.PaymentRecorded",
        "fastfaktura:Invoice.PaymentRequestClosed",
        "fastfaktura:Invoice.PaymentRequestFailed",
        "fastfaktura:Invoice.PaymentRequestUpdated",
        "fastfaktura:Invoice.PaymentRequested",
        "fastfaktura:Invoice.ReminderSent",
        "fastfaktura:Invoice.Sent",
    ),
    # `Created` is the library's; a credit note's stream starts with `Issued`.
    "fastfaktura:CreditNote": (
        "fastfaktura:CreditNote.Created",
        "fastfaktura:CreditNote.Delivered",
        "fastfaktura:CreditNote.DeliveryFailed",
        "fastfaktura:CreditNote.Issued",
        "fastfaktura:CreditNote.RefundRecorded",
        "fastfaktura:CreditNote.Sent",
    ),
    "fastfaktura:CreditNoteSeries": (
        "fastfaktura:CreditNoteSeries.Created",
        "fastfaktura:CreditNoteSeries.NumberAllocated",
    ),
    "fastfaktura:InvoiceSeries": (
        "fastfaktura:InvoiceSeries.Created",
        "fastfaktura:InvoiceSeries.NumberAllocated",
    ),
    "fastfaktura:User": (
        "fastfaktura:User.Created",
        "fastfaktura:User.PasswordLinkIssued",
        "fastfaktura:User.PasswordSet",
    ),
}


def domain_aggregates() -> list[type[Aggregate]]:
    """Every aggregate class defined in a module of fastfaktura.domain."""
    found: list[type[Aggregate]] = []
    for info in pkgutil.iter_modules(fastfaktura.domain.__path__):
        module = importlib.import_module(f"fastfaktura.domain.{info.name}")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, Aggregate)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


def test_every_domain_aggregate_and_event_has_its_pinned_topic() -> None:
    actual = {str(vars(a)["TOPIC"]): event_topics(a) for a in domain_aggregates()}
    assert actual == PINNED


def test_every_event_class_of_an_aggregate_declares_an_explicit_topic() -> None:
    for aggregate in domain_aggregates():
        events = [
            value
            for name, value in vars(aggregate).items()
            if inspect.isclass(value) and issubclass(value, Aggregate.Event) and name != "Event"
        ]
        assert events, aggregate
        for event in events:
            assert "TOPIC" in vars(event), f"{event.__qualname__} has no explicit TOPIC"
            assert vars(event)["TOPIC"] == f"{vars(aggregate)['TOPIC']}.{event.__name__}"


def test_topics_are_unique_across_the_domain() -> None:
    topics = [topic for pinned in PINNED.values() for topic in pinned]
    assert len(topics) == len(set(topics))


def _mapper() -> Mapper[object]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DatetimeAsISO(), DecimalAsStr()):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def test_recorded_events_are_stored_under_their_pinned_topics() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    business = Business.register(name="Topic AS", mode="sandbox")
    business.change_profile({"email": "a@example.com"})
    business.note_webhook_endpoint_disabled(uuid4(), "https://hooks.example/in", "failed")
    business.change_logo("0" * 64, "image/png", 10, 10)
    business.remove_logo()
    api_key = ApiKey(
        business_id=business.id,
        key_prefix="ffk_test_abcdefg",
        key_hash="0" * 64,
        mode="sandbox",
        issued_at=now,
    )
    api_key.rename("CI")
    api_key.revoke(now)
    client = Client(business_id=business.id, details={"name": "C", "external_id": "x"})
    client.change({"name": "D"})
    client.archive(now)
    claim = ExternalIdClaim(business_id=business.id, external_id="x", client_id=client.id)
    claim.release(client.id)
    claim.claim(uuid4())
    user = User.register(business.id, "owner@topic.example")
    user.issue_password_link("0" * 64, now)
    user.set_password("$argon2id$x", now)

    mapper = _mapper()
    stored = {}
    for aggregate in (business, api_key, client, claim, user):
        topic = str(vars(type(aggregate))["TOPIC"])
        stored[topic] = tuple(
            sorted(mapper.to_stored_event(event).topic for event in aggregate.collect_events())
        )
    assert stored == {topic: PINNED[topic] for topic in stored}
    # And they read back into the same classes.
    for event in Business.register(name="Back", mode="live").collect_events():
        again = mapper.to_domain_event(mapper.to_stored_event(event))
        assert type(again) is type(event)


def test_read_models_subscribe_to_exactly_their_aggregate_topics() -> None:
    for model in READ_MODELS:
        topic = str(vars(model.aggregate_type)["TOPIC"])
        assert model.topics == PINNED[topic], model.name
