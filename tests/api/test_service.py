"""The service's own endpoints: readiness with projection lag, and the OpenAPI 3.1 document."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar.testing import AsyncTestClient

from fastfaktura.readmodels.models import READ_MODELS
from tests.conftest import Account
from tests.helpers import settle


async def _healthy(client: AsyncTestClient[Any], timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/health")
        if response.status_code == 200 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_health_reports_every_projection_with_its_lag_once_ready(
    client: AsyncTestClient[Any], account: Account, database_url: str
) -> None:
    created = await client.post("/api/v1/clients", headers=account.headers, json={"name": "H"})
    assert created.status_code == 201
    health = await _healthy(client)
    assert health["status"] == "ok"
    projections = {p["name"]: p for p in health["projections"]}
    assert set(projections) == {model.name for model in READ_MODELS}
    for name, projection in projections.items():
        assert {"name", "position", "head", "lag"} <= set(projection), name
        assert isinstance(projection["lag"], int), name
        assert projection["lag"] >= 0, name
        assert 0 <= projection["position"] <= projection["head"], name
    # The client just written has been applied (read-your-writes): clients has no lag and
    # its position is at least that event's.
    assert projections["clients"]["lag"] == 0
    assert projections["clients"]["position"] > 0
    # Once the projections have settled, every lag is 0.
    settle(database_url)
    settled = await _healthy(client)
    assert [p["lag"] for p in settled["projections"]] == [0] * len(READ_MODELS)
    heads = {p["head"] for p in health["projections"]}
    assert len(heads) == 1  # one event store, one head


async def test_health_needs_no_api_key(client: AsyncTestClient[Any]) -> None:
    await _healthy(client)
    response = await client.get("/health", headers={"X-Api-Key": "garbage"})
    assert response.status_code == 200


async def _openapi(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/"), ref
    schemas = document["components"]["schemas"]
    name = ref.rsplit("/", 1)[1]
    assert name in schemas, f"{ref} is referenced but not defined (have: {sorted(schemas)})"
    schema: dict[str, Any] = schemas[name]
    return schema


async def test_openapi_document_is_3_1_with_every_path_and_operation(
    client: AsyncTestClient[Any],
) -> None:
    document = await _openapi(client)
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    expected = {
        "/api/v1/business": {"get", "put"},
        "/api/v1/clients": {"get", "post"},
        "/api/v1/clients/{client_id}": {"get", "put", "delete"},
    }
    for path, methods in expected.items():
        assert path in paths, sorted(paths)
        assert methods <= set(paths[path]), (path, sorted(paths[path]))
    list_params = {p["name"] for p in paths["/api/v1/clients"]["get"]["parameters"]}
    assert {"page", "per_page", "q", "archived"} <= list_params
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKey"]["name"] == "X-Api-Key"
    assert schemes["Bearer"]["scheme"] == "bearer"


async def test_openapi_request_bodies_resolve_to_their_schemas(
    client: AsyncTestClient[Any],
) -> None:
    document = await _openapi(client)
    paths = document["paths"]
    bodies = {
        ("/api/v1/clients", "post"): "ClientCreateRequest",
        ("/api/v1/clients/{client_id}", "put"): "ClientUpdateRequest",
        ("/api/v1/business", "put"): "BusinessUpdateRequest",
    }
    for (path, method), name in bodies.items():
        content = paths[path][method]["requestBody"]["content"]["application/json"]
        ref = content["schema"]["$ref"]
        assert ref == f"#/components/schemas/{name}"
        schema = _resolve(document, ref)
        assert schema["type"] == "object"
        assert "name" in schema["properties"]
    create = _resolve(document, "#/components/schemas/ClientCreateRequest")
    assert create["required"] == ["name"]
    assert set(create["properties"]) == {
        "name",
        "email",
        "phone",
        "address",
        "country",
        "locale",
        "external_id",
        "tags",
        "vat_number",
        "company_id",
    }
    business = _resolve(document, "#/components/schemas/BusinessUpdateRequest")
    assert {"iban", "bic", "currency", "payment_terms_days", "invoice_prefix"} <= set(
        business["properties"]
    )
    assert "mode" not in business["properties"]


def _enums(node: Any) -> list[list[Any]]:
    """Every `enum` list anywhere in a JSON document."""
    found: list[list[Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "enum" and isinstance(value, list):
                found.append(value)
            else:
                found += _enums(value)
    elif isinstance(node, list):
        for item in node:
            found += _enums(item)
    return found


async def test_openapi_documents_the_locale_currency_and_mode_enums(
    client: AsyncTestClient[Any],
) -> None:
    document = await _openapi(client)
    schemas = document["components"]["schemas"]
    for name in ("ClientResponse", "BusinessResponse", "ClientCreateRequest"):
        enums = [sorted(e) for e in _enums(schemas.get(name, {}))]
        assert sorted(["fr", "en", "nb", "sv"]) in enums, name
    business_enums = [sorted(e) for e in _enums(schemas["BusinessResponse"])]
    assert sorted(["EUR", "USD", "GBP", "NOK", "SEK", "DKK"]) in business_enums
    assert ["live", "sandbox"] in business_enums


async def test_openapi_asks_for_an_api_key_exactly_where_one_is_needed(
    client: AsyncTestClient[Any],
) -> None:
    """Every /api/v1 operation takes an API key but the Stripe webhook (its signature
    authenticates it); /health and the public page take none."""
    document = await _openapi(client)
    keyed, open_ = set(), set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            (keyed if operation.get("security") else open_).add((method, path))
    assert open_ == {("post", "/api/v1/webhooks/stripe"), ("get", "/health")}
    assert all(path.startswith("/api/v1/") for _, path in keyed)
    assert ("post", "/api/v1/invoices/{invoice_id}/send") in keyed
    security = document["paths"]["/api/v1/clients"]["get"]["security"]
    assert security == [{"ApiKey": []}, {"Bearer": []}]
