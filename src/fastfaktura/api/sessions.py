"""Browser sessions and CSRF for the account pages, with Litestar's own middleware.

- The session is Litestar's client-side cookie backend (`CookieBackendConfig`): the cookie
  `ff_session` holds `{user_id, since, at}`, encrypted and authenticated (AES-GCM). It is
  HttpOnly, SameSite=Lax, Secure unless the service is reached on loopback, and lives
  `FASTFAKTURA_SESSION_MAX_AGE_SECONDS` (12 h). Every request looks the user up again
  (rm_users): the business it reads is that row's, never anything the browser sent; a session
  older than the max age, or from before the user's latest password, is no session.
- CSRF is Litestar's `CSRFMiddleware` (double submit: the `ff_csrf` cookie, HttpOnly, and the
  form's `_csrf_token`, both HMAC-signed). Both middlewares are set on the account pages'
  router only (api/app.py), and skip any other path (`EXCLUDED`): the JSON API (/api/), the
  public pages, the Stripe webhook and the docs authenticate otherwise (API keys, signatures,
  tokens) and take no cookie, so need no CSRF, and their requests pass neither layer.

One secret (`FASTFAKTURA_SESSION_SECRET`, else a random one kept in
`$FASTFAKTURA_HOME/session-secret`) derives its keys: the session cookie's, the CSRF token's,
and the one that seals replayed answers holding a new API key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from uuid import UUID

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from fastfaktura.adapters.sealing import Sealer
from fastfaktura.config import Settings

SESSION_COOKIE: Final = "ff_session"
CSRF_COOKIE: Final = "ff_csrf"
SECRET_FILE: Final = "session-secret"
ACCOUNT_PATHS: Final = ("signup", "login", "logout", "account")
# Every path but /signup, /login, /logout and /account(/...): those skip both middlewares.
EXCLUDED: Final = r"^/(?!(?:" + "|".join(ACCOUNT_PATHS) + r")(?:/|$))."


def session_secret(settings: Settings) -> str:
    """The configured secret, or this home's own (made once, readable by its owner only)."""
    configured = settings.accounts.session_secret
    if configured is not None:
        return configured
    path = Path(settings.home) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        try:
            with path.open("x") as file:  # a concurrent first start: the other one's wins
                path.chmod(0o600)
                file.write(secret)
        except FileExistsError:
            pass
        return path.read_text().strip()


def replay_sealer(settings: Settings) -> Sealer:
    """Seals stored answers that hold a secret shown once (api/idempotency.py)."""
    return Sealer(_derive(session_secret(settings), "idempotent replay"))


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


class _Shared(DefineMiddleware):
    """A middleware definition Litestar does not copy: it deep-copies a router when the app
    registers it, and the session backend's cipher (AESGCM) cannot be copied. Nothing in it
    changes after it is built."""

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self


def account_middleware(settings: Settings) -> list[DefineMiddleware]:
    """Sessions and CSRF, set on the account pages' router only (api/app.py): the other routes
    skip both layers (issue 12). `EXCLUDED` still keeps them off any other path."""
    secret = session_secret(settings)
    secure = not settings.on_loopback
    session = CookieBackendConfig(
        secret=_derive(secret, "session cookie"),
        key=SESSION_COOKIE,
        max_age=settings.accounts.session_max_age_seconds,
        httponly=True,
        secure=secure,
        samesite="lax",
        exclude=EXCLUDED,
    )
    csrf = CSRFConfig(
        secret=_derive(secret, "csrf token").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=EXCLUDED,
    )
    session_middleware = session.middleware
    return [
        _Shared(
            session_middleware.middleware, *session_middleware.args, **session_middleware.kwargs
        ),
        _Shared(CSRFMiddleware, config=csrf),
    ]


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """The token the CSRF middleware expects back in this response's forms."""
    return str(value_or_default(ScopeState.from_scope(request.scope).csrf_token, ""))


def start_session(request: Request[Any, Any, Any], user_id: UUID, since: datetime | None) -> None:
    request.set_session(
        {
            "user_id": str(user_id),
            "since": since.isoformat() if since else None,
            "at": datetime.now(UTC).isoformat(),
        }
    )


def session_user(
    request: Request[Any, Any, Any], max_age_seconds: int
) -> tuple[UUID, str | None] | None:
    """The session's user id and password time, if the session is one and not too old."""
    data = request.session if "session" in request.scope else None
    if not data:
        return None
    try:
        user_id = UUID(str(data["user_id"]))
        started = datetime.fromisoformat(str(data["at"]))
    except (KeyError, ValueError):
        return None
    if (datetime.now(UTC) - started).total_seconds() > max_age_seconds:
        return None
    since = data.get("since")
    return user_id, None if since is None else str(since)
