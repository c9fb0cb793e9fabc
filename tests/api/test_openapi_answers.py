"""The OpenAPI document says every answer a route can give, in the shape it is sent, and how
one operation's answer feeds the next (links): what clients and the conformance run rely on."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


async def _operations(client: AsyncTestClient[Any]) -> dict[str, dict[str, Any]]:
    document = (await client.get("/schema/openapi.json")).json()
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    }


async def test_every_keyed_operation_documents_the_answers_of_shared_code(
    client: AsyncTestClient[Any],
) -> None:
    """401 (the key), 422 (query parameters), 429 (rate limit), 503 (database) on every route
    behind a key; 400 and 413 where a body is read; 404 where the path names a resource."""
    for label, operation in (await _operations(client)).items():
        responses = operation["responses"]
        expected = {"503"}
        if operation.get("security"):
            expected |= {"401", "422", "429"}
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected.add("404")
        assert expected <= set(responses), (label, sorted(responses))
        for status in expected - ({"503"} if label == "GET /health" else set()):
            assert responses[status]["content"] == PROBLEM, (label, status)
        for status in ("429", "503"):
            if status in responses and label != "GET /health":
                assert "Retry-After" in responses[status]["headers"], (label, status)


async def test_no_error_answer_is_documented_in_a_shape_never_sent(
    client: AsyncTestClient[Any],
) -> None:
    """Litestar's default 400 entry (`status_code`, `detail`, `extra` as application/json) is
    gone: invalid parameters are a 422 problem, and a 400 is a problem too."""
    for label, operation in (await _operations(client)).items():
        for status, answer in operation["responses"].items():
            if int(status) >= 400 and label != "GET /health":
                assert set(answer.get("content", {})) == {"application/problem+json"}, (
                    label,
                    status,
                )


async def test_get_invoice_and_health_document_their_error_answers(
    client: AsyncTestClient[Any],
) -> None:
    operations = await _operations(client)
    assert {"401", "404"} <= set(operations["GET /api/v1/invoices/{invoice_id}"]["responses"])
    unavailable = operations["GET /health"]["responses"]["503"]["content"]["application/json"]
    assert unavailable["schema"] == {"$ref": "#/components/schemas/Health"}


async def test_numbers_that_may_be_whole_match_their_schema_once(
    client: AsyncTestClient[Any],
) -> None:
    """A tax rate of 20 was valid under both `integer` and `number` of a `oneOf`, hence
    invalid: an answer broke its own document."""
    schemas = (await client.get("/schema/openapi.json")).json()["components"]["schemas"]
    for name, field in [
        ("InvoiceLineResponse", "quantity"),
        ("InvoiceLineResponse", "tax_rate"),
        ("TaxBreakdownItem", "rate"),
        ("BusinessResponse", "late_payment_rate"),
    ]:
        branches = schemas[name]["properties"][field].get("oneOf", [])
        types = [branch.get("type") for branch in branches]
        assert not {"integer", "number"} <= set(types), (name, field, types)


async def test_links_lead_from_a_created_resource_to_what_can_be_done_with_it(
    client: AsyncTestClient[Any],
) -> None:
    operations = await _operations(client)
    client_links = operations["POST /api/v1/clients"]["responses"]["201"]["links"]
    assert client_links["GetClient"]["parameters"] == {"client_id": "$response.body#/id"}
    assert {"UpdateClient", "ArchiveClient"} <= set(client_links)
    assert client_links["CreateInvoice"]["requestBody"] == {"client_id": "$response.body#/id"}
    invoice_links = operations["POST /api/v1/invoices"]["responses"]["201"]["links"]
    assert {
        "GetInvoice",
        "ListInvoiceEvents",
        "GetInvoicePdf",
        "SendInvoice",
        "RecordPayment",
        "CancelInvoice",
    } <= set(invoice_links)
    sent = operations["POST /api/v1/invoices/{invoice_id}/send"]["responses"]["200"]["links"]
    assert sent["RecordPayment"]["parameters"] == {"invoice_id": "$response.body#/invoice/id"}
    every_target = {
        link["operationId"]
        for operation in operations.values()
        for answer in operation["responses"].values()
        for link in answer.get("links", {}).values()
    }
    known = {operation["operationId"] for operation in operations.values()}
    assert every_target <= known
