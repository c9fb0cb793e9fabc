"""The OpenAPI document's finishing: what Litestar cannot derive from the handlers.

Handlers read raw bodies (to report every invalid field, where a decoder stops at the first),
so the request-body schemas are registered here explicitly, turned from msgspec's JSON Schema
into Litestar's objects. The answers every route can give through shared code (authentication,
query and body checks, rate limits, database deadlines) are added here once, and the links that
say which operation's answer feeds which next one (what clients, and Schemathesis's stateful
tests, follow).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, fields
from typing import Any

import msgspec
from litestar.openapi.spec import (
    Example,
    Link,
    OpenAPI,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
)

from fastfaktura.api.errors import PROBLEM_JSON, RETRY_AFTER_STATUSES, problem_answer

_SCHEMA_FIELDS = {f.name for f in fields(Schema)}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _hoisted(raw: dict[str, Any]) -> dict[str, Any]:
    """msgspec puts the description and examples of `Annotated[X, Meta(...)] | None` on the X
    branch of the `anyOf`: readers and generators look for them on the property itself. Of
    several branches (a number or a string), the first described one speaks for the field."""
    branches = [b for b in raw.get("anyOf", []) if "$ref" not in b and b.get("type") != "null"]
    described = [b for b in branches if "description" in b]
    if not described:
        return raw
    hoisted = {k: described[0][k] for k in ("description", "examples") if k in described[0]}
    return {**hoisted, **raw}


def to_schema(raw: Any) -> Any:
    if isinstance(raw, list):
        return [to_schema(item) for item in raw]
    if not isinstance(raw, dict):
        return raw
    if "$ref" in raw:
        return Reference(ref=raw["$ref"])
    raw = _hoisted(raw)
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        name = _snake(key)
        if name not in _SCHEMA_FIELDS:
            continue
        if name == "properties":
            kwargs[name] = {k: to_schema(v) for k, v in value.items()}
        elif name in ("items", "any_of", "one_of", "all_of", "additional_properties"):
            kwargs[name] = to_schema(value)
        else:
            kwargs[name] = value
    return Schema(**kwargs)


def components(*types: type[msgspec.Struct]) -> dict[str, Schema]:
    _, defs = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    return {name: to_schema(schema) for name, schema in defs.items()}


# Every struct `json_body` documents, for app.py to add to the document's components (Litestar
# derives components from handler signatures only, and our bodies are read raw).
REQUEST_BODIES: list[type[msgspec.Struct]] = []


def json_body(
    struct: type[msgspec.Struct], description: str, *, required: bool = True
) -> type[Operation]:
    """An Operation class documenting `struct` as the route's JSON request body."""
    if struct not in REQUEST_BODIES:
        REQUEST_BODIES.append(struct)

    @dataclass
    class BodyOperation(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                content={
                    "application/json": OpenAPIMediaType(
                        schema=Reference(ref=f"#/components/schemas/{struct.__name__}")
                    )
                },
                description=description,
                required=required,
            )

    return BodyOperation


# Answers sent in more than one media type (Litestar declares one per answer): {operationId:
# {status: the others}}. The logo is a PNG or a JPEG, as uploaded (issue 17).
OTHER_MEDIA_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "GetBusinessLogo": {"200": ("image/jpeg",)},
}


def image_body(description: str, media_types: tuple[str, ...]) -> type[Operation]:
    """An Operation class documenting a raw image request body (issue 17: the logo), one
    entry per accepted `Content-Type`."""

    @dataclass
    class ImageBodyOperation(Operation):
        def __post_init__(self) -> None:
            binary = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
            self.request_body = RequestBody(
                content={kind: OpenAPIMediaType(schema=binary) for kind in media_types},
                description=description,
                required=True,
            )

    return ImageBodyOperation


# Which answer feeds which next operation: {(operationId, status): {target operationId:
# (parameters, requestBody)}}, values as OpenAPI runtime expressions.
_CLIENT_ID = {"client_id": "$response.body#/id"}
_INVOICE_ID = {"invoice_id": "$response.body#/id"}
_SENT_INVOICE_ID = {"invoice_id": "$response.body#/invoice/id"}
_INVOICE_READS_AND_COMMANDS = (
    "GetInvoice",
    "ListInvoiceEvents",
    "GetInvoicePdf",
    "GetInvoiceXml",  # issue 14
    "ValidateInvoice",
    "SendInvoice",
    "RecordPayment",
    "CancelInvoice",
)
LINKS: dict[tuple[str, str], dict[str, tuple[dict[str, str], dict[str, str] | None]]] = {
    ("CreateClient", "201"): {
        "GetClient": (_CLIENT_ID, None),
        "UpdateClient": (_CLIENT_ID, None),
        "ArchiveClient": (_CLIENT_ID, None),
        # An invoice for the client just made (the rest of the body as generated).
        "CreateInvoice": ({}, {"client_id": "$response.body#/id"}),
    },
    ("UpdateClient", "200"): {"GetClient": (_CLIENT_ID, None)},
    ("CreateInvoice", "201"): {
        **dict.fromkeys(_INVOICE_READS_AND_COMMANDS, (_INVOICE_ID, None)),
        "ListSandboxMessages": (_INVOICE_ID, None),
        "UpdateInvoice": (_INVOICE_ID, None),
    },
    ("UpdateInvoice", "200"): dict.fromkeys(_INVOICE_READS_AND_COMMANDS, (_INVOICE_ID, None)),
    ("SendInvoice", "200"): {
        **dict.fromkeys(_INVOICE_READS_AND_COMMANDS, (_SENT_INVOICE_ID, None)),
        "ListSandboxMessages": (_SENT_INVOICE_ID, None),
    },
    ("RecordPayment", "201"): dict.fromkeys(_INVOICE_READS_AND_COMMANDS, (_INVOICE_ID, None)),
    ("CancelInvoice", "200"): dict.fromkeys(_INVOICE_READS_AND_COMMANDS, (_INVOICE_ID, None)),
    ("CreateCreditNote", "201"): dict.fromkeys(
        ("GetCreditNote", "ListCreditNoteEvents", "RecordRefund"),
        ({"credit_note_id": "$response.body#/id"}, None),
    ),
}


def _operations(document: OpenAPI) -> list[Operation]:
    return [operation for _, operation in _operations_by_method(document)]


def _operations_by_method(document: OpenAPI) -> list[tuple[str, Operation]]:
    found = []
    for item in (document.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method)
            if operation is not None:
                found.append((method, operation))
    return found


def _is_problem(answer: OpenAPIResponse | Reference) -> bool:
    return isinstance(answer, OpenAPIResponse) and PROBLEM_JSON in (answer.content or {})


def _describe_path_parameters(operation: Operation) -> None:
    """An id in the path (`invoice_id`, ...) is the UUID of the resource it names."""
    for parameter in operation.parameters or []:
        if (
            isinstance(parameter, Parameter)
            and parameter.param_in == "path"
            and parameter.description is None
            and parameter.name.endswith("_id")
        ):
            thing = parameter.name.removesuffix("_id").replace("_", " ")
            parameter.description = f"The {thing}'s id (a UUID)"
            parameter.examples = parameter.examples or {
                "id": Example(value="8d7e5b4a-3c2f-4e1d-9b0a-6f5e4d3c2b1a")
            }


def complete_answers(document: OpenAPI) -> None:
    """Document, on every operation, the answers that come from shared code rather than
    from its handler, and drop Litestar's default 400 entry, a shape the service never
    sends (its invalid parameters are a 422 problem)."""
    for method, operation in _operations_by_method(document):
        responses = operation.responses or {}
        if "400" in responses and not _is_problem(responses["400"]):
            del responses["400"]
        statuses = [503]  # the database unavailable or too slow
        if operation.security:
            statuses += [401, 422, 429]  # the key, query parameters, the per-key rate limit
        if operation.request_body is not None:
            statuses += [400, 413, 422]
        if any(
            isinstance(p, Parameter) and p.param_in == "path" for p in operation.parameters or []
        ):
            statuses.append(404)
        if method == "post" and operation.security:
            # Every POST behind a key takes an Idempotency-Key (api/idempotency.py): reused
            # with another request, 409. The header is left out of the parameters: fuzzers
            # would send the same few keys again and have their scenarios replayed.
            statuses.append(409)
        _describe_path_parameters(operation)
        for status in sorted(set(statuses)):
            responses.setdefault(str(status), problem_answer(status))
        # A handler's own 429/503 (e.g. the PDF queue is full) says when to come back too.
        for status in RETRY_AFTER_STATUSES:
            declared = responses.get(str(status))
            if isinstance(declared, OpenAPIResponse) and _is_problem(declared):
                declared.headers = declared.headers or problem_answer(status).headers
        for code, media_types in OTHER_MEDIA_TYPES.get(operation.operation_id or "", {}).items():
            answer = responses.get(code)
            if isinstance(answer, OpenAPIResponse) and answer.content:
                first = next(iter(answer.content.values()))
                for media_type in media_types:
                    answer.content.setdefault(media_type, first)
        operation.responses = dict(sorted(responses.items()))


def _struct_classes() -> dict[str, list[type[msgspec.Struct]]]:
    found: dict[str, list[type[msgspec.Struct]]] = {}
    pending: list[type[msgspec.Struct]] = [msgspec.Struct]
    while pending:
        for subclass in pending.pop().__subclasses__():
            found.setdefault(subclass.__name__, []).append(subclass)
            pending.append(subclass)
    return found


def describe_schemas(document: OpenAPI) -> None:
    """Each component schema Litestar made from a msgspec struct, described by the struct's
    docstring (Litestar leaves it out; msgspec's own schemas, the request bodies, keep it)."""
    structs = _struct_classes()
    for name, schema in (document.components.schemas or {}).items():
        candidates = structs.get(name, [])
        if schema.description is None and len(candidates) == 1 and candidates[0].__doc__:
            schema.description = inspect.cleandoc(candidates[0].__doc__)


def _number_once(schema: Any) -> None:
    """Litestar renders `int | float` as `oneOf: [integer, number]`, which every whole number
    matches twice, making it invalid under `oneOf`: keep `number`, which holds both."""
    if not isinstance(schema, Schema):
        return
    branches = schema.one_of or []
    types = {branch.type for branch in branches if isinstance(branch, Schema)}
    if {OpenAPIType.INTEGER, OpenAPIType.NUMBER} <= types:
        schema.one_of = [
            b for b in branches if not (isinstance(b, Schema) and b.type == OpenAPIType.INTEGER)
        ]
    for child in [
        *(schema.properties or {}).values(),
        *(schema.one_of or []),
        *(schema.any_of or []),
        *(schema.all_of or []),
        schema.items,
    ]:
        _number_once(child)


def fix_number_unions(document: OpenAPI) -> None:
    """Every `int | float` of the document's schemas as a single `number`."""
    for schema in (document.components.schemas or {}).values():
        _number_once(schema)


def add_links(document: OpenAPI) -> None:
    """The links of LINKS on the answers they leave from."""
    by_id = {operation.operation_id: operation for operation in _operations(document)}
    for (source, status), targets in LINKS.items():
        answer = (by_id[source].responses or {})[status]
        assert isinstance(answer, OpenAPIResponse)
        answer.links = {
            target: Link(
                operation_id=target,
                parameters=dict(parameters) or None,
                request_body=body,
                description=f"{target} with what {source} answered",
            )
            for target, (parameters, body) in targets.items()
        }
