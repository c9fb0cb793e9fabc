"""A business's logo, checked and re-encoded with Pillow (API.md "Business": `PUT /business/logo`).

What is stored is never the uploaded file: the image is decoded and its pixels written into a
fresh file of the same type, so nothing but pixels survives (no EXIF, GPS, ICC profile, text
chunks, comments, thumbnails or trailing bytes). An EXIF orientation is applied to the pixels
first, so the logo shows the way the uploader saw it. PNG stays PNG (lossless: the same
pixels); JPEG stays JPEG, at a high quality.

Decompression bombs: the body is at most MAX_LOGO_BYTES, and the dimensions are read from the
header and checked against MAX_LOGO_PIXELS_PER_SIDE before a single pixel is decoded, so the
largest image ever decoded is 2000 x 2000 (16 MB as RGBA). Pure CPU work (no I/O): call it from
a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_LOGO_BYTES: Final = 512 * 1024
MAX_LOGO_PIXELS_PER_SIDE: Final = 2000
# Content-Type -> the Pillow format the body must be.
LOGO_FORMATS: Final = {"image/png": "PNG", "image/jpeg": "JPEG"}
# High quality and no chroma subsampling: a logo is sharp edges and flat colours.
JPEG_QUALITY: Final = 95


class LogoRejectedError(ValueError):
    """The body is not an acceptable logo; `field` is what the problem names."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class CleanLogo:
    content: bytes
    content_type: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def media_type(content_type: str | None) -> str:
    """`image/png; charset=x` -> `image/png` (lower case, parameters dropped)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def clean_logo(body: bytes, content_type: str | None) -> CleanLogo:
    """The logo `body` re-encoded, or LogoRejectedError naming `Content-Type` or `body`."""
    kind = media_type(content_type)
    expected = LOGO_FORMATS.get(kind)
    if expected is None:
        raise LogoRejectedError(
            "Content-Type", "must be image/png or image/jpeg, the type of the body"
        )
    if not body:
        raise LogoRejectedError("body", f"must be a {expected} image; it is empty")
    if len(body) > MAX_LOGO_BYTES:
        raise LogoRejectedError("body", f"must be at most {MAX_LOGO_BYTES} bytes (512 KiB)")
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns before it raises; the size check below decides.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=[expected]) as image:
                width, height = image.size
                if max(width, height) > MAX_LOGO_PIXELS_PER_SIDE or min(width, height) < 1:
                    raise LogoRejectedError(
                        "body",
                        f"must be at most {MAX_LOGO_PIXELS_PER_SIDE} x "
                        f"{MAX_LOGO_PIXELS_PER_SIDE} pixels; it is {width} x {height}",
                    )
                alpha = expected == "PNG" and _has_alpha(image)
                pixels = _pixels(ImageOps.exif_transpose(image) or image, alpha)
    except LogoRejectedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, at open: the header declares hundreds of megapixels.
        raise LogoRejectedError(
            "body",
            f"must be at most {MAX_LOGO_PIXELS_PER_SIDE} x {MAX_LOGO_PIXELS_PER_SIDE} pixels; "
            "it declares far more",
        ) from None
    except UnidentifiedImageError:
        raise LogoRejectedError(
            "body", f"must be a {expected} image, as Content-Type says ({kind})"
        ) from None
    except (OSError, ValueError, SyntaxError, EOFError):
        # Truncated or corrupt data (Pillow raises any of these while decoding).
        corrupt = f"is not a valid {expected} image (corrupt or truncated)"
        raise LogoRejectedError("body", corrupt) from None
    out = io.BytesIO()
    if expected == "PNG":
        pixels.save(out, format="PNG", optimize=True)
    else:
        pixels.save(out, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
    return CleanLogo(out.getvalue(), kind, pixels.width, pixels.height)


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _pixels(image: Image.Image, alpha: bool) -> Image.Image:
    """A new image holding only `image`'s pixels (decoded now), in RGBA when it has
    transparency, else RGB: pasting into a fresh image leaves `info` (metadata, ICC profile,
    text chunks) behind."""
    mode = "RGBA" if alpha else "RGB"
    converted = image.convert(mode)
    fresh = Image.new(mode, converted.size)
    fresh.paste(converted)
    return fresh
