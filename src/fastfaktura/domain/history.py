"""An aggregate that remembers the events it was built from, in order.

The invoice's timeline is a read model (`rm_invoice_events`), and a read model's rows are a
pure function of the aggregate's state (readmodels/model.py): so the state holds the events.
They are the events as applied, i.e. as decoded from the store, upcasters included.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate


class RememberedEvent(Aggregate.Event):
    """The base event of an aggregate whose `history` lists every event applied to it."""

    def mutate(self, aggregate: Any) -> Any:
        mutated = super().mutate(aggregate)
        mutated.__dict__.setdefault("history", []).append(self)
        return mutated
