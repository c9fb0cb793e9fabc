"""Which middleware each route passes (issue 12): the JSON API's routes none of their own (a
layer per request is CPU, and Litestar adds an exception wrapper under any), the account pages
sessions and CSRF, the public pages and /login, /signup the per-address limit. Built without a
database: create_app connects only when the app starts."""

from __future__ import annotations

from pathlib import Path

from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session import SessionMiddleware
from litestar.routes import HTTPRoute

from fastfaktura.api.app import create_app
from fastfaktura.api.ratelimit import PerAddressRateLimit
from fastfaktura.config import Settings


def _middleware_by_path(tmp_path: Path) -> dict[str, set[type]]:
    url = "postgresql://nobody@127.0.0.1:1/none"
    app = create_app(Settings(database_url=url, home=tmp_path), url, run_projections=False)
    layers: dict[str, set[type]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                classes = {getattr(m, "middleware", m) for m in handler.resolve_middleware()}
                layers.setdefault(route.path, set()).update(classes)
    return layers


def test_api_routes_have_no_middleware_and_the_pages_keep_theirs(tmp_path: Path) -> None:
    layers = _middleware_by_path(tmp_path)
    api = {path: found for path, found in layers.items() if path.startswith("/api/")}
    assert api, "no /api/ route found"
    assert {path: found for path, found in api.items() if found} == {}
    for path in ("/account", "/account/api_keys", "/login", "/signup", "/logout"):
        assert {SessionMiddleware, CSRFMiddleware} <= layers[path], path
    for path in ("/login", "/signup", "/i/{token:str}", "/c/{token:str}/pdf"):
        assert PerAddressRateLimit in layers[path], path
