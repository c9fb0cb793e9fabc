"""GET /api/v1/invoices/{id}/validation: the legal checks of an invoice (API.md "E-invoices and
legal checks"). For a draft, what its first send would meet; for an issued invoice, how it
stands against today's rules. Reads the event store (the invoice and the business), records
nothing."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from fastfaktura.adapters.deadlines import run_in_thread
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import answers
from fastfaktura.api.services import parse_id, services
from fastfaktura.domain.einvoice_rules import Finding


class RuleFinding(msgspec.Struct, kw_only=True):
    """One rule an invoice breaks (or deserves a look at): its field, code and words."""

    field: Annotated[
        str,
        msgspec.Meta(
            description="The API field the rule is about (business.*, client.*, lines[i].*, ...)",
            examples=["business.address"],
        ),
    ]
    rule: Annotated[
        str,
        msgspec.Meta(
            description="The rule's code: EN 16931 (BR-*), Peppol BIS (PEPPOL-*), national "
            "(NO-R-*, DK-R-*), French reform (BR-FR-*), or FastFaktura's own (FF-*); "
            "docs/e-invoicing.md lists them",
            examples=["BR-08"],
        ),
    ]
    message: Annotated[
        str,
        msgspec.Meta(
            description="What is wrong, for people",
            examples=["the seller's postal address is required on an invoice"],
        ),
    ]


class InvoiceValidation(msgspec.Struct, kw_only=True):
    """The legal checks' report on an invoice: what its first send would meet."""

    valid: Annotated[
        bool,
        msgspec.Meta(
            description="True when no rule is broken: the invoice can be sent (issued)",
            examples=[True],
        ),
    ]
    errors: Annotated[
        list[RuleFinding],
        msgspec.Meta(description="Broken rules that refuse the first send", examples=[[]]),
    ]
    warnings: Annotated[
        list[RuleFinding],
        msgspec.Meta(
            description="Rules worth a look that do not refuse the send (e.g. a client "
            "without a country, taken to be in the seller's)",
            examples=[
                [
                    {
                        "field": "client.country",
                        "rule": "FF-BUYER-COUNTRY",
                        "message": "the client has no country: the e-invoice says FR, the seller's",
                    }
                ]
            ],
        ),
    ]


def _findings(found: tuple[Finding, ...]) -> list[RuleFinding]:
    return [RuleFinding(field=f.field, rule=f.rule, message=f.message) for f in found]


class InvoiceValidationController(Controller):
    path = "/api/v1/invoices"
    security = API_KEY_SECURITY
    tags = ["Invoices"]

    @get(
        "/{invoice_id:str}/validation",
        operation_id="ValidateInvoice",
        summary="The legal checks of an invoice (EN 16931, Peppol BIS, French reform)",
        description=(
            "Every rule the invoice breaks (`errors`: its first send would be refused with "
            "`422` listing them) and the rules worth a look (`warnings`). For a draft, the "
            "checks its send would meet. Nothing is recorded."
        ),
        responses=answers(200, InvoiceValidation, "The checks' outcome", 401, 404, 422),
    )
    async def validate_invoice(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        invoice_id: FromPath[str],
    ) -> InvoiceValidation:
        target = parse_id(invoice_id, "invoice")
        svc = services(request.app.state)
        report = await run_in_thread(
            lambda: svc.app.validate_invoice(tenant.business_id, target),
            svc.settings.database_timeout,
        )
        return InvoiceValidation(
            valid=report.valid,
            errors=_findings(report.errors),
            warnings=_findings(report.warnings),
        )
