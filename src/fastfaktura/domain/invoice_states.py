"""The invoice's statuses as the lifecycle table allows them (API.md "Lifecycle"), the error a
transition outside them raises, and the upcasters of its older stored events."""

from __future__ import annotations

from datetime import UTC
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


def opened_v1_to_v2(state: dict[str, Any]) -> None:
    """`opened` v1 had no `on`: such a view counts for the UTC day it was stored on."""
    state["on"] = state["timestamp"].astimezone(UTC).date().isoformat()


def upcast_older_events(invoice_class: type[Aggregate]) -> None:
    """`opened` v2 added `on` (views are recorded at most once per invoice per day). The event
    class is the one @event defines (it carries the stored topic), so its version is set here."""
    opened = vars(invoice_class)["Opened"]
    setattr(opened, "class_version", 2)  # noqa: B010
    setattr(opened, "upcast_v1_v2", staticmethod(opened_v1_to_v2))  # noqa: B010
