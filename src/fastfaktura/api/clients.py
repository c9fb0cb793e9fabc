"""/api/v1/clients: a business's customers. DELETE archives; nothing is ever erased."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import answers, problem_responses
from fastfaktura.api.fields import CLIENT_CREATE_FIELDS, CLIENT_FIELDS, CLIENT_READ_ONLY
from fastfaktura.api.idempotency import idempotent
from fastfaktura.api.input import (
    CONTROL_MESSAGE,
    Page,
    PerPage,
    check,
    has_control_characters,
    json_object,
)
from fastfaktura.api.openapi import json_body
from fastfaktura.api.schemas import (
    ClientCreateRequest,
    ClientPage,
    ClientResponse,
    ClientUpdateRequest,
)
from fastfaktura.api.services import json_response, parse_id, services
from fastfaktura.domain.errors import FieldError, InvalidInputError, NotFoundError
from fastfaktura.readmodels.models import ClientsReadModel
from fastfaktura.readmodels.queries.clients import client_page, find_client

_ROWS = ClientsReadModel()


def _response(client: Any) -> ClientResponse:
    return ClientResponse.from_row(_ROWS.rows(client)["rm_clients"][0])


class ClientController(Controller):
    path = "/api/v1/clients"
    security = API_KEY_SECURITY
    tags = ["Clients"]

    @get(
        operation_id="ListClients",
        description=(
            "The business's clients sorted by name, paged. `q` searches name, email and phone; "
            "archived clients appear only with `archived=true`."
        ),
        summary="List clients, sorted by name",
        responses=problem_responses(401, 422),
    )
    async def list_clients(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        page: Page = 1,
        per_page: PerPage = 50,
        q: Annotated[
            str | None, Parameter(description="Substring of name, email or phone", max_length=200)
        ] = None,
        archived: Annotated[bool, Parameter(description="Include archived clients")] = False,
    ) -> ClientPage:
        search = q.strip() if q and q.strip() else None
        if search is not None and has_control_characters(search):
            raise InvalidInputError([FieldError("q", CONTROL_MESSAGE)])
        clients, total = await services(request.app.state).read(
            lambda db: client_page(
                db, tenant.business_id, q=search, archived=archived, page=page, per_page=per_page
            )
        )
        return ClientPage(
            data=clients,
            page=page,
            per_page=per_page,
            total=total,
        )

    @post(
        operation_id="CreateClient",
        description=(
            "Creates a client (`name` required). `external_id`, your own reference, is unique "
            "among live clients: a second live client with it answers 409. Answers 201 with a "
            "`Location` header."
        ),
        summary="Create a client",
        status_code=201,
        operation_class=json_body(ClientCreateRequest, "The new client"),
        responses=answers(201, ClientResponse, "Created", 400, 401, 409, 422),
    )
    async def create_client(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[bytes]:
        async def produce() -> Response[bytes]:
            details = check(
                json_object(await request.body()),
                CLIENT_CREATE_FIELDS,
                read_only=CLIENT_READ_ONLY,
            )
            svc = services(request.app.state)
            written = await svc.execute(
                lambda: svc.app.register_client(tenant.business_id, details)
            )
            body = _response(written.value)
            return json_response(body, 201, {"Location": f"/api/v1/clients/{body.id}"})

        return await idempotent(request, tenant, produce)

    @get(
        "/{client_id:str}",
        operation_id="GetClient",
        description=(
            "One client of the business, archived or not. Another business's client answers "
            "404, like an id that does not exist."
        ),
        summary="One client (archived ones too)",
        responses=problem_responses(401, 404),
    )
    async def get_client(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        client_id: FromPath[str],
    ) -> ClientResponse:
        target = parse_id(client_id, "client")
        client = await services(request.app.state).read(
            lambda db: find_client(db, tenant.business_id, target)
        )
        if client is None:
            raise NotFoundError("client")
        return client

    @put(
        "/{client_id:str}",
        operation_id="UpdateClient",
        description=(
            "Merges the body into the client: fields left out keep their value, `null` clears a "
            "nullable field, `tags` is replaced whole. Invoices already created keep the "
            "details frozen into them."
        ),
        summary="Update a client (merge: omitted fields are kept, null clears)",
        operation_class=json_body(ClientUpdateRequest, "Fields to change"),
        responses=problem_responses(400, 401, 404, 409, 422),
    )
    async def update_client(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        client_id: FromPath[str],
    ) -> ClientResponse:
        target = parse_id(client_id, "client")
        changes = check(
            json_object(await request.body()), CLIENT_FIELDS, read_only=CLIENT_READ_ONLY
        )
        svc = services(request.app.state)
        written = await svc.execute(
            lambda: svc.app.change_client(tenant.business_id, target, changes)
        )
        return _response(written.value)

    @delete(
        "/{client_id:str}",
        operation_id="ArchiveClient",
        description=(
            "Archives the client: nothing is erased, it stays readable (and in lists with "
            "`archived=true`), but takes no new invoices. Answers with the archived client."
        ),
        summary="Archive a client (never erased; stays readable, takes no new invoices)",
        status_code=200,
        responses=problem_responses(401, 404, 409),
    )
    async def archive_client(
        self,
        request: Request[Any, Any, Any],
        tenant: NamedDependency[Tenant],
        client_id: FromPath[str],
    ) -> ClientResponse:
        target = parse_id(client_id, "client")
        svc = services(request.app.state)
        written = await svc.execute(lambda: svc.app.archive_client(tenant.business_id, target))
        return _response(written.value)
