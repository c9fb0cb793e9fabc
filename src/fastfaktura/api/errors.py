"""One mapping from errors to RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.openapi import ResponseSpec

from fastfaktura.documents.pool import PdfRenderUnavailableError
from fastfaktura.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError

log = structlog.get_logger(__name__)
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://fastfaktura.io/problems/"


class ProblemField(msgspec.Struct, kw_only=True):
    field: str
    message: str


class Problem(msgspec.Struct, kw_only=True, omit_defaults=True):
    """RFC 9457 problem details, with `errors` naming each invalid field."""

    type: str
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemField] = msgspec.field(default_factory=list)


class Unauthorized(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


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
        errors=[ProblemField(field=e.field, message=e.message) for e in errors or []],
    )
    headers = {"WWW-Authenticate": 'Bearer realm="fastfaktura"'} if status == 401 else None
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _invalid(_: Request[Any, Any, Any], exc: InvalidInputError) -> Response[Problem]:
    return problem(
        422, "validation-error", "Invalid request", "One or more fields are invalid.", exc.errors
    )


def _not_found(_: Request[Any, Any, Any], exc: NotFoundError) -> Response[Problem]:
    return problem(404, "not-found", "Not found", f"No such {exc.resource}.")


def _conflict(_: Request[Any, Any, Any], exc: ConflictError) -> Response[Problem]:
    errors = [FieldError(exc.field, str(exc))] if exc.field else None
    return problem(409, "conflict", "Conflict", str(exc), errors)


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


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    slug = "not-found" if isinstance(exc, NotFoundException) else "http-error"
    title = {404: "Not found", 405: "Method not allowed", 413: "Request too large"}.get(
        exc.status_code, "Error"
    )
    return problem(exc.status_code, slug, title, exc.detail)


def _pdf_unavailable(
    _: Request[Any, Any, Any], exc: PdfRenderUnavailableError
) -> Response[Problem]:
    # The PDF pool's queue is full (or it is stopping): the client retries later.
    response = problem(503, "pdf-queue-full", "Service unavailable", exc.detail)
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
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
    409: "Conflicts with the resource's state, or Idempotency-Key reused (problem+json)",
    422: "Invalid fields, each named in `errors` (problem+json)",
    503: "Busy or unavailable for now; retry after `Retry-After` seconds (problem+json)",
}


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the RFC 9457 answers a route can give."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=_PROBLEM_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


def answers(
    status: int, container: type[Any], description: str, *problems: int
) -> dict[int, ResponseSpec]:
    """OpenAPI entries for a route: its success answer, then its RFC 9457 answers."""
    return {
        status: ResponseSpec(data_container=container, description=description),
        **problem_responses(*problems),
    }


EXCEPTION_HANDLERS: dict[Any, Any] = {
    InvalidInputError: _invalid,
    NotFoundError: _not_found,
    ConflictError: _conflict,
    Unauthorized: _unauthorized,
    BadJson: _bad_json,
    ValidationException: _validation,
    HTTPException: _http,
    PdfRenderUnavailableError: _pdf_unavailable,
    Exception: _internal,
}
