"""What clients send, judged as written, in one place for every endpoint (API.md "Limits").

Bodies: at most 1 MiB (413), JSON nested at most 32 levels deep (400; found by an iterative
scan before the recursive decoder runs), then every invalid field collected and reported at
once (422). Numbers and dates are judged as they are written, before any arithmetic: ASCII
digits only, no exponent, bounded length, at most the field's decimals. Query parameters are
checked in api/query.py (`QueryCheck`, re-exported here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar.params import Parameter

from fastfaktura.api.errors import BadJson, BodyTooLarge
from fastfaktura.api.query import QueryCheck as QueryCheck  # where create_app finds it
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.jsonlimits import MAX_JSON_DEPTH, nested_too_deep  # tests import them here too

MAX_BODY_BYTES = 1024 * 1024
# A decimal is never longer than this as written; what fits is judged digit by digit.
MAX_DECIMAL_CHARS = 50
# Integer fields without bounds of their own still fit a PostgreSQL bigint.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
DECIMAL_MESSAGE = (
    "must be a decimal number written with ASCII digits, without an exponent, e.g. 1.5"
)


@dataclass(frozen=True, slots=True)
class JsonNumber:
    """A JSON number with a fraction or an exponent, kept as written: `1e-999999999` must be
    judged (and refused) as text, never turned into a Decimal and rounded first."""

    text: str


# Numbers with a fraction or an exponent stay text (JsonNumber), never float: money stays exact.
_DECODER = msgspec.json.Decoder(float_hook=JsonNumber)
# C0 control characters but tab, newline and carriage return, and DEL. NUL in particular can
# never be stored in a PostgreSQL text column: accepted, it would poison the read models.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "may not contain control characters"

# The list parameters of every list (API.md "Lists"): bounded, so that an offset always fits.
MAX_PAGE = 100_000
Page = Annotated[int, Parameter(ge=1, le=MAX_PAGE, description=f"Page number, 1 to {MAX_PAGE}")]
PerPage = Annotated[int, Parameter(ge=1, le=100, description="Items per page, 1 to 100")]


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def decode_json(body: bytes) -> Any:
    """Any JSON value, read within the limits: 413 over 1 MiB, 400 when it is not JSON or is
    nested too deep, 422 on `body` for an integer too long to read."""
    # create_app sets Litestar's request_max_body_size to the same size: bodies over it are
    # stopped while they stream in; this covers a body read any other way.
    if len(body) > MAX_BODY_BYTES:
        raise BodyTooLarge
    if not body.strip():
        raise BadJson("The request body is empty; send a JSON object.")
    if nested_too_deep(body):
        raise BadJson(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.")
    try:
        return _DECODER.decode(body)
    except msgspec.ValidationError:
        # Valid JSON, but an integer of thousands of digits: Python refuses to read it.
        raise InvalidInputError([FieldError("body", "holds a number too long to read")]) from None
    except msgspec.DecodeError as exc:
        raise BadJson(f"The request body is not valid JSON: {exc}") from None


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object: 400 when it is not JSON, 422 when it is not an object."""
    value = decode_json(body)
    if not isinstance(value, dict):
        raise InvalidInputError([FieldError("body", "must be a JSON object")])
    return value


Rule = Callable[[Any], str | None]


@dataclass(frozen=True)
class Field:
    """How one body field is checked. `rule` returns an error message or None."""

    name: str
    kind: str  # text | enum | int | bool | tags | uuid | date | datetime | decimal
    required: bool = False
    nullable: bool = True
    max_length: int = 500
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    places: int | None = None  # decimal: at most this many digits after the point
    rule: Rule | None = None
    normalize: Callable[[str], str] | None = None
    # What to say of a text over max_length, when the field's own rule says it better
    # (a country: "France" is not a code, rather than "at most 2 characters").
    too_long: str | None = None


def check(
    data: dict[str, Any],
    fields: Iterable[Field],
    *,
    read_only: Iterable[str] = (),
    prefix: str = "",
) -> dict[str, Any]:
    """The checked, normalised fields present in `data`; raises with every error found."""
    clean, errors = check_each(data, fields, read_only=read_only, prefix=prefix)
    if errors:
        raise InvalidInputError(errors)
    return clean


def check_each(
    data: dict[str, Any],
    fields: Iterable[Field],
    *,
    read_only: Iterable[str] = (),
    prefix: str = "",
) -> tuple[dict[str, Any], list[FieldError]]:
    """The valid fields and the errors of the others (for checks that need both)."""
    spec = {f.name: f for f in fields}
    errors: list[FieldError] = []
    clean: dict[str, Any] = {}
    read_only = set(read_only)
    for key in data:
        if key in read_only:
            errors.append(FieldError(prefix + key, "is read-only"))
        elif key not in spec:
            errors.append(FieldError(prefix + key, "is not a known field"))
    for name, field in spec.items():
        path = prefix + name
        if name not in data:
            if field.required:
                errors.append(FieldError(path, "is required"))
            continue
        value = data[name]
        if value is None:
            if field.nullable:
                clean[name] = None
            else:
                errors.append(FieldError(path, "may not be null"))
            continue
        message, value = _check_value(field, value)
        if message and message.startswith("["):  # an item of an array: name it, e.g. tags[2]
            index, _, message = message.partition("] ")
            errors.append(FieldError(f"{path}{index}]", message))
        elif message:
            errors.append(FieldError(path, message))
        else:
            clean[name] = value
    return clean, errors


def _check_value(field: Field, value: Any) -> tuple[str | None, Any]:
    if field.kind in ("text", "enum"):
        if not isinstance(value, str):
            return "must be a string", value
        value = value.strip()
        if has_control_characters(value):
            return CONTROL_MESSAGE, value
        if field.normalize is not None:
            value = field.normalize(value)
        if field.kind == "enum":
            if value not in field.choices:
                return f"must be one of: {', '.join(field.choices)}", value
            return None, value
        if not value:
            return "may not be blank", value
        if len(value) > field.max_length:
            return field.too_long or f"must be at most {field.max_length} characters", value
    elif field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer", value
        minimum = BIGINT_MIN if field.minimum is None else field.minimum
        maximum = BIGINT_MAX if field.maximum is None else field.maximum
        if value < minimum:
            return f"must be at least {minimum}", value
        if value > maximum:
            return f"must be at most {maximum}", value
    elif field.kind == "uuid":
        value = parse_uuid(value) if isinstance(value, str) else None
        if value is None:
            return "must be a UUID", value
    elif field.kind == "date":
        value = parse_date(value) if isinstance(value, str) else None
        if value is None:
            return "must be a date, YYYY-MM-DD", value
    elif field.kind == "datetime":
        parsed = parse_timestamp(value) if isinstance(value, str) else None
        if parsed is None:
            return (
                "must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-24T10:00:00Z",
                value,
            )
        value = parsed
    elif field.kind == "decimal":
        message, value = _decimal(field, value)
        if message:
            return message, value
    elif field.kind == "bool":
        if not isinstance(value, bool):
            return "must be true or false", value
    elif field.kind == "tags":
        if not isinstance(value, list):
            return "must be an array of strings", value
        if len(value) > 50:
            return "may hold at most 50 tags", value
        tags: list[str] = []
        for index, tag in enumerate(value):
            if not isinstance(tag, str) or not tag.strip():
                return f"[{index}] must be a non-blank string", value
            if has_control_characters(tag):
                return f"[{index}] {CONTROL_MESSAGE}", value
            if len(tag) > 100:
                return f"[{index}] must be at most 100 characters", value
            if tag.strip() not in tags:
                tags.append(tag.strip())
        value = tags
    if field.rule is not None and value is not None:
        message = field.rule(value)
        if message:
            return message, value
    return None, value


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)
_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?")


def parse_uuid(text: str) -> UUID | None:
    """A UUID as the API writes them (8-4-4-4-12 hex digits). Python's UUID() alone would also
    take other digits (Arabic-Indic among them), braces and a `urn:uuid:` prefix."""
    return UUID(text) if _UUID.fullmatch(text) else None


def parse_date(text: str) -> date | None:
    """A `YYYY-MM-DD` date in ASCII digits (fromisoformat alone also takes week dates)."""
    try:
        return date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:
        return None


def parse_timestamp(text: str) -> datetime | None:
    """An RFC 3339 timestamp with its offset, in UTC; None for anything else."""
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _decimal(field: Field, value: Any) -> tuple[str | None, Any]:
    """Judged as written: the text's digits decide, and only a value found fit is turned into a
    Decimal (exact, no context, no rounding), so no exponent ever reaches arithmetic."""
    if isinstance(value, bool) or not isinstance(value, int | JsonNumber | str):
        return "must be a number", value
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, JsonNumber):
        text = value.text
    else:
        text = value.strip(" ")
    if len(text) > MAX_DECIMAL_CHARS:
        return f"must be a decimal number of at most {MAX_DECIMAL_CHARS} characters", value
    written = _DECIMAL.fullmatch(text)
    if written is None:
        return DECIMAL_MESSAGE, value
    sign, whole, fraction = written[1], written[2], written[3] or ""
    # Zeros after the last significant decimal change nothing: "1.50000" is 1.5.
    places = field.places
    if places is not None:
        if len(fraction.rstrip("0")) > places:
            return f"may have at most {places} decimals", value
        fraction = fraction[:places]
    number = Decimal(f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}")
    if field.minimum is not None and number < field.minimum:
        return f"must be at least {field.minimum}", value
    if field.maximum is not None and number > field.maximum:
        return f"must be at most {field.maximum}", value
    return None, number
