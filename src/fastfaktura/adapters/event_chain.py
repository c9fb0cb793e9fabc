"""The hash chain over each business's events, computed here independently of the database.

PostgreSQL writes the chain (migrations/0016_event_chain.sql: a trigger on invoicing_events);
this module recomputes it from the events' stored bytes, so that a verifier trusts neither the
stored links nor the database's functions. Pure: no I/O.

    genesis(business) = sha256(b"fastfaktura event chain v1" || business.bytes)
    link = sha256(previous || originator_id.bytes || int8 version
                  || int8 len(topic) || topic (UTF-8) || int8 len(state) || state)
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

GENESIS_LABEL = b"fastfaktura event chain v1"
_INT8 = struct.Struct(">q")
ANCHORS_HEADER = "# fastfaktura audit anchors v1: business_id events head_sha256 taken_at_utc"


def genesis(business_id: UUID) -> bytes:
    """The 'previous hash' of a business's first event: binds the chain to its business."""
    return hashlib.sha256(GENESIS_LABEL + business_id.bytes).digest()


def link(
    previous: bytes, originator_id: UUID, originator_version: int, topic: str, state: bytes
) -> bytes:
    """The hash of one event's link: the previous link and the event's stored bytes."""
    return link_bytes(previous, originator_id.bytes, originator_version, topic_field(topic), state)


def topic_field(topic: str) -> bytes:
    """The topic as hashed: its UTF-8 length, then its UTF-8 bytes."""
    raw = topic.encode()
    return _INT8.pack(len(raw)) + raw


def link_bytes(
    previous: bytes, originator_id: bytes, originator_version: int, topic: bytes, state: bytes
) -> bytes:
    """`link` on the raw fields (the id's 16 bytes, `topic_field(topic)`): the verifier's loop
    runs it once per event, so it makes one call into OpenSSL."""
    return hashlib.sha256(
        b"".join(
            (
                previous,
                originator_id,
                _INT8.pack(originator_version),
                topic,
                _INT8.pack(len(state)),
                state,
            )
        )
    ).digest()


@dataclass(frozen=True)
class Anchor:
    """A chain's head as an operator kept it: after `events` events, the link was `head`."""

    business_id: UUID
    events: int
    head: bytes
    taken_at: datetime

    def line(self) -> str:
        stamp = self.taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{self.business_id}\t{self.events}\t{self.head.hex()}\t{stamp}"


class AnchorFileError(ValueError):
    pass


def parse_anchors(text: str) -> dict[UUID, list[Anchor]]:
    """The anchors of files `--anchor` printed, by business (blank and `#` lines ignored);
    a business may have several, from anchors taken at different times."""
    anchors: dict[UUID, list[Anchor]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        try:
            if len(fields) != 4:
                raise ValueError("expected 4 fields")
            business, events, head, stamp = fields
            taken_at = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            anchor = Anchor(UUID(business), int(events), bytes.fromhex(head), taken_at)
            if anchor.events < 1 or len(anchor.head) != 32 or taken_at.tzinfo is None:
                raise ValueError("events must be >= 1, head 64 hex digits, time in UTC")
        except ValueError as exc:
            raise AnchorFileError(f"line {number}: {exc}: {raw!r}") from None
        anchors.setdefault(anchor.business_id, []).append(anchor)
    return anchors
