"""Query parameters: a name the route does not declare, or one given twice, is a 422 naming it
(API.md "Lists"), checked by the `QueryCheck` middleware before any handler runs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.routes import HTTPRoute

from fastfaktura.domain.errors import FieldError, InvalidInputError

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Scope, Send

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
    """ASGI middleware: on every /api/v1 route, a query parameter the route does not declare,
    or one given twice, is a 422 naming it, before the handler runs (a typo must never widen
    or narrow a list silently)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._declared: dict[int, DeclaredQuery] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] == ScopeType.HTTP
            and scope.get("method") != "OPTIONS"
            and (path == API_PREFIX or path.startswith(API_PREFIX + "/"))
            and scope.get("query_string")
        ):
            handler = scope["route_handler"]
            declared = self._declared.get(id(handler))
            if declared is None:
                declared = self._declared[id(handler)] = declared_query(
                    scope["litestar_app"], handler
                )
            request: Request[Any, Any, Any] = Request(scope)
            errors = query_errors(request.query_params.multi_items(), declared)
            if errors:
                raise InvalidInputError(errors)
        await self.app(scope, receive, send)
