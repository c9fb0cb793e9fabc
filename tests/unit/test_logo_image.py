"""The logo's re-encoding (adapters/logo_image.py): only pixels survive, in the limits.

Database-free. Each uploaded image carries metadata (text chunks, an ICC profile, EXIF with
GPS-like tags, a comment) that must be gone from what is stored, while the pixels stay.
"""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

from fastfaktura.adapters.logo_image import (
    MAX_LOGO_BYTES,
    MAX_LOGO_PIXELS_PER_SIDE,
    LogoRejectedError,
    clean_logo,
)

# A small sRGB-like profile is enough: what matters is that the upload carries one.
ICC = b"\x00\x00\x02\x0cfake-icc-profile-bytes" * 4
SECRET = "GPS 48.8584 N 2.2945 E, owner Jane Doe"


def sample(mode: str = "RGBA", size: tuple[int, int] = (40, 24)) -> Image.Image:
    """Distinct pixels everywhere (a gradient with a transparent corner)."""
    image = Image.new(mode, size)
    for x in range(size[0]):
        for y in range(size[1]):
            alpha = 0 if x < 5 and y < 5 else 255
            pixel = (x * 6 % 256, y * 10 % 256, (x + y) * 3 % 256, alpha)
            image.putpixel((x, y), pixel[: len(mode)] if mode != "L" else pixel[0])
    return image


def png_with_metadata(image: Image.Image) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", SECRET)
    info.add_itxt("Comment", SECRET)
    exif = Image.Exif()
    exif[0x010E] = SECRET  # ImageDescription
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info, icc_profile=ICC, exif=exif)
    return out.getvalue()


def jpeg_with_metadata(image: Image.Image, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = SECRET
    if orientation is not None:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.convert("RGB").save(
        out, format="JPEG", quality=95, exif=exif, icc_profile=ICC, comment=SECRET.encode()
    )
    return out.getvalue()


def assert_only_pixels(content: bytes) -> None:
    assert SECRET.encode() not in content
    assert b"fake-icc-profile" not in content
    with Image.open(io.BytesIO(content)) as stored:
        assert "icc_profile" not in stored.info
        assert "exif" not in stored.info
        assert not stored.getexif()
        assert not {"Author", "Comment", "comment"} & set(stored.info)
        for chunk in (b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"eXIf"):
            assert chunk not in content


def test_a_png_keeps_exactly_its_pixels_and_nothing_else() -> None:
    original = sample()
    upload = png_with_metadata(original)
    assert SECRET.encode() in upload
    assert b"iCCP" in upload

    logo = clean_logo(upload, "image/png")

    assert logo.content_type == "image/png"
    assert (logo.width, logo.height) == original.size
    assert_only_pixels(logo.content)
    with Image.open(io.BytesIO(logo.content)) as stored:
        assert stored.format == "PNG"
        assert ImageChops.difference(stored.convert("RGBA"), original).getbbox() is None


def test_an_opaque_png_palette_or_grey_keeps_its_pixels() -> None:
    for mode in ("RGB", "L", "P"):
        original = sample("RGB").convert(mode)
        logo = clean_logo(png_with_metadata(original), "image/png; charset=binary")
        with Image.open(io.BytesIO(logo.content)) as stored:
            same = ImageChops.difference(stored.convert("RGB"), original.convert("RGB"))
            assert same.getbbox() is None, mode


def test_a_jpeg_loses_its_exif_icc_and_comment_and_keeps_its_picture() -> None:
    original = sample("RGB", (64, 48))
    upload = jpeg_with_metadata(original)
    assert SECRET.encode() in upload

    logo = clean_logo(upload, "image/jpeg")

    assert logo.content_type == "image/jpeg"
    assert (logo.width, logo.height) == (64, 48)
    assert_only_pixels(logo.content)
    with Image.open(io.BytesIO(logo.content)) as stored, Image.open(io.BytesIO(upload)) as sent:
        assert stored.format == "JPEG"
        # JPEG is lossy: re-encoded at high quality, the picture stays within a few levels.
        difference = ImageChops.difference(stored.convert("RGB"), sent.convert("RGB"))
        mean = sum(ImageStat.Stat(difference).mean) / 3
        assert mean <= 2.0, mean
        assert max(high for _, high in difference.getextrema()) <= 32


def test_an_exif_orientation_is_applied_to_the_pixels_then_dropped() -> None:
    original = sample("RGB", (60, 20))
    logo = clean_logo(jpeg_with_metadata(original, orientation=6), "image/jpeg")  # 90 degrees
    assert (logo.width, logo.height) == (20, 60)
    with Image.open(io.BytesIO(logo.content)) as stored:
        assert 0x0112 not in stored.getexif()


def test_the_same_upload_gives_the_same_bytes_and_digest() -> None:
    upload = png_with_metadata(sample())
    first, second = clean_logo(upload, "image/png"), clean_logo(upload, "image/png")
    assert first.content == second.content
    assert first.sha256 == second.sha256
    assert len(first.sha256) == 64


@pytest.mark.parametrize("content_type", [None, "", "image/gif", "application/json", "text/png"])
def test_a_type_other_than_png_or_jpeg_names_the_content_type(content_type: str | None) -> None:
    with pytest.raises(LogoRejectedError) as rejected:
        clean_logo(png_with_metadata(sample()), content_type)
    assert rejected.value.field == "Content-Type"


def test_a_body_that_is_not_what_its_content_type_says_names_the_body() -> None:
    png = png_with_metadata(sample())
    for body, content_type in [
        (png, "image/jpeg"),
        (jpeg_with_metadata(sample("RGB")), "image/png"),
        (b"GIF89a" + b"\x00" * 40, "image/png"),
        (b"", "image/png"),
        (png[: len(png) // 2], "image/png"),  # truncated
        (png[:33] + b"\x00" * 64, "image/png"),  # a header, then garbage
    ]:
        with pytest.raises(LogoRejectedError) as rejected:
            clean_logo(body, content_type)
        assert rejected.value.field == "body", (content_type, len(body))


def test_too_many_bytes_is_refused() -> None:
    with pytest.raises(LogoRejectedError) as rejected:
        clean_logo(b"\x89PNG" + b"\x00" * MAX_LOGO_BYTES, "image/png")
    assert rejected.value.field == "body"
    assert "512 KiB" in rejected.value.message


def test_dimensions_over_the_bound_are_refused_and_the_bound_itself_accepted() -> None:
    side = MAX_LOGO_PIXELS_PER_SIDE
    for size in [(side + 1, 1), (1, side + 1)]:
        out = io.BytesIO()
        Image.new("L", size).save(out, format="PNG")
        with pytest.raises(LogoRejectedError) as rejected:
            clean_logo(out.getvalue(), "image/png")
        assert rejected.value.field == "body"
        assert f"{size[0]} x {size[1]}" in rejected.value.message
    out = io.BytesIO()
    Image.new("L", (side, 2)).save(out, format="PNG")
    assert clean_logo(out.getvalue(), "image/png").width == side


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_a_decompression_bomb_is_refused_from_its_header_without_decoding() -> None:
    """PNGs whose headers claim 100,000 x 100,000 (40 GB as RGBA) or 9,000 x 9,000 pixels in
    a few bytes: refused by their declared size, before any pixel is decompressed."""
    for side in (100_000, 9_000):
        with pytest.raises(LogoRejectedError) as rejected:
            clean_logo(_png_claiming(side), "image/png")
        assert rejected.value.field == "body"
        assert f"at most {MAX_LOGO_PIXELS_PER_SIDE} x {MAX_LOGO_PIXELS_PER_SIDE}" in str(
            rejected.value.message
        )


def _png_claiming(side: int) -> bytes:
    header = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
        + _chunk(b"IEND", b"")
    )
