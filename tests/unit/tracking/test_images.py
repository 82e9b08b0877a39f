"""The photo check, pure: real images made with Pillow (a phone's JPEG with EXIF GPS, a PNG with
text chunks) come out re-encoded without any of their metadata, upright, with a thumbnail; bytes
that are not the declared type, or not a whole image, are rejected."""

from __future__ import annotations

import io

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from dogwalk.tracking import images

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (40.0, 45.0, 21.6),
    ExifTags.GPS.GPSLongitudeRef: "W",
    ExifTags.GPS.GPSLongitude: (73.0, 59.0, 9.6),
}


def phone_jpeg(width: int = 800, height: int = 600, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes it: camera, time, GPS position and orientation in its EXIF, a comment."""
    picture = Image.new("RGB", (width, height), (40, 120, 60))
    picture.paste((200, 30, 30), (0, 0, width // 4, height // 4))  # a red corner: shows which way is up
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Google", "Pixel 9"
    exif[ExifTags.Base.DateTime] = "2026:12:07 09:41:00"
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    picture.save(out, format="JPEG", exif=exif, comment=b"walked by Sam at 1540 Broadway")
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(data)) as opened:
        return dict(opened.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def test_a_phones_jpeg_loses_its_gps_and_every_other_metadata_and_keeps_its_pixels() -> None:
    original = phone_jpeg()
    assert gps_of(original)[ExifTags.GPS.GPSLatitudeRef] == "N"  # the test's photo does carry a position

    cleaned = images.clean(original, "image/jpeg")

    with Image.open(io.BytesIO(cleaned.image)) as result:
        assert result.format == "JPEG" and result.size == (800, 600) == (cleaned.width, cleaned.height)
        assert dict(result.getexif()) == {} and gps_of(cleaned.image) == {}
        assert not {"exif", "comment", "xmp"} & set(result.info)
        assert result.getpixel((10, 10))[0] > 150 and result.getpixel((700, 500))[1] > 90  # type: ignore[index]
    for marker in (b"Exif", b"Pixel 9", b"1540 Broadway", b"Google"):
        assert marker not in cleaned.image and marker not in cleaned.thumbnail
    with Image.open(io.BytesIO(cleaned.thumbnail)) as thumbnail:
        assert thumbnail.format == "JPEG" and thumbnail.size == (320, 240)


def test_the_orientation_is_applied_before_the_exif_goes() -> None:
    cleaned = images.clean(phone_jpeg(orientation=6), "image/jpeg")  # "rotate 90° clockwise to view"

    with Image.open(io.BytesIO(cleaned.image)) as result:
        assert result.size == (600, 800)
        assert result.getpixel((590, 10))[0] > 150  # type: ignore[index]  # the red corner is now top right


def test_a_png_loses_its_text_chunks_and_exif_and_its_alpha_is_white_on_the_thumbnail() -> None:
    picture = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    picture.paste((0, 0, 255, 255), (100, 100, 300, 300))
    text = PngImagePlugin.PngInfo()
    text.add_text("Location", "40.7560,-73.9860")
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = GPS
    out = io.BytesIO()
    picture.save(out, format="PNG", pnginfo=text, exif=exif)

    cleaned = images.clean(out.getvalue(), "image/png")

    assert b"40.7560" not in cleaned.image and b"eXIf" not in cleaned.image and b"tEXt" not in cleaned.image
    with Image.open(io.BytesIO(cleaned.image)) as result:
        assert result.format == "PNG" and result.mode == "RGBA" and "Location" not in result.info
    with Image.open(io.BytesIO(cleaned.thumbnail)) as thumbnail:
        assert thumbnail.size == (320, 320) and thumbnail.getpixel((5, 5)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("data", "declared", "reason"),
    [
        (phone_jpeg(), "image/png", "not_declared_type"),  # a JPEG said to be a PNG
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/jpeg", "not_declared_type"),
        (b"Dear owner, your dog was lovely.\n", "image/jpeg", "not_declared_type"),  # a text file
        (phone_jpeg()[:600], "image/jpeg", "undecodable"),  # cut short: the magic is right, the image is not
        (b"\x89PNG\r\n\x1a\n" + b"not really a png at all", "image/png", "undecodable"),
        (b"", "image/jpeg", "not_declared_type"),
    ],
)
def test_bytes_that_are_not_a_whole_image_of_the_declared_type_are_rejected(
    data: bytes, declared: str, reason: str
) -> None:
    with pytest.raises(images.Rejected) as refused:
        images.clean(data, declared)
    assert refused.value.reason == reason


def test_a_decompression_bomb_is_rejected_before_it_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100_000)  # a 400 x 300 photo becomes "too big" (120,000 pixels)

    with pytest.raises(images.Rejected) as refused:
        images.clean(phone_jpeg(400, 300), "image/jpeg")

    assert refused.value.reason == "too_many_pixels"
