"""/account's webhook endpoints: list, create (the signing secret shown once, in that answer
only) and delete, for the session's business.

The same rules and store as /api/v1/webhook_endpoints: the form is checked by its
`parse_endpoint` (the SSRF rules of the business's mode, the event filter) and written by
adapters/webhooks/store.py, so a form and an API call cannot disagree. A refused form stores
nothing and names the field.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, post
from litestar.params import FromPath

from fastfaktura.adapters.web.account import labels
from fastfaktura.adapters.webhooks import store
from fastfaktura.api.account_common import go, locale_of, signed_in
from fastfaktura.api.account_settings import render_account_page
from fastfaktura.api.auth import Tenant
from fastfaktura.api.services import parse_id, services
from fastfaktura.api.webhook_endpoints import parse_endpoint, resolver
from fastfaktura.domain.errors import InvalidInputError, NotFoundError
from fastfaktura.readmodels.queries.business import find_business

# API field -> form field (an event's index, events[2], is the events field of the form).
_FORM_FIELDS: Final = {"url": "webhook_url", "events": "webhook_events"}


def _form_field(api_field: str) -> str:
    return _FORM_FIELDS.get(api_field.split("[", 1)[0], "webhook_description")


@post("/account/webhooks", include_in_schema=False)
async def create_webhook(request: Request[Any, Any, Any]) -> Response[Any]:
    user = await signed_in(request)
    if user is None:
        return go("/login")
    form = await request.form()
    url = str(form.get("webhook_url") or "").strip()
    events = [str(kind) for kind in form.getall("webhook_events", [])]
    description = str(form.get("webhook_description") or "").strip() or None
    svc = services(request.app.state)
    business = await find_business(svc.pool, user.business_id)
    if business is None:  # the user's business is always there; a torn database is not
        return go("/login")
    tenant = Tenant(business_id=user.business_id, mode=business.mode)
    body = {"url": url, "events": events, "description": description}
    try:
        url, events, description = await parse_endpoint(body, tenant, resolver(request.app.state))
    except InvalidInputError as exc:
        t = labels(locale_of(request))
        shown: dict[str, str] = {}
        for error in exc.errors:
            shown.setdefault(_form_field(error.field), f"{t['error_invalid']} {error.message}")
        entered = {"url": url, "events": events, "description": description or ""}
        return await render_account_page(
            request, user, status=422, webhook_form=entered, webhook_errors=shown
        )
    row = await store.create_endpoint(svc.pool, user.business_id, url, events, description)
    return await render_account_page(request, user, new_webhook_secret=row["secret"])


@post("/account/webhooks/{endpoint_id:str}/delete", include_in_schema=False)
async def delete_webhook(
    request: Request[Any, Any, Any], endpoint_id: FromPath[str]
) -> Response[Any]:
    """Another business's endpoint, or one already deleted, is not found (404)."""
    user = await signed_in(request)
    if user is None:
        return go("/login")
    target = parse_id(endpoint_id, "webhook endpoint")
    if (
        await store.delete_endpoint(services(request.app.state).pool, user.business_id, target)
        is None
    ):
        raise NotFoundError("webhook endpoint")
    return go("/account?done=webhook_deleted#webhooks")


ACCOUNT_WEBHOOKS = [create_webhook, delete_webhook]
