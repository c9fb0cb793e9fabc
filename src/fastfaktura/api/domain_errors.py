"""The API edge of the domain's rules: each rule error named by the domain becomes the field
it is about and the message clients read (API.md), here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from fastfaktura.domain.errors import (
    ChannelWithoutAddress,
    ClientNameRequired,
    ConflictError,
    CreditAboveCreditable,
    CreditLineNotPositive,
    CreditRateNotInvoiced,
    CreditReasonRequired,
    DueDateBeforeIssueDate,
    EmailTaken,
    ExternalIdTaken,
    FieldError,
    InvoiceAmountTooLarge,
    InvoicedClientArchived,
    InvoicedClientUnknown,
    LegalRuleBroken,
    LineAmountTooLarge,
    LineCountOutOfRange,
    NegativeTotal,
    PaymentOutsideAmountDue,
    ProfileFieldsNotEditable,
    RefundAboveDue,
    RuleBroken,
    UnknownDelivery,
)


def _too_large(maximum_cents: int) -> str:
    return f"amounts may not exceed {maximum_cents} cents"


# Rule -> (field, message). Every RuleBroken subclass has its entry (tests/unit pins this).
RULE_FIELDS: Final[dict[type[RuleBroken], Callable[[Any], FieldError]]] = {
    LineCountOutOfRange: lambda e: FieldError("lines", f"must hold 1 to {e.maximum} lines"),
    LineAmountTooLarge: lambda e: FieldError(
        f"lines[{e.index}]", f"quantity * unit_price_cents: {_too_large(e.maximum_cents)}"
    ),
    InvoiceAmountTooLarge: lambda e: FieldError(
        "lines", f"the invoice's {_too_large(e.maximum_cents)}"
    ),
    NegativeTotal: lambda e: FieldError("lines", "the invoice total may not be negative"),
    DueDateBeforeIssueDate: lambda e: FieldError("due_date", "may not be before the issue date"),
    InvoicedClientUnknown: lambda e: FieldError("client_id", "no such client"),
    InvoicedClientArchived: lambda e: FieldError("client_id", "the client is archived"),
    PaymentOutsideAmountDue: lambda e: FieldError(
        "amount_cents", f"must be 1 to {e.amount_due_cents} (the amount due)"
    ),
    UnknownDelivery: lambda e: FieldError("delivery_id", "no such delivery for this invoice"),
    ChannelWithoutAddress: lambda e: FieldError(
        "channels", f"{e.channel} needs the client's {e.detail}"
    ),
    ClientNameRequired: lambda e: FieldError("name", "is required and may not be blank"),
    EmailTaken: lambda e: FieldError("email", "is already used by an account"),
    CreditReasonRequired: lambda e: FieldError("reason", "is required and may not be blank"),
    CreditLineNotPositive: lambda e: FieldError(
        f"lines[{e.index}].unit_price_cents", "a credited amount must be above 0"
    ),
    CreditAboveCreditable: lambda e: FieldError(
        "lines",
        f"the credit note's total ({e.amount_cents}) must be 1 to {e.creditable_cents}: the "
        "invoice total minus what earlier credit notes credited",
    ),
    CreditRateNotInvoiced: lambda e: FieldError(
        f"lines[{e.index}].tax_rate",
        f"{e.rate} % is not a VAT rate of the invoice"
        if e.base_left_cents is None
        else f"at most {e.base_left_cents} cents of base are left to credit at {e.rate} %",
    ),
    RefundAboveDue: lambda e: FieldError(
        "amount_cents", f"must be 1 to {e.refund_due_cents} (the refund due)"
    ),
    # The legal checks name their field themselves (API paths such as business.address).
    LegalRuleBroken: lambda e: FieldError(e.field, e.message, e.rule),
}


# Conflict rule -> the fields its 409 names (none: the answer names no field).
CONFLICT_FIELDS: Final[dict[type[ConflictError], Callable[[Any], list[FieldError]]]] = {
    ExternalIdTaken: lambda e: [FieldError("external_id", str(e))],
    ProfileFieldsNotEditable: lambda e: [],
}


def conflict_field_errors(conflict: ConflictError) -> list[FieldError]:
    """The fields a 409 names: only the rule-named conflicts above name any."""
    mapped = CONFLICT_FIELDS.get(type(conflict))
    return mapped(conflict) if mapped else []


def field_errors(rules: Iterable[RuleBroken]) -> list[FieldError]:
    """The fields the rules are about, in the order the rules were found."""
    return [RULE_FIELDS[type(rule)](rule) for rule in rules]
