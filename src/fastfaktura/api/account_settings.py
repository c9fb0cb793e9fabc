"""/account: a signed-in owner's settings: the business profile, API keys (a new key shown
once), webhook endpoints (api/account_webhooks.py: the secret shown once), the sandbox outbox,
the API docs.

Every query and command is scoped by the business of the session's user as rm_users knows it
(account_common.signed_in): a session can never name another business. Without a session,
each of these pages sends the reader to /login.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from fastfaktura.adapters.web.account import key_views, labels, outbox_views, webhook_views
from fastfaktura.adapters.webhooks import store as webhook_store
from fastfaktura.api.account_common import SignedIn, go, locale_of, page, signed_in
from fastfaktura.api.api_keys import KEY_FIELDS
from fastfaktura.api.fields import BUSINESS_FIELDS
from fastfaktura.api.input import check_each
from fastfaktura.api.sending import sandbox_messages
from fastfaktura.api.services import services
from fastfaktura.domain.errors import ApiKeyNotFoundError, InvalidInputError
from fastfaktura.domain.rules import CURRENCIES
from fastfaktura.readmodels.feed import FEED_TYPES
from fastfaktura.readmodels.queries.api_keys import business_keys
from fastfaktura.readmodels.queries.business import find_business

# The profile form's fields (the API's rules check them); the others keep their value.
PROFILE_FORM: Final = (
    "name",
    "legal_name",
    "email",
    "phone",
    "address",
    "country",
    "vat_number",
    "company_id",
    "iban",
    "bic",
    "currency",
    "locale",
    "payment_terms_days",
    "invoice_prefix",
)
_NOT_NULL: Final = frozenset({"name", "currency", "locale", "payment_terms_days", "invoice_prefix"})
KEYS_SHOWN: Final = 100
OUTBOX_SHOWN: Final = 20
WEBHOOKS_SHOWN: Final = 100
_NOTICES: Final = {
    "profile": "saved",
    "revoked": "key_revoked",
    "webhook_deleted": "webhook_deleted",
}


async def render_account_page(
    request: Request[Any, Any, Any],
    user: SignedIn,
    *,
    status: int = 200,
    profile: dict[str, Any] | None = None,
    profile_errors: dict[str, str] | None = None,
    new_key: str | None = None,
    key_errors: dict[str, str] | None = None,
    new_webhook_secret: str | None = None,
    webhook_form: dict[str, Any] | None = None,
    webhook_errors: dict[str, str] | None = None,
) -> Response[str]:
    svc = services(request.app.state)
    locale = locale_of(request)
    t = labels(locale)
    found = await find_business(svc.pool, user.business_id)
    if found is None:  # the user's business is always there; a torn database is not
        return go("/login")
    business = msgspec.to_builtins(found)
    async with svc.pool.acquire() as conn:
        keys = [
            msgspec.structs.asdict(key)
            for key in await business_keys(conn, user.business_id, KEYS_SHOWN, 0)
        ]
        outbox = [
            msgspec.structs.asdict(message)
            for message in await sandbox_messages(conn, user.business_id, None, OUTBOX_SHOWN, 0)
        ]
    webhooks, _ = await webhook_store.list_endpoints(svc.pool, user.business_id, 1, WEBHOOKS_SHOWN)
    notice = _NOTICES.get(request.query_params.get("done", ""))
    return page(
        request,
        "account",
        status=status,
        signed_in=True,
        email=user.email,
        business=business,
        profile={**business, **(profile or {})},
        profile_errors=profile_errors or {},
        notice=t["saved"] if notice == "saved" else None,
        key_notice=t["key_revoked"] if notice == "key_revoked" else None,
        new_key=new_key,
        key_errors=key_errors or {},
        keys=key_views(list(keys), locale),
        outbox=outbox_views(list(outbox), locale),
        webhooks=webhook_views(webhooks, locale),
        webhook_notice=t["webhook_deleted"] if notice == "webhook_deleted" else None,
        new_webhook_secret=new_webhook_secret,
        webhook_form={"url": "", "events": ["*"], "description": "", **(webhook_form or {})},
        webhook_errors=webhook_errors or {},
        event_types=list(dict.fromkeys(kind for _, kind in FEED_TYPES.values())),
        currencies=CURRENCIES,
    )


@get("/account", include_in_schema=False)
async def account(request: Request[Any, Any, Any]) -> Response[Any]:
    user = await signed_in(request)
    if user is None:
        return go("/login")
    return await render_account_page(request, user)


def _profile_changes(form: dict[str, str]) -> dict[str, Any]:
    """The form as the API's PUT /business body: an emptied field clears it (null)."""
    changes: dict[str, Any] = {}
    for name in PROFILE_FORM:
        if name not in form:
            continue
        value = form[name].strip()
        if name == "payment_terms_days":
            changes[name] = int(value) if value.isdigit() and len(value) < 6 else value
        elif value or name in _NOT_NULL:
            changes[name] = value
        else:
            changes[name] = None
    return changes


@post("/account/profile", include_in_schema=False)
async def update_profile(request: Request[Any, Any, Any]) -> Response[Any]:
    user = await signed_in(request)
    if user is None:
        return go("/login")
    form = await request.form()
    raw = {key: str(form.get(key) or "") for key in form}
    fields = tuple(f for f in BUSINESS_FIELDS if f.name in PROFILE_FORM)
    changes, errors = check_each(_profile_changes(raw), fields)
    if errors:
        t = labels(locale_of(request))
        shown = {e.field: f"{t['error_invalid']} {e.message}" for e in errors}
        return await render_account_page(
            request, user, status=422, profile={**raw}, profile_errors=shown
        )
    svc = services(request.app.state)
    await svc.execute(lambda: svc.app.change_business_profile(user.business_id, changes))
    return go("/account?done=profile")


@post("/account/api_keys", include_in_schema=False)
async def create_key(request: Request[Any, Any, Any]) -> Response[Any]:
    """The new key is in this answer only (never in a URL, a cookie or the store)."""
    user = await signed_in(request)
    if user is None:
        return go("/login")
    form = await request.form()
    name = str(form.get("key_name") or "").strip() or None
    clean, errors = check_each({"name": name}, KEY_FIELDS)
    if errors:
        t = labels(locale_of(request))
        shown = {"key_name": f"{t['error_invalid']} {errors[0].message}"}
        return await render_account_page(request, user, status=422, key_errors=shown)
    svc = services(request.app.state)
    written = await svc.execute(lambda: svc.app.issue_api_key(user.business_id, clean.get("name")))
    return await render_account_page(request, user, new_key=written.value.secret)


@post("/account/api_keys/{key_prefix:str}/revoke", include_in_schema=False)
async def revoke_key(request: Request[Any, Any, Any], key_prefix: FromPath[str]) -> Response[Any]:
    user = await signed_in(request)
    if user is None:
        return go("/login")
    svc = services(request.app.state)
    try:
        await svc.execute(lambda: svc.app.revoke_api_key(key_prefix, user.business_id))
    except (ApiKeyNotFoundError, InvalidInputError):
        raise ApiKeyNotFoundError(key_prefix) from None
    return go("/account?done=revoked")


ACCOUNT_SETTINGS = [account, update_profile, create_key, revoke_key]
