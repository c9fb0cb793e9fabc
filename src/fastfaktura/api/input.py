"""Checking request bodies: every invalid field is collected, then reported at once (422)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

import msgspec

from fastfaktura.api.errors import BadJson
from fastfaktura.domain.errors import FieldError, InvalidInputError

MAX_BODY_BYTES = 2_000_000
# JSON numbers with a fraction or exponent become Decimal, never float: money stays exact.
_DECODER = msgspec.json.Decoder(float_hook=Decimal)
# C0 control characters but tab, newline and carriage return, and DEL. NUL in particular can
# never be stored in a PostgreSQL text column: accepted, it would poison the read models.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "may not contain control characters"


def has_control_characters(value: str) -> bool:
    return _CONTROL.search(value) is not None


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object: 400 when it is not JSON, 422 when it is not an object."""
    if len(body) > MAX_BODY_BYTES:
        raise InvalidInputError([FieldError("body", f"must be at most {MAX_BODY_BYTES} bytes")])
    if not body.strip():
        raise BadJson("The request body is empty; send a JSON object.")
    try:
        value = _DECODER.decode(body)
    except msgspec.DecodeError as exc:
        raise BadJson(f"The request body is not valid JSON: {exc}") from None
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
            return f"must be at most {field.max_length} characters", value
    elif field.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer", value
        if field.minimum is not None and value < field.minimum:
            return f"must be at least {field.minimum}", value
        if field.maximum is not None and value > field.maximum:
            return f"must be at most {field.maximum}", value
    elif field.kind == "uuid":
        try:
            value = UUID(value) if isinstance(value, str) else None
        except ValueError:
            value = None
        if value is None:
            return "must be a UUID", value
    elif field.kind == "date":
        try:
            value = (
                date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
            )
        except ValueError:
            value = None
        if value is None:
            return "must be a date, YYYY-MM-DD", value
    elif field.kind == "datetime":
        try:
            parsed = (
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                if isinstance(value, str)
                else None
            )
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            return (
                "must be an RFC 3339 timestamp with a time zone, e.g. 2026-11-24T10:00:00Z",
                value,
            )
        value = parsed.astimezone(UTC)
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


def _decimal(field: Field, value: Any) -> tuple[str | None, Any]:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return "must be a number", value
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        return "must be a number", value
    if not number.is_finite():
        return "must be a finite number", value
    exponent = number.normalize().as_tuple().exponent
    if field.places is not None and isinstance(exponent, int) and -exponent > field.places:
        return f"may have at most {field.places} decimals", value
    if field.minimum is not None and number < field.minimum:
        return f"must be at least {field.minimum}", value
    if field.maximum is not None and number > field.maximum:
        return f"must be at most {field.maximum}", value
    return None, number
