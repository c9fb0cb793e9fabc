"""OpenAPI for bodies we check ourselves: msgspec's JSON Schema turned into Litestar's objects.

Handlers read raw bodies (to report every invalid field, where a decoder stops at the first),
so the request-body schemas are registered here explicitly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

import msgspec
from litestar.openapi.spec import OpenAPIMediaType, Operation, Reference, RequestBody, Schema

_SCHEMA_FIELDS = {f.name for f in fields(Schema)}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def to_schema(raw: Any) -> Any:
    if isinstance(raw, list):
        return [to_schema(item) for item in raw]
    if not isinstance(raw, dict):
        return raw
    if "$ref" in raw:
        return Reference(ref=raw["$ref"])
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


def json_body(
    struct: type[msgspec.Struct], description: str, *, required: bool = True
) -> type[Operation]:
    """An Operation class documenting `struct` as the route's JSON request body."""

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
