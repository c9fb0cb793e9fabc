"""Stored events decoded the fast way for the audit: straight from the columns of its binary
scan, through the application's mapper with msgspec doing the JSON (adapters/event_decoding.py,
the decoding rebuild and catch-up use too), so every reader of the store decodes alike."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from fastfaktura.adapters.event_decoding import msgspec_mapper


class StateDecoder:
    """Decodes stored events as `mapper.to_domain_event` does (cipher, compressor, upcasters)."""

    def __init__(self, mapper: Mapper[UUID]) -> None:
        self._mapper = msgspec_mapper(mapper)

    def decode(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Any:
        return self._mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
