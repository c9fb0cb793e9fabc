"""The invoice list's filters (API.md "Filters"), one dependency shared by the list and the CSV
export, so both take the same parameters and refuse the same values; and the export itself
(`GET /api/v1/invoices/export`: a static path, which Litestar's router matches before the
`/{invoice_id}` of InvoiceController).

Every parameter is declared as text and judged here: a bad value is a 422 naming it, all of
them at once, never Litestar's 400 on a type it could not convert."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency, Provide
from litestar.openapi.spec import OpenAPIFormat
from litestar.params import Parameter
from litestar.response import Stream

from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import problem_responses
from fastfaktura.api.input import CONTROL_MESSAGE, has_control_characters, parse_date, parse_uuid
from fastfaktura.api.schemas import INVOICE_STATUSES, InvoiceResponse
from fastfaktura.api.services import services
from fastfaktura.domain.errors import FieldError, InvalidInputError
from fastfaktura.readmodels.queries.invoices import InvoiceFilters, export_batches

MAX_SEARCH_CHARS = 200
EXPORT_FORMATS = ("csv",)
EXPORT_BATCH_SIZE = 500

_DATE_MESSAGE = "must be a date, YYYY-MM-DD"
# What the OpenAPI document says of the parameters (they are declared as text and judged in
# invoice_filters, so that every refusal is this module's 422).
_UUID = OpenAPIFormat.UUID
_DATE = {"format": OpenAPIFormat.DATE}
_SEARCH = {"min_length": 1, "max_length": MAX_SEARCH_CHARS, "pattern": r"\S"}


def _text(name: str, value: str | None, errors: list[FieldError]) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        errors.append(FieldError(name, "may not be blank"))
    elif has_control_characters(value):
        errors.append(FieldError(name, CONTROL_MESSAGE))
    elif len(value) > MAX_SEARCH_CHARS:
        errors.append(FieldError(name, f"must be at most {MAX_SEARCH_CHARS} characters"))
    else:
        return value
    return None


def _date(name: str, value: str | None, errors: list[FieldError]) -> date | None:
    if value is None:
        return None
    parsed = parse_date(value)
    if parsed is None:
        errors.append(FieldError(name, _DATE_MESSAGE))
    return parsed


def _range(field: str, start: date | None, end: date | None, errors: list[FieldError]) -> None:
    if start is not None and end is not None and start > end:
        errors.append(FieldError(f"{field}_from", f"must be on or before {field}_to"))


async def invoice_filters(
    status: Annotated[
        str | None, Parameter(description="One of: " + ", ".join(INVOICE_STATUSES))
    ] = None,
    client_id: Annotated[
        str | None,
        Parameter(description="The client's id (a UUID)", schema_extra={"format": _UUID}),
    ] = None,
    number: Annotated[
        str | None,
        Parameter(
            description="The invoice number, exactly, e.g. F2026-00042", schema_extra=_SEARCH
        ),
    ] = None,
    q: Annotated[
        str | None,
        Parameter(
            description="Part of the number or of the client's name on the invoice, any case",
            schema_extra=_SEARCH,
        ),
    ] = None,
    issue_date_from: Annotated[
        str | None, Parameter(description="Issued on or after (YYYY-MM-DD)", schema_extra=_DATE)
    ] = None,
    issue_date_to: Annotated[
        str | None, Parameter(description="Issued on or before (YYYY-MM-DD)", schema_extra=_DATE)
    ] = None,
    due_date_from: Annotated[
        str | None, Parameter(description="Due on or after (YYYY-MM-DD)", schema_extra=_DATE)
    ] = None,
    due_date_to: Annotated[
        str | None, Parameter(description="Due on or before (YYYY-MM-DD)", schema_extra=_DATE)
    ] = None,
) -> InvoiceFilters:
    """The filters given, checked; every bad value at once (422)."""
    errors: list[FieldError] = []
    if status is not None and status not in INVOICE_STATUSES:
        errors.append(FieldError("status", "must be one of: " + ", ".join(INVOICE_STATUSES)))
        status = None
    client = None
    if client_id is not None:
        client = parse_uuid(client_id)
        if client is None:
            errors.append(FieldError("client_id", "must be a UUID"))
    filters = InvoiceFilters(
        status=status,
        client_id=client,
        number=_text("number", number, errors),
        q=_text("q", q, errors),
        issue_date_from=_date("issue_date_from", issue_date_from, errors),
        issue_date_to=_date("issue_date_to", issue_date_to, errors),
        due_date_from=_date("due_date_from", due_date_from, errors),
        due_date_to=_date("due_date_to", due_date_to, errors),
    )
    _range("issue_date", filters.issue_date_from, filters.issue_date_to, errors)
    _range("due_date", filters.due_date_from, filters.due_date_to, errors)
    if errors:
        raise InvalidInputError(errors)
    return filters


def check_export_format(value: str | None) -> None:
    if value not in EXPORT_FORMATS:
        raise InvalidInputError(
            [FieldError("format", "must be one of: " + ", ".join(EXPORT_FORMATS))]
        )


CSV_COLUMNS = (
    "id",
    "number",
    "status",
    "client_id",
    "client_name",
    "currency",
    "issue_date",
    "due_date",
    "subtotal_cents",
    "tax_cents",
    "total_cents",
    "amount_paid_cents",
    "amount_credited_cents",
    "amount_due_cents",
    "created_at",
)
# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): quoted with a leading
# apostrophe, which spreadsheets show as text. Tab and carriage return start formulas too.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def csv_row(invoice: InvoiceResponse) -> list[str]:
    """One invoice as CSV cells. Amounts are integers (minor units), never formulas; only the
    text a user typed (number, client name) can start like one."""
    return [
        str(invoice.id),
        safe_cell(invoice.number),
        invoice.status,
        str(invoice.client_id),
        safe_cell(invoice.buyer.name),
        invoice.currency,
        invoice.issue_date.isoformat(),
        invoice.due_date.isoformat(),
        str(invoice.subtotal_cents),
        str(invoice.tax_cents),
        str(invoice.total_cents),
        str(invoice.amount_paid_cents),
        str(invoice.amount_credited_cents),
        str(invoice.amount_due_cents),
        invoice.created_at.isoformat(),
    ]


def _lines(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    # RFC 4180: CRLF line ends, a field quoted when it holds a comma, a quote or a line break.
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()


async def csv_stream(batches: AsyncIterator[list[InvoiceResponse]]) -> AsyncIterator[bytes]:
    """The header row, then one chunk per batch of invoices."""
    yield _lines([list(CSV_COLUMNS)])
    async for batch in batches:
        yield _lines(csv_row(invoice) for invoice in batch)


def export_headers() -> dict[str, Any]:
    return {"Content-Disposition": 'attachment; filename="invoices.csv"'}


class InvoiceExportController(Controller):
    path = "/api/v1/invoices"
    security = API_KEY_SECURITY
    tags = ["Invoices"]

    @get(
        "/export",
        operation_id="ExportInvoices",
        summary="Every matching invoice as CSV, streamed (the list's filters)",
        description=(
            "Header row first, one row per invoice, newest first, amounts in minor units. "
            "Cells a spreadsheet would read as a formula start with an apostrophe."
        ),
        dependencies={"filters": Provide(invoice_filters)},
        media_type="text/csv; charset=utf-8",
        responses=problem_responses(401, 422),
    )
    async def export_invoices(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        filters: NamedDependency[InvoiceFilters],
        format: Annotated[
            str | None,
            Parameter(
                description="csv (the only format); required",
                schema_extra={"enum": list(EXPORT_FORMATS)},
                required=True,
            ),
        ] = None,
    ) -> Stream:
        check_export_format(format)
        svc = services(request.app.state)
        batches = export_batches(
            svc.pool,
            tenant.business_id,
            filters,
            batch_size=EXPORT_BATCH_SIZE,
            base_url=svc.settings.base_url(),
        )
        return Stream(
            csv_stream(batches), media_type="text/csv; charset=utf-8", headers=export_headers()
        )
