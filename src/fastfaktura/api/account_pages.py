"""/signup, /login, /logout and /account/password: signing up, in and out (HTML forms).

Nothing here takes JSON or an API key: these are pages for people, server-rendered, usable
without JavaScript. Every POST carries the CSRF token (api/sessions.py). A refused form
stores nothing and is shown again with each problem next to its field.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from fastfaktura.adapters.passwords import hash_password, verify
from fastfaktura.adapters.web.account import labels
from fastfaktura.api import login_throttle
from fastfaktura.api.account_common import go, locale_of, page, signed_in
from fastfaktura.api.input import has_control_characters
from fastfaktura.api.ratelimit import client_address
from fastfaktura.api.services import services
from fastfaktura.api.sessions import start_session
from fastfaktura.domain.errors import EmailTaken
from fastfaktura.domain.user import (
    PASSWORD_MAX_LENGTH,
    PasswordLinkInvalid,
    User,
    email_problem,
    hash_link_secret,
    normalise_email,
    parse_link_token,
    password_problem,
)
from fastfaktura.readmodels.queries.users import find_user_by_email

NAME_MAX_LENGTH = 200
_PASSWORD_ERRORS = {
    "must be at least": "error_password_short",
    "must be at most": "error_password_long",
    "may not be only": "error_password_blank",
}


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: str(form.get(key) or "") for key in form}


def _password_error(password: str, t: dict[str, str]) -> str | None:
    problem = password_problem(password)
    if problem is None:
        return None
    return next(t[key] for start, key in _PASSWORD_ERRORS.items() if problem.startswith(start))


@get("/signup", include_in_schema=False)
async def signup_form(request: Request[Any, Any, Any]) -> Response[Any]:
    if await signed_in(request):
        return go("/account")
    return page(request, "signup", values={}, errors={})


@post("/signup", include_in_schema=False)
async def signup(request: Request[Any, Any, Any]) -> Response[Any]:
    """A sandbox business and its owner; signed in at once."""
    form = await _form(request)
    t = labels(locale_of(request))
    name, email, password = (
        form.get("name", "").strip(),
        form.get("email", ""),
        form.get("password", ""),
    )
    errors: dict[str, str] = {}
    if not name or len(name) > NAME_MAX_LENGTH or has_control_characters(name):
        errors["name"] = t["error_required"] if not name else t["error_invalid"] + " " + name[:40]
    if not email.strip():
        errors["email"] = t["error_required"]
    elif email_problem(email):
        errors["email"] = t["error_email"]
    password_error = _password_error(password, t)
    if password_error:
        errors["password"] = password_error
    if not errors:
        svc = services(request.app.state)
        password_hash = await anyio.to_thread.run_sync(
            hash_password, password, svc.settings.accounts
        )
        try:
            written = await svc.execute(lambda: svc.app.sign_up(name, email, password_hash))
        except EmailTaken:
            errors["email"] = t["error_email_taken"]
        else:
            user = written.value
            start_session(request, user.id, user.password_set_at)
            return go("/account")
    values = {"name": name, "email": email}
    return page(request, "signup", status=422, values=values, errors=errors)


@get("/login", include_in_schema=False)
async def login_form(request: Request[Any, Any, Any]) -> Response[Any]:
    if await signed_in(request):
        return go("/account")
    return page(request, "login", values={}, message=None)


@post("/login", include_in_schema=False)
async def login(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await _form(request)
    t = labels(locale_of(request))
    email = normalise_email(form.get("email", ""))[:254]
    password = form.get("password", "")[: PASSWORD_MAX_LENGTH + 1]
    svc = services(request.app.state)
    settings = svc.settings.accounts
    address = client_address(request.scope)
    wait = await login_throttle.blocked_for(svc.pool, email, address)
    if wait > 0:
        return page(
            request,
            "login",
            status=429,
            headers={"Retry-After": str(wait)},
            values={"email": email},
            message=t["login_throttled"].format(seconds=wait),
        )
    user = await find_user_by_email(svc.pool, email)
    password_hash = user.password_hash if user else None
    if not await anyio.to_thread.run_sync(verify, password_hash, password, settings):
        await login_throttle.record_failure(svc.pool, settings, email, address)
        return page(
            request, "login", status=401, values={"email": email}, message=t["login_failed"]
        )
    assert user is not None
    await login_throttle.forget_email(svc.pool, email)
    start_session(request, user.user_id, user.password_set_at)
    return go("/account")


@post("/logout", include_in_schema=False)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    request.clear_session()
    return go("/login")


def _link_user(request: Request[Any, Any, Any], token: str) -> User:
    """The user whose valid link `token` is; NotFound-like PasswordLinkInvalid otherwise."""
    parsed = parse_link_token(token)
    if parsed is None:
        raise PasswordLinkInvalid("malformed")
    user_id, secret = parsed
    app = services(request.app.state).app
    user = app.find(User, user_id)
    if user is None:
        raise PasswordLinkInvalid("no such user")
    user.check_password_link(hash_link_secret(secret), app.clock())
    return user


@get("/account/password", include_in_schema=False)
async def password_form(
    request: Request[Any, Any, Any], token: FromQuery[str] = ""
) -> Response[Any]:
    """The one-time link of `fastfaktura users create`: choose a password."""
    try:
        user = await anyio.to_thread.run_sync(_link_user, request, token)
    except PasswordLinkInvalid:
        return _link_invalid(request)
    return page(request, "password", email=user.email, token=token, errors={})


@post("/account/password", include_in_schema=False)
async def set_password(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await _form(request)
    t = labels(locale_of(request))
    token, password = form.get("token", ""), form.get("password", "")
    parsed = parse_link_token(token)
    if parsed is None:
        return _link_invalid(request)
    error = _password_error(password, t)
    svc = services(request.app.state)
    if error:
        try:
            user = await anyio.to_thread.run_sync(_link_user, request, token)
        except PasswordLinkInvalid:
            return _link_invalid(request)
        errors = {"password": error}
        return page(request, "password", status=422, email=user.email, token=token, errors=errors)
    password_hash = await anyio.to_thread.run_sync(hash_password, password, svc.settings.accounts)
    try:
        written = await svc.execute(
            lambda: svc.app.set_password_with_link(parsed[0], parsed[1], password_hash)
        )
    except PasswordLinkInvalid:
        return _link_invalid(request)
    start_session(request, written.value.id, written.value.password_set_at)
    return go("/account")


def _link_invalid(request: Request[Any, Any, Any]) -> Response[str]:
    t = labels(locale_of(request))
    return page(
        request, "message", status=404, title=t["link_invalid_title"], text=t["link_invalid_text"]
    )


ACCOUNT_PAGES = [signup_form, signup, login_form, login, logout, password_form, set_password]
