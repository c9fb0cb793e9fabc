"""The API reference pages (Scalar at `/schema`, Swagger UI at `/schema/swagger`), with their
scripts and styles served by the service itself: pinned copies in `api/docs_ui/vendor/` (see
`api/docs_ui/README.md`), so the pages work offline and never change under us the way a
CDN's `@latest` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from litestar.datastructures import CacheControlHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin, ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router

ASSETS_PATH: Final = "/schema-assets"
SCALAR: Final = "scalar-1.76.4"
SWAGGER_UI: Final = "swagger-ui-5.35.0"
_FOLDER: Final = Path(__file__).with_name("docs_ui")
# The vendored folders are named after their version (a new version is a new URL); a day keeps
# `pages.css`, which has none, fresh enough.
_A_DAY: Final = 24 * 3600
_FAVICON: Final = (
    f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/{SWAGGER_UI}/favicon-32x32.png'>"
)


def docs_assets_router() -> Router:
    return create_static_files_router(
        path=ASSETS_PATH,
        # Third-party files under vendor/ (tools that scan our code skip such folders); ours
        # (pages.css) beside it. The URLs are the same for both.
        directories=[_FOLDER / "vendor", _FOLDER],
        cache_control=CacheControlHeader(public=True, max_age=_A_DAY),
        include_in_schema=False,
        name="docs-assets",
    )


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    scalar = ScalarRenderPlugin(
        path="/",
        js_url=f"{ASSETS_PATH}/{SCALAR}/standalone.js",
        # Scalar's own styles are inside its script; litestar's default theme is on a CDN.
        css_url=f"{ASSETS_PATH}/pages.css",
        # Scalar fetches its Inter fonts from fonts.scalar.com unless told not to; its developer
        # toolbar (on localhost) and "Ask AI" call Scalar's services.
        options={
            "withDefaultFonts": False,
            "showDeveloperTools": "never",
            "agent": {"disabled": True},
        },
    )
    swagger = SwaggerRenderPlugin(
        path="/swagger",
        js_url=f"{ASSETS_PATH}/{SWAGGER_UI}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/{SWAGGER_UI}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/{SWAGGER_UI}/swagger-ui-standalone-preset.js",
    )
    for plugin in (scalar, swagger):
        plugin.favicon = _FAVICON
    return [scalar, swagger]
