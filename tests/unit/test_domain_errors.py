"""Each domain rule error is named by the domain and mapped to its field at the API edge
(api/domain_errors.py): every rule has its entry, and the answers keep their wording."""

from __future__ import annotations

import fastfaktura.domain.errors as errors
from fastfaktura.api.domain_errors import RULE_FIELDS, field_errors
from fastfaktura.domain.errors import FieldError, RuleBroken


def test_every_rule_error_of_the_domain_is_mapped_to_a_field() -> None:
    rules = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, RuleBroken) and value is not RuleBroken
    }
    assert rules == set(RULE_FIELDS)


def test_the_fields_and_messages_clients_read() -> None:
    mapped = field_errors(
        [
            errors.LineCountOutOfRange(0, 500),
            errors.LineAmountTooLarge(3, 10**15),
            errors.InvoiceAmountTooLarge(10**15),
            errors.NegativeTotal(),
            errors.InvoicedClientUnknown(),
            errors.InvoicedClientArchived(),
            errors.DueDateBeforeIssueDate(),
            errors.PaymentOutsideAmountDue(0, 1200),
            errors.ChannelWithoutAddress("sms", "phone"),
        ]
    )
    too_large = "amounts may not exceed 1000000000000000 cents"
    assert mapped == [
        FieldError("lines", "must hold 1 to 500 lines"),
        FieldError("lines[3]", f"quantity * unit_price_cents: {too_large}"),
        FieldError("lines", f"the invoice's {too_large}"),
        FieldError("lines", "the invoice total may not be negative"),
        FieldError("client_id", "no such client"),
        FieldError("client_id", "the client is archived"),
        FieldError("due_date", "may not be before the issue date"),
        FieldError("amount_cents", "must be 1 to 1200 (the amount due)"),
        FieldError("channels", "sms needs the client's phone"),
    ]


def test_domain_messages_name_no_json_path() -> None:
    # The operators' wording of the Stripe inbox keeps the parameter's name.
    assert (
        str(errors.PaymentOutsideAmountDue(5, 4)) == "amount_cents must be 1 to 4 (the amount due)"
    )
    assert "lines[" not in str(errors.LineAmountTooLarge(2, 10))
