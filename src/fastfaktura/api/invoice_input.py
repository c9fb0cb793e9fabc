"""The checks of an invoice's body (create and draft edit) and of lines (a credit note's too):
every error found at once, each naming its field."""

from __future__ import annotations

from typing import Any

from fastfaktura.api.fields import (
    INVOICE_EDIT_FIELDS,
    INVOICE_FIELDS,
    INVOICE_LINE_FIELDS,
    LINE_FIELDS,
    line_category_errors,
)
from fastfaktura.api.input import Field, check, check_each, json_object
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.domain.pricing import MAX_LINES, InvoiceLine


def parse_invoice(body: bytes, *, edit: bool = False) -> tuple[dict[str, Any], list[FieldError]]:
    """Check the body's shape, lines included: the command's fields and every error found.
    `lines` is left out when any line is invalid (the rules on lines need them all). An
    edit (a merge) requires no field."""
    data = json_object(body)
    fields = INVOICE_EDIT_FIELDS if edit else INVOICE_FIELDS
    clean, errors = check_each({k: v for k, v in data.items() if k != "lines"}, fields)
    if "lines" not in data:
        if not edit:
            errors.append(FieldError("lines", "is required"))
    else:
        lines, line_errors = parse_lines(data["lines"], INVOICE_LINE_FIELDS)
        errors += line_errors
        if lines is not None:
            clean["lines"] = lines
    return clean, errors


def parse_lines(
    raw_lines: Any, fields: tuple[Field, ...] = LINE_FIELDS
) -> tuple[list[InvoiceLine] | None, list[FieldError]]:
    """Invoice lines (and a credit note's): all of them, or None and every error found."""
    errors: list[FieldError] = []
    if not isinstance(raw_lines, list):
        return None, [FieldError("lines", "must be an array of lines")]
    if not 1 <= len(raw_lines) <= MAX_LINES:
        return None, [FieldError("lines", f"must hold 1 to {MAX_LINES} lines")]
    lines: list[InvoiceLine] = []
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            errors.append(FieldError(f"lines[{index}]", "must be an object"))
            continue
        try:
            line = check(raw, fields, prefix=f"lines[{index}].")
        except InvalidInputError as exc:
            errors += exc.errors
            continue
        if category_errors := line_category_errors(line, f"lines[{index}]."):
            errors += category_errors
            continue
        lines.append(InvoiceLine(**line))
    return (lines if len(lines) == len(raw_lines) else None), errors
