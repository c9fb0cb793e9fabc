"""One mapping from errors to RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

from fastfaktura.adapters.deadlines import database_unavailable
from fastfaktura.adapters.pdf.pool import PdfRenderUnavailableError
from fastfaktura.adapters.web.page import public_error_page
from fastfaktura.api.domain_errors import conflict_field_errors, field_errors
from fastfaktura.domain.errors import (
    ConflictError,
    FieldError,
    InvalidInputError,
    NotFoundError,
    RuleBroken,
    RulesBroken,
)
from fastfaktura.readmodels.wire_types import described

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://fastfaktura.io/problems/"
# Where the public pages live (invoices, credit notes): their errors are HTML pages, never
# problem+json.
PUBLIC_PAGES_PREFIXES: Final = ("/i/", "/c/")
# What a 503 asks the client to wait before retrying (seconds).
UNAVAILABLE_RETRY_AFTER_SECONDS: Final = 5


class ProblemField(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One invalid field and what is wrong with it (and, from the legal checks, the rule)."""

    field: Annotated[str, described("The field, as a path into the body", "lines[0].quantity")]
    message: Annotated[str, described("What is wrong, in words", "must be greater than 0")]
    # Only the legal checks name a rule (API.md "E-invoices and legal checks").
    rule: Annotated[
        str | None,
        msgspec.Meta(
            description="The code of the legal rule broken (EN 16931, Peppol BIS, BR-FR, FF-*),"
            " when the error comes from the legal checks before issue",
            examples=["BR-08"],
        ),
    ] = None


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with `errors` naming each invalid field."""

    type: Annotated[
        str,
        described(
            "A URI naming the kind of problem", "https://fastfaktura.io/problems/validation-error"
        ),
    ]
    title: Annotated[str, described("The kind, in words", "Invalid request")]
    status: Annotated[int, described("The HTTP status", 422)]
    detail: Annotated[
        str | None, described("This occurrence, in words", "One or more fields are invalid.")
    ] = None
    errors: Annotated[list[ProblemField], described("Each invalid field (422), else left out")] = (
        msgspec.field(default_factory=list)
    )


class RequestConflict(ConflictError):
    """A conflict the API itself finds in the request (not a domain rule), naming its field."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class Unauthorized(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class BodyTooLarge(Exception):
    """A request body over the limit (413), found after it was read."""


class BadJson(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=TYPE_BASE + slug,
        title=title,
        status=status,
        detail=detail,
        errors=[ProblemField(field=e.field, message=e.message, rule=e.rule) for e in errors or []],
    )
    headers = {"WWW-Authenticate": 'Bearer realm="fastfaktura"'} if status == 401 else None
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _invalid(_: Request[Any, Any, Any], exc: InvalidInputError) -> Response[Problem]:
    return problem(
        422, "validation-error", "Invalid request", "One or more fields are invalid.", exc.errors
    )


def _rules_broken(_: Request[Any, Any, Any], exc: RuleBroken | RulesBroken) -> Response[Problem]:
    # A domain rule refused the command: named by the fields it is about, like bad input.
    rules = exc.rules if isinstance(exc, RulesBroken) else [exc]
    return problem(
        422,
        "validation-error",
        "Invalid request",
        "One or more fields are invalid.",
        field_errors(rules),
    )


def _not_found(_: Request[Any, Any, Any], exc: NotFoundError) -> Response[Problem]:
    return problem(404, "not-found", "Not found", f"No such {exc.resource}.")


def _conflict(_: Request[Any, Any, Any], exc: ConflictError) -> Response[Problem]:
    if isinstance(exc, RequestConflict):
        errors = [FieldError(exc.field, str(exc))]
    else:
        errors = conflict_field_errors(exc)
    return problem(409, "conflict", "Conflict", str(exc), errors or None)


def _unauthorized(_: Request[Any, Any, Any], exc: Unauthorized) -> Response[Problem]:
    return problem(401, "unauthorized", "Unauthorized", exc.detail)


def _bad_json(_: Request[Any, Any, Any], exc: BadJson) -> Response[Problem]:
    return problem(400, "invalid-json", "Malformed JSON", exc.detail)


def _validation(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    # Litestar's own parameter checks (query parameters): name each one.
    errors = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            errors.append(FieldError(str(item.get("key", "")), str(item.get("message", "invalid"))))
    return problem(
        422, "validation-error", "Invalid request", "One or more parameters are invalid.", errors
    )


# Kept here, not imported from api.input (which imports this module): the same 1 MiB.
_MAX_BODY_TEXT = "1 MiB (1048576 bytes)"


def _too_large(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Litestar's request_max_body_size (set by create_app) or api.input's own check.
    return problem(
        413,
        "request-too-large",
        "Request too large",
        f"The request body may be at most {_MAX_BODY_TEXT}.",
    )


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    slug = "not-found" if isinstance(exc, NotFoundException) else "http-error"
    title = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(
        exc.status_code, "Error"
    )
    response = problem(exc.status_code, slug, title, exc.detail)
    # Retry-After of a 429 or 503, Allow of a 405: kept.
    response.headers.update(exc.headers or {})
    return response


def _pdf_unavailable(
    _: Request[Any, Any, Any], exc: PdfRenderUnavailableError
) -> Response[Problem]:
    # The PDF pool's queue is full (or it is stopping): the client retries later.
    response = problem(503, "pdf-queue-full", "Service unavailable", exc.detail)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if database_unavailable(exc):
        log.warning(
            "database unavailable or too slow",
            path=request.url.path,
            method=request.method,
            error=f"{type(exc).__name__}: {exc}",
        )
        response = problem(
            503,
            "database-unavailable",
            "Service unavailable",
            "The database is unavailable or too slow; retry after a short wait.",
        )
        response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_SECONDS)
        return response
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return problem(
        500,
        "internal-error",
        "Internal server error",
        "An unexpected error occurred; it has been logged.",
    )


_PROBLEM_DESCRIPTIONS = {
    400: "Malformed JSON body, or a webhook whose signature does not match (problem+json)",
    401: "Missing, malformed, unknown or revoked API key (problem+json)",
    404: "No such resource for this business (problem+json)",
    409: "Conflicts with the resource's state, or it changed concurrently (retry), or "
    "Idempotency-Key reused with another request (problem+json)",
    413: "The request body is too large (problem+json)",
    422: "Invalid fields or query parameters, each named in `errors` (problem+json)",
    429: "Too many requests: retry after `Retry-After` seconds (problem+json)",
    503: "The database is unavailable or too slow, or the service is too busy: retry after "
    "`Retry-After` seconds (problem+json)",
}
# The answers that say when to come back.
RETRY_AFTER_STATUSES = (429, 503)


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the RFC 9457 answers a route's handler can give. Those of shared
    code (401, 429, 503, ...) are added to every route by api/openapi.py `complete_answers`."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


def problem_answer(status: int) -> OpenAPIResponse:
    """The OpenAPI entry of a problem answer, for the document's post-processing (where
    answers every route can give are added once, api/openapi.py)."""
    headers: dict[str, OpenAPIHeader | Reference] | None = None
    if status in RETRY_AFTER_STATUSES:
        headers = {
            "Retry-After": OpenAPIHeader(
                schema=Schema(type=OpenAPIType.INTEGER, minimum=0),
                description="Seconds to wait before retrying",
            )
        }
    return OpenAPIResponse(
        description=_PROBLEM_DESCRIPTIONS[status],
        headers=headers,
        content={
            PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
        },
    )


def answers(
    status: int, container: type[Any], description: str, *problems: int
) -> dict[int, ResponseSpec]:
    """OpenAPI entries for a route: its success answer, then its RFC 9457 answers."""
    return {
        status: ResponseSpec(data_container=container, description=description),
        **problem_responses(*problems),
    }


Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]


def html_on_public_pages(handler: Handler) -> Handler:
    """`handler`, but on the public pages its answer becomes the HTML error page of the same
    status (and Retry-After)."""

    def handle(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        response = handler(request, exc)
        if not request.url.path.startswith(PUBLIC_PAGES_PREFIXES):
            return response
        return public_error_page(
            response.status_code or 500,
            response.headers.get("Retry-After"),
            request.headers.get("accept-language"),
        )

    return handle


_HANDLERS: dict[Any, Handler] = {
    InvalidInputError: _invalid,
    RuleBroken: _rules_broken,
    RulesBroken: _rules_broken,
    NotFoundError: _not_found,
    ConflictError: _conflict,
    Unauthorized: _unauthorized,
    BadJson: _bad_json,
    ValidationException: _validation,
    RequestEntityTooLarge: _too_large,
    BodyTooLarge: _too_large,
    HTTPException: _http,
    PdfRenderUnavailableError: _pdf_unavailable,
    Exception: _internal,
}
EXCEPTION_HANDLERS: dict[Any, Any] = {
    exc: html_on_public_pages(handler) for exc, handler in _HANDLERS.items()
}
