"""The Invoicing application: one method per command, each load -> decide -> save, retried
on a concurrent write (base.py). The commands are grouped by aggregate in the modules here;
`Invoicing` puts them together, and is what the composition roots build."""

from __future__ import annotations

from fastfaktura.application.base import (
    MAX_ATTEMPTS,
    Clock,
    Written,
    recorded,
    utc_now,
)
from fastfaktura.application.businesses import BusinessCommands, IssuedKey
from fastfaktura.application.card_payments import CardPaymentCommands
from fastfaktura.application.clients import ClientCommands
from fastfaktura.application.credit_notes import CreditNoteCommands
from fastfaktura.application.invoices import (
    BUYER_FIELDS,
    CHANNEL_ADDRESS,
    SELLER_FIELDS,
)
from fastfaktura.application.users import PasswordLink, UserCommands

__all__ = [
    "BUYER_FIELDS",
    "CHANNEL_ADDRESS",
    "MAX_ATTEMPTS",
    "SELLER_FIELDS",
    "Clock",
    "Invoicing",
    "IssuedKey",
    "PasswordLink",
    "Written",
    "recorded",
    "utc_now",
]


# CreditNoteCommands builds on InvoiceCommands (the series locks, the parties' fields).
class Invoicing(
    BusinessCommands, ClientCommands, CreditNoteCommands, CardPaymentCommands, UserCommands
):
    # The name under which the event store and the trackers know this application.
    name = "Invoicing"
    log_section_size = 1000
