"""The audit's msgspec decoding of stored events gives what the library's mapper gives: the same
event class and state, transcoded types, upcasters applied."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

import fastfaktura.domain.invoice  # noqa: F401  (registers the invoice's topics)
from fastfaktura.domain.client import Client
from fastfaktura.readmodels.stored_events import StateDecoder

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@pytest.fixture
def mapper() -> Mapper:  # type: ignore[type-arg]
    transcoder = JSONTranscoder()
    Application.register_transcodings(Application(), transcoder)
    return Mapper(transcoder)


def test_same_events_as_the_mapper_for_nested_and_upcast_states(mapper: Mapper) -> None:  # type: ignore[type-arg]
    client = Client.register(uuid4(), {"name": "Decoded AB", "tags": ["a", "b"]})
    (created,) = client.collect_events()
    stored = [mapper.to_stored_event(created)]
    # Wrapped values inside lists inside dicts, lists of lists, and a dict that only looks like
    # a wrapper (an extra key): the walk must match the object hook innermost first.
    odd = {
        "timestamp": NOW,
        "deep": [[Decimal("1.50"), {"x": uuid4()}], []],
        "almost": {"_type_": "decimal_str", "_data_": "1", "extra": 1},
    }
    stored.append(StoredEvent(uuid4(), 1, stored[0].topic, mapper.transcoder.encode(odd)))
    # `opened` v1 (no `on`, no class_version): the upcaster adds the day it was stored on.
    v1 = json.dumps({"timestamp": {"_type_": "datetime_iso", "_data_": NOW.isoformat()}})
    stored.append(StoredEvent(uuid4(), 3, "fastfaktura:Invoice.Opened", v1.encode()))

    decoder = StateDecoder(mapper)
    for event in stored:
        expected = mapper.to_domain_event(event)
        got = decoder.decode(
            event.originator_id, event.originator_version, event.topic, event.state
        )
        assert type(got) is type(expected)
        assert got.__dict__ == expected.__dict__
        assert [type(v) for v in got.__dict__.values()] == [
            type(v) for v in expected.__dict__.values()
        ]
    assert got.__dict__["on"] == "2026-11-24"
    assert type(decoder.decode(*_fields(stored[1])).__dict__["deep"][0][0]) is Decimal


def _fields(event: StoredEvent) -> tuple[object, int, str, bytes]:
    return (event.originator_id, event.originator_version, event.topic, event.state)
