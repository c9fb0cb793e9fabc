"""GET|PUT /api/v1/business: the caller's business profile."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency

from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import problem_responses
from fastfaktura.api.fields import BUSINESS_FIELDS, BUSINESS_READ_ONLY
from fastfaktura.api.input import check, json_object
from fastfaktura.api.openapi import json_body
from fastfaktura.api.schemas import BusinessResponse, BusinessUpdateRequest
from fastfaktura.api.services import services
from fastfaktura.domain.errors import NotFoundError
from fastfaktura.readmodels.models import BusinessReadModel
from fastfaktura.readmodels.queries.business import find_business

_ROWS = BusinessReadModel()


class BusinessController(Controller):
    path = "/api/v1/business"
    security = API_KEY_SECURITY
    tags = ["Business"]

    @get(
        operation_id="GetBusiness",
        description=(
            "The business the API key belongs to: its legal details (copied into each new "
            "invoice as `seller`), defaults for new invoices and clients, numbering prefixes "
            "and mode (sandbox or live)."
        ),
        summary="The business profile",
        responses=problem_responses(401),
    )
    async def get_business(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> BusinessResponse:
        business = await services(request.app.state).read(
            lambda db: find_business(db, tenant.business_id)
        )
        if business is None:
            raise NotFoundError("business")
        return business

    @put(
        operation_id="UpdateBusiness",
        description=(
            "Merges the body into the profile: fields left out keep their value, `null` clears "
            "a nullable field. Invoices already created keep the details frozen into them. "
            "Records `profile_changed`."
        ),
        summary="Update the profile (merge: omitted fields are kept, null clears)",
        operation_class=json_body(BusinessUpdateRequest, "Fields to change"),
        responses=problem_responses(400, 401, 409, 422),
    )
    async def update_business(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> BusinessResponse:
        changes = check(
            json_object(await request.body()), BUSINESS_FIELDS, read_only=BUSINESS_READ_ONLY
        )
        svc = services(request.app.state)
        written = await svc.execute(
            lambda: svc.app.change_business_profile(tenant.business_id, changes)
        )
        return BusinessResponse.from_row(_ROWS.rows(written.value)["rm_business"][0])
