"""`PUT|GET|DELETE /api/v1/business/logo` (API.md "Business"; issue 17): the business's logo,
shown on its PDFs and public pages.

The body is the image itself (PNG or JPEG, `Content-Type` says which, at most 512 KiB, at most
2000 x 2000 pixels). It is re-encoded (adapters/logo_image.py) so that only pixels are kept,
stored by digest (adapters/logo_store.py), and only then recorded on the Business aggregate
(`business.logo_changed`, with the digest, never the bytes). A PUT of the logo already set
records nothing, so PUT needs no Idempotency-Key. DELETE answers 204 whether or not there was
a logo (removing none records nothing). Every answer names the caller's business only.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Controller, Request, Response, delete, get, put
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from fastfaktura.adapters.deadlines import run_in_thread
from fastfaktura.adapters.logo_image import (
    LOGO_FORMATS,
    MAX_LOGO_BYTES,
    MAX_LOGO_PIXELS_PER_SIDE,
    LogoRejectedError,
    clean_logo,
)
from fastfaktura.adapters.logo_store import branding, store_logo
from fastfaktura.api.auth import API_KEY_SECURITY, Tenant
from fastfaktura.api.errors import problem, problem_responses
from fastfaktura.api.openapi import image_body
from fastfaktura.api.services import services
from fastfaktura.domain.errors import FieldError, InvalidInputError, NotFoundError
from fastfaktura.readmodels.business_view import BusinessLogo, logo_from_row
from fastfaktura.readmodels.models import BusinessReadModel

_ROWS = BusinessReadModel()
# Re-encoding a 2000 x 2000 image takes a fraction of a second; it has a deadline all the same.
RE_ENCODE_SECONDS: Final = 10.0
_LIMITS = (
    f"PNG or JPEG (`Content-Type: image/png` or `image/jpeg`), at most {MAX_LOGO_BYTES // 1024} "
    f"KiB and {MAX_LOGO_PIXELS_PER_SIDE} x {MAX_LOGO_PIXELS_PER_SIDE} pixels"
)


class BusinessLogoController(Controller):
    path = "/api/v1/business/logo"
    security = API_KEY_SECURITY
    tags = ["Business"]

    @put(
        operation_id="SetBusinessLogo",
        summary="Set the logo shown on PDFs and public pages",
        description=(
            f"The body is the image: {_LIMITS}. It is decoded and re-encoded, so only its "
            "pixels are kept (no EXIF, ICC profile, text or other metadata; an EXIF "
            "orientation is applied first). Records `business.logo_changed` with the stored "
            "image's SHA-256; uploading the current logo again records nothing. Documents "
            "rendered from now on show it; PDFs already stored (sent invoices, credit notes) "
            "keep what they showed."
        ),
        operation_class=image_body("The logo image", tuple(LOGO_FORMATS)),
        responses={
            200: ResponseSpec(
                data_container=BusinessLogo,
                description="The logo as stored: its SHA-256, type and size in pixels",
            ),
            **problem_responses(401, 413, 422),
        },
    )
    async def set_logo(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[Any]:
        body = await request.body()
        if len(body) > MAX_LOGO_BYTES:
            too_large = f"must be at most {MAX_LOGO_BYTES} bytes (512 KiB); it is {len(body)}"
            return problem(
                413,
                "request-too-large",
                "Request too large",
                f"A logo may be at most {MAX_LOGO_BYTES // 1024} KiB.",
                [FieldError("body", too_large)],
            )
        content_type = request.headers.get("content-type")
        try:
            logo = await run_in_thread(lambda: clean_logo(body, content_type), RE_ENCODE_SECONDS)
        except LogoRejectedError as rejected:
            raise InvalidInputError([FieldError(rejected.field, rejected.message)]) from None
        svc = services(request.app.state)
        # The pixels first: the event then names a stored image (see logo_store.py).
        await store_logo(svc.pool, tenant.business_id, logo)
        written = await svc.execute(
            lambda: svc.app.change_business_logo(
                tenant.business_id, logo.sha256, logo.content_type, logo.width, logo.height
            )
        )
        stored = logo_from_row(_ROWS.rows(written.value)["rm_business"][0])
        assert stored is not None  # the command just made it the logo
        return Response(stored)

    @get(
        operation_id="GetBusinessLogo",
        summary="The current logo, as stored",
        description=(
            "The re-encoded image (`image/png` or `image/jpeg`), exactly as PDFs and public "
            "pages show it. `404` when the business has no logo."
        ),
        media_type="image/png",
        responses={
            200: ResponseSpec(
                data_container=bytes,
                media_type="image/png",
                description="The logo (`Content-Type` is image/png or image/jpeg)",
                generate_examples=False,
            ),
            **problem_responses(401, 404),
        },
    )
    async def get_logo(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> Response[bytes]:
        marks = await branding(services(request.app.state).pool, tenant.business_id)
        if marks.logo is None:
            raise NotFoundError("logo")
        return Response(
            marks.logo.content,
            media_type=marks.logo.content_type,
            headers={"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"},
        )

    @delete(
        operation_id="DeleteBusinessLogo",
        summary="Remove the logo",
        description=(
            "Documents rendered from now on show no logo; PDFs already stored keep theirs. "
            "Records `business.logo_removed`. `204` also when there was no logo (nothing is "
            "recorded then), so a retry is harmless."
        ),
        status_code=204,
        responses={
            204: ResponseSpec(data_container=None, description="No logo any more"),
            **problem_responses(401),
        },
    )
    async def delete_logo(
        self, request: Request[Any, Any, Any], tenant: NamedDependency[Tenant]
    ) -> None:
        svc = services(request.app.state)
        await svc.execute(lambda: svc.app.remove_business_logo(tenant.business_id))
