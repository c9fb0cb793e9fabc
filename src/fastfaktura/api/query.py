"""Query parameters: a name the route does not declare, or one given twice, is a 422 naming it
(API.md "Lists"), checked by the `QueryCheck` hook before any handler runs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.routes import HTTPRoute

from fastfaktura.domain.errors import FieldError, InvalidInputError

# Where the query rule applies. The public page (/i/...) is left out on purpose: links to it
# get tracking parameters added by mail clients and link shorteners (utm_source, fbclid, ...).
API_PREFIX = "/api/v1"
_INTEGER = re.compile(r"-?[0-9]+")
_MAX_NAME_SHOWN = 100


@dataclass(frozen=True)
class DeclaredQuery:
    """The query parameters one route handler reads, as Litestar's own parameter model sees
    them (the handler's and its dependencies'): so a new endpoint is covered by declaring its
    parameters, and nothing else."""

    names: frozenset[str]
    repeatable: frozenset[str]  # declared as sequences
    integers: frozenset[str]
    takes_any: bool  # the handler reads the whole query itself


def declared_query(app: Any, handler: Any) -> DeclaredQuery:
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for route_handler, model in route.route_handler_map.values():
            if route_handler is handler:
                signature = handler.parsed_fn_signature.parameters
                integers = {
                    p.field_alias
                    for p in model.expected_query_params
                    if p.field_name in signature and signature[p.field_name].annotation is int
                }
                return DeclaredQuery(
                    names=frozenset(p.field_alias for p in model.expected_query_params),
                    repeatable=frozenset(model.sequence_query_parameter_names),
                    integers=frozenset(integers),
                    takes_any="query" in model.expected_reserved_kwargs,
                )
    return DeclaredQuery(frozenset(), frozenset(), frozenset(), takes_any=True)


def query_errors(query: Iterable[tuple[str, Any]], declared: DeclaredQuery) -> list[FieldError]:
    """Every unknown name, every name given twice, and every integer not written as one."""
    if declared.takes_any:
        return []
    values: dict[str, list[Any]] = {}
    for name, value in query:
        values.setdefault(name, []).append(value)
    unknown = (
        f"is not a query parameter of this endpoint (known: {', '.join(sorted(declared.names))})"
        if declared.names
        else "is not a query parameter of this endpoint (it takes none)"
    )
    errors = []
    for name, given in values.items():
        shown = name[:_MAX_NAME_SHOWN]
        if name not in declared.names:
            errors.append(FieldError(shown, unknown))
        elif len(given) > 1 and name not in declared.repeatable:
            errors.append(FieldError(shown, "may be given only once"))
        elif name in declared.integers and not _INTEGER.fullmatch(str(given[0])):
            errors.append(FieldError(shown, "must be an integer written with ASCII digits"))
    return errors


class QueryCheck:
    """The app's `before_request` hook: on every /api/v1 route, a query parameter the route does
    not declare, or one given twice, is a 422 naming it, before the tenant dependency and the
    handler run (a typo must never widen or narrow a list silently). A hook, not a middleware:
    a route with no middleware of its own skips a layer and Litestar's inner exception wrapper
    per request (issue 12). Litestar takes the nearest layer's hook only: a controller or
    handler with a `before_request` of its own must call this one."""

    def __init__(self) -> None:
        self._declared: dict[int, DeclaredQuery] = {}

    async def __call__(self, request: Request[Any, Any, Any]) -> None:
        scope = request.scope
        if not scope.get("query_string") or scope.get("method") == "OPTIONS":
            return
        path = scope["path"]
        if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
            return
        handler = scope["route_handler"]
        declared = self._declared.get(id(handler))
        if declared is None:
            declared = self._declared[id(handler)] = declared_query(scope["litestar_app"], handler)
        errors = query_errors(request.query_params.multi_items(), declared)
        if errors:
            raise InvalidInputError(errors)
