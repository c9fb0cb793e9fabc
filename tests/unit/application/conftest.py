"""The Invoicing application on the library's in-memory persistence (eventsourcing POPO): the
decisions of every command, fast and without a database. PostgreSQL is never started here:
these tests use none of tests/conftest.py's database fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from fastfaktura.application import Invoicing
from fastfaktura.domain.invoice import Invoice
from fastfaktura.domain.pricing import InvoiceLine

IN_MEMORY = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
START = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@dataclass
class Clock:
    """The application's clock, moved by the test."""

    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class SharedStore(POPOApplicationRecorder):
    """One in-memory event store for several applications (processes, as it were). A test
    can make another writer commit just before the next insert: a lost race, on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.before_next_insert: list[Callable[[], object]] = []
        self.inserts = 0
        self._racing = False

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        if self.before_next_insert and not self._racing:
            self._racing = True  # the rival's own insert goes straight through
            try:
                self.before_next_insert.pop(0)()
            finally:
                self._racing = False
        self.inserts += 1
        return super().insert_events(stored_events, **kwargs)


class OnSharedStore(Invoicing):
    def __init__(self, store: SharedStore, clock: Clock) -> None:
        self._store = store
        super().__init__(IN_MEMORY, clock=clock)

    def construct_recorder(self) -> ApplicationRecorder:
        return self._store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> SharedStore:
    return SharedStore()


@pytest.fixture
def app(store: SharedStore, clock: Clock) -> Iterator[Invoicing]:
    application = OnSharedStore(store, clock)
    yield application
    application.close()


@pytest.fixture
def other_process(store: SharedStore, clock: Clock) -> Iterator[Invoicing]:
    """A second application on the same store: a concurrent writer."""
    application = OnSharedStore(store, clock)
    yield application
    application.close()


def line(unit_price_cents: int = 10000, quantity: str = "1", rate: str = "20") -> InvoiceLine:
    return InvoiceLine("Work", Decimal(quantity), unit_price_cents, Decimal(rate))


@dataclass(frozen=True)
class Account:
    business_id: UUID
    client_id: UUID


@pytest.fixture
def account(app: Invoicing) -> Account:
    business_id = app.register_business("Shop AS", "sandbox").value.business_id
    client = app.register_client(
        business_id, {"name": "Acme", "email": "ap@acme.test", "phone": None}
    ).value
    return Account(business_id, client.id)


def create(app: Invoicing, account: Account, *lines: InvoiceLine, **fields: Any) -> Invoice:
    return app.create_invoice(
        account.business_id,
        client_id=account.client_id,
        currency="EUR",
        lines=list(lines or [line()]),
        **fields,
    ).value


def topics(app: Invoicing, aggregate_id: UUID) -> list[str]:
    """The stored topics of an aggregate's events, last part only (e.g. `Sent`)."""
    return [e.topic.rsplit(".", 1)[-1] for e in app.recorder.select_events(aggregate_id)]
