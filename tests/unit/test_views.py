"""Views of the public page on the aggregate alone (API.md lifecycle table, `opened` row):
the first view of a sent invoice opens it; later views record `opened` at most once per
invoice per UTC day, the day being the one the caller passes in (the application's clock).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fastfaktura.application import Invoicing
from fastfaktura.domain.invoice import Invoice
from fastfaktura.readmodels.timeline import event_type
from tests.unit.lifecycle_support import DUE, ISSUED, TOTAL, cancel, draft, in_status

DAY = ISSUED + timedelta(days=2)


def recorded(invoice: Invoice) -> list[str]:
    return [event_type(type(e).TOPIC) for e in invoice.collect_events()]


def test_many_views_the_same_day_record_one_opened_and_the_next_day_one_more() -> None:
    invoice = in_status("sent")

    assert invoice.open(DAY) is True
    assert (recorded(invoice), invoice.status) == (["opened"], "opened")
    assert [invoice.open(DAY) for _ in range(49)] == [False] * 49
    assert recorded(invoice) == []

    assert invoice.open(DAY + timedelta(days=1)) is True
    assert invoice.open(DAY + timedelta(days=1)) is False
    assert (recorded(invoice), invoice.status) == (["opened"], "opened")


@pytest.mark.parametrize("status", ["overdue", "paid", "cancelled"])
def test_views_keep_the_status_and_count_once_a_day(status: str) -> None:
    invoice = in_status("sent")
    if status == "overdue":
        invoice.mark_overdue(DUE + timedelta(days=1))
    elif status == "paid":
        invoice.record_payment(TOTAL, "cash", "2026-11-25", None)
    else:
        cancel(invoice)
    invoice.collect_events()

    assert (invoice.open(DAY), invoice.open(DAY)) == (True, False)
    assert (recorded(invoice), invoice.status) == (["opened"], status)


def test_the_day_of_a_view_survives_a_reload_from_the_events() -> None:
    """What the aggregate remembers of today's view comes from the `opened` event itself, so
    another process (or the same one after a restart) decides the same way."""
    app = Invoicing({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    invoice = draft(keep_pending_events=True)
    invoice.send({"link": None})
    invoice.open(DAY)
    app.save(invoice)

    reloaded = app.repository.get(invoice.id)
    assert isinstance(reloaded, Invoice)
    assert reloaded.open(DAY) is False
    assert reloaded.open(DAY + timedelta(days=1)) is True


def test_an_opened_event_stored_before_the_daily_rule_counts_for_its_own_day() -> None:
    """Events of version 1 carry no `on`: the upcaster takes the UTC day of their timestamp."""
    app = Invoicing({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    invoice = in_status("sent")
    invoice.open(DAY)
    [event] = invoice.collect_events()
    stored = app.mapper.to_stored_event(event)
    state = app.mapper.transcoder.decode(stored.state)
    assert (state.pop("class_version"), state.pop("on")) == (2, DAY.isoformat())
    stamped = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    state["timestamp"] = stamped
    old = stored.__class__(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=app.mapper.transcoder.encode(state),
    )

    upcast = app.mapper.to_domain_event(old)

    assert isinstance(upcast, Invoice.Opened)
    assert upcast.on == date(2026, 12, 31).isoformat()
