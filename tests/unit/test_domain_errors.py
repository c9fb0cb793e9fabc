"""Each domain rule error is named by the domain and mapped to its field at the API edge
(api/domain_errors.py): every rule has its entry, and the answers keep their wording."""

from __future__ import annotations

import pytest

import fastfaktura.domain.errors as errors
from fastfaktura.api.domain_errors import (
    CONFLICT_FIELDS,
    RULE_FIELDS,
    conflict_field_errors,
    field_errors,
)
from fastfaktura.domain.business import PROFILE_DEFAULTS, Business
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


def test_conflicts_are_named_after_their_rule_and_get_their_field_at_the_api_edge() -> None:
    conflicts = {
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, errors.ConflictError)
        and value is not errors.ConflictError
    }
    assert conflicts == set(CONFLICT_FIELDS)
    taken = errors.ExternalIdTaken("crm-1")
    assert not hasattr(taken, "field")  # the domain carries the rule's data, not a JSON path
    assert taken.external_id == "crm-1"
    assert conflict_field_errors(taken) == [
        FieldError("external_id", "external_id 'crm-1' is already used by another client")
    ]
    not_editable = errors.ProfileFieldsNotEditable({"mode", "id"})
    assert not_editable.fields == ["id", "mode"]
    assert str(not_editable) == "fields are not editable: ['id', 'mode']"
    assert conflict_field_errors(not_editable) == []  # a 409 naming no field, as before


def test_a_profile_change_outside_the_editable_fields_is_refused_by_its_rule() -> None:
    business = Business(name="Acme", mode="sandbox", profile=dict(PROFILE_DEFAULTS))
    with pytest.raises(errors.ProfileFieldsNotEditable) as refused:
        business.change_profile({"mode": "live"})
    assert refused.value.fields == ["mode"]
