"""The OpenAPI document describes everything it holds (issue 17): every operation has a summary
and a description, every parameter a description, every error answer the problem schema, and
every schema and field a description and an example.

The checks walk the served document, so an operation or a field added later without its
documentation fails here. Each list names every offender at once.
"""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# Answers that are deliberately not a problem: /health's 503 is its readiness report (the same
# Health body as its 200, which monitors read), not an error of the request.
NOT_PROBLEMS = {("GET /health", "503")}


@pytest.fixture
async def document(client: AsyncTestClient[Any]) -> dict[str, Any]:
    answer = await client.get("/schema/openapi.json")
    assert answer.status_code == 200
    found: dict[str, Any] = answer.json()
    return found


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }


def _is_reference(schema: dict[str, Any]) -> bool:
    return "$ref" in schema


def _lists_references(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" and _is_reference(schema.get("items", {}))


def needs_description(schema: dict[str, Any]) -> bool:
    """A bare $ref is exempt: the schema it names is described, and Litestar renders a
    property of a struct type as a Reference, which holds nothing else."""
    return not _is_reference(schema)


def needs_example(schema: dict[str, Any]) -> bool:
    """A bare $ref, or a list of them, is exempt: the fields of the schema it names carry
    their examples (a whole nested example would repeat them and drift from them)."""
    return not (_is_reference(schema) or _lists_references(schema))


def test_the_exemptions_are_narrow() -> None:
    """A plain field needs both; only references (and lists of them) are let off."""
    assert needs_description({"type": "string"})
    assert needs_example({"type": "array", "items": {"type": "string"}})
    assert needs_example({"oneOf": [{"$ref": "#/components/schemas/X"}, {"type": "null"}]})
    assert not needs_description({"$ref": "#/components/schemas/X"})
    assert needs_description({"type": "array", "items": {"$ref": "#/components/schemas/X"}})
    assert not needs_example({"type": "array", "items": {"$ref": "#/components/schemas/X"}})


async def test_every_operation_has_a_summary_and_a_description(document: dict[str, Any]) -> None:
    missing = [
        (label, field)
        for label, operation in operations(document).items()
        for field in ("summary", "description")
        if not str(operation.get(field, "")).strip()
    ]
    assert missing == []


async def test_every_parameter_is_described(document: dict[str, Any]) -> None:
    missing = [
        (label, parameter["in"], parameter["name"])
        for label, operation in operations(document).items()
        for parameter in operation.get("parameters", [])
        if not str(parameter.get("description", "")).strip()
    ]
    assert missing == []


async def test_every_error_answer_is_a_described_problem(document: dict[str, Any]) -> None:
    wrong = [
        (label, status)
        for label, operation in operations(document).items()
        for status, answer in operation["responses"].items()
        if int(status) >= 400
        and (label, status) not in NOT_PROBLEMS
        and (answer.get("content") != PROBLEM or not answer.get("description"))
    ]
    assert wrong == []


async def test_every_answer_has_a_description(document: dict[str, Any]) -> None:
    missing = [
        (label, status)
        for label, operation in operations(document).items()
        for status, answer in operation["responses"].items()
        if not str(answer.get("description", "")).strip()
    ]
    assert missing == []


async def test_every_schema_is_described(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas
    missing = [name for name, schema in schemas.items() if not schema.get("description")]
    assert missing == []


async def test_every_field_is_described(document: dict[str, Any]) -> None:
    missing = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, property_schema in schema.get("properties", {}).items()
        if needs_description(property_schema) and not property_schema.get("description")
    ]
    assert missing == []


async def test_every_field_has_an_example(document: dict[str, Any]) -> None:
    missing = [
        f"{name}.{field}"
        for name, schema in document["components"]["schemas"].items()
        for field, property_schema in schema.get("properties", {}).items()
        if needs_example(property_schema)
        and not property_schema.get("examples")
        and "example" not in property_schema
    ]
    assert missing == []


async def test_the_request_bodies_are_components(document: dict[str, Any]) -> None:
    """A body naming a schema the components lack is unreadable: generators drop the
    operation (PUT /invoices/{id} and POST /webhook_endpoints were)."""
    schemas = document["components"]["schemas"]
    dangling = [
        (label, body["schema"]["$ref"])
        for label, operation in operations(document).items()
        for body in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in body["schema"]  # an image body (the logo) is bytes, not a schema
        and body["schema"]["$ref"].removeprefix("#/components/schemas/") not in schemas
    ]
    assert dangling == []


async def test_the_contract_enums_are_listed(document: dict[str, Any]) -> None:
    """API.md's enums appear as enums, so clients get them as types."""
    schemas = document["components"]["schemas"]

    def enum_of(name: str, field: str) -> set[str]:
        found = schemas[name]["properties"][field]
        return set(found.get("enum") or found["items"]["enum"])

    assert enum_of("InvoiceResponse", "status") == {
        "draft",
        "sent",
        "opened",
        "paid",
        "overdue",
        "cancelled",
    }
    assert enum_of("InvoiceResponse", "currency") == {"EUR", "USD", "GBP", "NOK", "SEK", "DKK"}
    assert enum_of("ClientResponse", "locale") == {"fr", "en", "nb", "sv"}
    assert enum_of("PaymentRequest", "method") == {"bank_transfer", "card", "cash", "other"}
    assert enum_of("SendRequest", "channels") == {"email", "sms", "link"}
    assert enum_of("DeliveryResponse", "status") == {"simulated", "pending", "delivered", "failed"}
    assert enum_of("BusinessResponse", "mode") == {"sandbox", "live"}
