"""The invoice's statuses as the lifecycle table allows them (API.md "Lifecycle"), the error a
transition outside them raises, and the upcasters of its older stored events."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any, Final

from eventsourcing.domain import Aggregate

from fastfaktura.domain.errors import ConflictError

REMINDABLE: Final = ("sent", "opened", "overdue")
PAYABLE: Final = ("sent", "opened", "overdue")
CANCELLABLE: Final = ("draft", "sent", "opened", "overdue")
# A credit note corrects an issued invoice, paid ones included (API.md "Credit notes").
CREDITABLE: Final = ("sent", "opened", "overdue", "paid")
# Only a draft is edited: once sent, lines, amounts and number never change.
EDITABLE: Final = ("draft",)


class InvoiceStateError(ConflictError):
    """The transition is not allowed from the invoice's status (409, no event)."""


def require_status(status: str, action: str, allowed: tuple[str, ...]) -> None:
    if status not in allowed:
        raise InvoiceStateError(f"cannot {action} an invoice that is {status}")


def require_cancellable(status: str, paid_cents: int) -> None:
    """An invoice with payments is credited, not cancelled (API.md "Cancel")."""
    require_status(status, "cancel", CANCELLABLE)
    if status != "draft" and paid_cents > 0:
        raise InvoiceStateError("cannot cancel an invoice with payments: credit it instead")


def view_to_record(was_sent: bool, last_opened_on: str | None, today: date) -> str | None:
    """The UTC day a view of the public page records `opened` for: the first view of a sent
    invoice, then at most one a day (None: nothing to record), so anonymous traffic cannot grow
    the stream. A never-sent invoice has no public page."""
    if not was_sent:
        raise InvoiceStateError("an invoice that was never sent has no public page")
    day = today.isoformat()
    return None if last_opened_on == day else day


def opened_v1_to_v2(state: dict[str, Any]) -> None:
    """`opened` v1 had no `on`: such a view counts for the UTC day it was stored on."""
    state["on"] = state["timestamp"].astimezone(UTC).date().isoformat()


def upcast_older_events(invoice_class: type[Aggregate]) -> None:
    """`opened` v2 added `on` (views are recorded at most once per invoice per day). The event
    class is the one @event defines (it carries the stored topic), so its version is set here."""
    opened = vars(invoice_class)["Opened"]
    setattr(opened, "class_version", 2)  # noqa: B010
    setattr(opened, "upcast_v1_v2", staticmethod(opened_v1_to_v2))  # noqa: B010
