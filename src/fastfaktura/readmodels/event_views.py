"""An invoice's events as the API shows them, mapped once per aggregate state.

The `invoices` read model stores them inside GET /invoices/{id}'s answer and `invoice_events`
stores them as rows: a rebuild (and a live runner) maps the same aggregate for both, one
after the other, so the last mapping is kept (the aggregate and its version say whether it
still holds), and each event's `data` is encoded once for both (profile of issue 12: the
event views were a sixth of a rebuild's CPU, computed twice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from fastfaktura.readmodels.invoice_view import EventResponse, InvoiceResponse
from fastfaktura.readmodels.timeline import event_response


class ShownEvent(NamedTuple):
    response: EventResponse
    data_json: bytes  # msgspec.json.encode(response.data)


class _EncodedEvent(msgspec.Struct, kw_only=True):
    """An EventResponse (same fields, same order) whose data is already JSON."""

    id: UUID
    type: str
    version: int
    occurred_at: datetime
    data: msgspec.Raw


_encode = msgspec.json.encode
# The answer is spliced as `{...fields...,"events":[...]}`: events must be its last field.
assert InvoiceResponse.__struct_fields__[-1] == "events"
assert _EncodedEvent.__struct_fields__ == EventResponse.__struct_fields__

# The last aggregate mapped, its version then, and its events. The aggregate is held, so its
# identity cannot be taken by another object while it is here.
_last: tuple[Any, int, list[ShownEvent]] | None = None


def shown_events(aggregate: Any) -> list[ShownEvent]:
    """Every event of `aggregate.history` as the API shows it, with its data encoded."""
    global _last
    last = _last  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is aggregate and last[1] == aggregate.version:
        return last[2]
    shown = []
    for event in aggregate.history:
        response = event_response(aggregate.id, type(event).TOPIC, event)
        shown.append(ShownEvent(response, _encode(response.data)))
    _last = (aggregate, aggregate.version, shown)
    return shown


def encode_with_events(view: InvoiceResponse, events: list[ShownEvent]) -> bytes:
    """`msgspec.json.encode(view)` with `view.events` set to these events, byte for byte,
    reusing each event's encoded data. `view.events` must be unset."""
    assert view.events is msgspec.UNSET
    head = _encode(view)
    encoded = [
        _EncodedEvent(
            id=shown.response.id,
            type=shown.response.type,
            version=shown.response.version,
            occurred_at=shown.response.occurred_at,
            data=msgspec.Raw(shown.data_json),
        )
        for shown in events
    ]
    return b"".join((head[:-1], b',"events":', _encode(encoded), b"}"))
