"""What the account pages share: the reader's language, rendering with the form token, the
signed-in user (looked up again on every request), and the pages' own error answers (HTML)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import structlog
from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.enums import MediaType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.response import Redirect

from fastfaktura.adapters.web.account import (
    LANGUAGE_COOKIE,
    PAGE_HEADERS,
    labels,
    page_locale,
    render_account,
)
from fastfaktura.api.services import services
from fastfaktura.api.sessions import csrf_token, session_user
from fastfaktura.domain.errors import NotFoundError
from fastfaktura.readmodels.queries.users import find_user

log = structlog.get_logger(__name__)
ONE_YEAR = 365 * 24 * 3600


@dataclass(frozen=True)
class SignedIn:
    user_id: UUID
    business_id: UUID
    email: str


def locale_of(request: Request[Any, Any, Any]) -> str:
    return page_locale(
        request.query_params.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language"),
    )


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    signed_in: bool = False,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    """An account page in the reader's language; a `?lang=` choice is remembered."""
    locale = locale_of(request)
    body = render_account(
        template, locale, csrf=csrf_token(request), signed_in=signed_in, **context
    )
    cookies = []
    if request.query_params.get("lang") == locale:
        cookies.append(
            Cookie(key=LANGUAGE_COOKIE, value=locale, max_age=ONE_YEAR, samesite="lax", path="/")
        )
    return Response(
        body,
        status_code=status,
        media_type=MediaType.HTML,
        headers={**PAGE_HEADERS, **(headers or {})},
        cookies=cookies,
    )


def go(path: str) -> Redirect:
    """After a form: see other (303), so that a reload does not post the form again."""
    return Redirect(path, status_code=303, headers={"Cache-Control": "no-store"})


async def signed_in(request: Request[Any, Any, Any]) -> SignedIn | None:
    """The session's user as rm_users knows it now, or None (no session, an old one, or one
    from before the user's latest password)."""
    svc = services(request.app.state)
    found = session_user(request, svc.settings.accounts.session_max_age_seconds)
    if found is None:
        return None
    user_id, since = found
    user = await find_user(svc.pool, user_id)
    if user is None or user.password_hash is None:
        return None
    current = user.password_set_at.isoformat() if user.password_set_at else None
    if current != since:
        return None
    return SignedIn(user_id, user.business_id, user.email)


def message_page(
    request: Request[Any, Any, Any], status: int, title_key: str, text_key: str
) -> Response[str]:
    t = labels(locale_of(request))
    return page(request, "message", status=status, title=t[title_key], text=t[text_key])


def forbidden(request: Request[Any, Any, Any], _: PermissionDeniedException) -> Response[str]:
    """A form without its token (CSRF): nothing was done."""
    return message_page(request, 403, "forbidden_title", "forbidden_text")


def not_found(request: Request[Any, Any, Any], _: Exception) -> Response[str]:
    return message_page(request, 404, "link_invalid_title", "link_invalid_text")


ACCOUNT_EXCEPTION_HANDLERS: dict[
    int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]
] = {
    PermissionDeniedException: forbidden,
    NotFoundException: not_found,
    NotFoundError: not_found,
}
