"""One source of truth for request shapes: the wire structs (api/schemas.py, what the OpenAPI
document says) and the tables api/input.py checks bodies with (api/fields.py) must agree on
every field's name, required-ness, nullability, choices and bounds. A field added, renamed or
re-bounded on one side only fails here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from fastfaktura.api import fields as tables
from fastfaktura.api import schemas
from fastfaktura.api.input import Field
from fastfaktura.api.sending import CHANNELS
from fastfaktura.domain.pricing import MAX_LINES

# (request struct, its table, fields of the struct checked by hand, not by a table)
PAIRS = [
    (schemas.ClientCreateRequest, tables.CLIENT_CREATE_FIELDS, ()),
    (schemas.ClientUpdateRequest, tables.CLIENT_FIELDS, ()),
    (schemas.BusinessUpdateRequest, tables.BUSINESS_FIELDS, ()),
    (schemas.InvoiceCreateRequest, tables.INVOICE_FIELDS, ("lines",)),
    (schemas.InvoiceLineRequest, tables.INVOICE_LINE_FIELDS, ()),
    (schemas.CreditLineRequest, tables.LINE_FIELDS, ()),
    (schemas.PaymentRequest, tables.PAYMENT_FIELDS, ()),
    (schemas.CancelRequest, tables.CANCEL_FIELDS, ()),
    (schemas.SendRequest, tables.SEND_FIELDS, ("channels",)),
]
# Text lengths the document leaves out: judged after normalising (spaces dropped), or only
# stated as the field's pattern. Any other text field must state its table's max_length.
UNSTATED_LENGTHS = {"phone", "address", "vat_number", "company_id", "legal_name", "iban", "bic"}
UNSTATED_LENGTHS |= {"invoice_prefix", "credit_note_prefix", "external_id"}


@dataclass(frozen=True)
class WireField:
    required: bool
    nullable: bool
    types: list[Any]  # the non-null alternatives, Metadata unwrapped


def wire_fields(struct: type[msgspec.Struct]) -> dict[str, WireField]:
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    found = {}
    for field in info.fields:
        alternatives = field.type.types if isinstance(field.type, mi.UnionType) else (field.type,)
        types = []
        for alternative in alternatives:
            while isinstance(alternative, mi.Metadata):
                alternative = alternative.type
            if not isinstance(alternative, mi.NoneType):
                types.append(alternative)
        nullable = len(types) < len(alternatives)
        found[field.name] = WireField(field.required, nullable, types)
    return found


def disagreements(wire: WireField, field: Field) -> list[str]:
    found = []
    if wire.required != field.required:
        found.append(f"required: {wire.required} on the wire, {field.required} checked")
    if wire.nullable != field.nullable:
        found.append(f"nullable: {wire.nullable} on the wire, {field.nullable} checked")
    first = wire.types[0]
    if field.kind == "enum":
        values = set(first.values) if isinstance(first, mi.LiteralType) else None
        if values != set(field.choices):
            found.append(f"choices: {values} on the wire, {set(field.choices)} checked")
    if field.kind == "int":
        bounds = (getattr(first, "ge", None), getattr(first, "le", None))
        if bounds != (field.minimum, field.maximum):
            found.append(f"bounds: {bounds} on the wire, {(field.minimum, field.maximum)} checked")
    if field.kind == "decimal":
        number = next(t for t in wire.types if isinstance(t, mi.FloatType))
        if number.le != field.maximum or (field.minimum is not None and number.ge != field.minimum):
            found.append(f"bounds: ({number.ge}, {number.le}) on the wire")
    if field.kind == "text" and field.name not in UNSTATED_LENGTHS:
        stated = getattr(first, "max_length", None)
        if stated != field.max_length:
            found.append(f"max_length: {stated} on the wire, {field.max_length} checked")
    expected = {
        "text": mi.StrType,
        "enum": mi.LiteralType,
        "int": mi.IntType,
        "bool": mi.BoolType,
        "tags": mi.ListType,
        "uuid": mi.UUIDType,
        "date": mi.DateType,
        "datetime": mi.DateTimeType,
        "decimal": mi.FloatType,
    }[field.kind]
    if not any(isinstance(t, expected) for t in wire.types):
        found.append(f"type: {wire.types} on the wire, {field.kind} checked")
    return found


@pytest.mark.parametrize(
    ("struct", "table", "by_hand"), PAIRS, ids=lambda v: getattr(v, "__name__", "")
)
def test_each_request_struct_and_its_table_agree(
    struct: type[msgspec.Struct], table: tuple[Field, ...], by_hand: tuple[str, ...]
) -> None:
    wire = wire_fields(struct)
    assert set(wire) == {f.name for f in table} | set(by_hand)
    problems = {f.name: disagreements(wire[f.name], f) for f in table}
    assert {name: found for name, found in problems.items() if found} == {}


def test_the_fields_checked_by_hand_agree_too() -> None:
    lines = wire_fields(schemas.InvoiceCreateRequest)["lines"]
    assert lines.required
    assert not lines.nullable
    (array,) = lines.types
    assert (array.min_length, array.max_length) == (1, MAX_LINES)
    channels = wire_fields(schemas.SendRequest)["channels"]
    (array,) = channels.types
    assert set(array.item_type.values) == set(CHANNELS)
    assert array.max_length == len(CHANNELS)


def test_a_drift_is_caught() -> None:
    """The check itself: a table that forgets a bound or a choice disagrees."""
    wire = wire_fields(schemas.PaymentRequest)
    method = next(f for f in tables.PAYMENT_FIELDS if f.name == "method")
    assert disagreements(wire["method"], Field("method", "enum", True, False, choices=("card",)))
    assert disagreements(wire["method"], method) == []
    amount = Field("amount_cents", "int", required=True, nullable=False, minimum=1)
    assert disagreements(wire["amount_cents"], amount)
