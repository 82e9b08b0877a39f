"""Checking and cleaning an uploaded walk photo, pure (bytes in, bytes out): the bytes must really
be the declared type (its magic bytes, and Pillow decodes the whole image as that format), and
what is kept is re-encoded from the pixels alone, so that no EXIF (GPS position, camera, times),
XMP, IPTC, comment or text chunk survives; the EXIF orientation is applied first, so the photo
stays upright. The ICC colour profile is kept: it is how the camera's colours are meant to look
(Display P3 on phones), not something about the walker or the place.

Pillow rather than a hand-written parser: it is the maintained, fuzzed decoder behind most Python
image services, its manylinux aarch64 wheels run on Lambda's Python 3.12 (Amazon Linux 2023), and
it is imported only by the photo check (a few tens of ms there, nothing for the other functions).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by `clean` itself: PIL stays out of every other function's cold start
    from PIL.Image import Image as PILImage

MAGIC = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",)}
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
MAX_PIXELS = 50_000_000  # a 50 MP photo: more is a decompression bomb, not a phone's photo
THUMBNAIL_PX = 320  # the longer side: sharp at the report card's 125-unit tiles on a 2x screen
JPEG_QUALITY, THUMBNAIL_QUALITY = 88, 80


class Rejected(Exception):
    """The upload is not a usable image of its declared type; `reason` says why, for the record."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Cleaned:
    image: bytes  # the declared type, re-encoded without metadata
    thumbnail: bytes  # always JPEG
    width: int
    height: int


def sniffed(data: bytes, content_type: str) -> bool:
    """The bytes start as the declared type's files do."""
    return any(data.startswith(magic) for magic in MAGIC.get(content_type, ()))


def clean(data: bytes, content_type: str) -> Cleaned:
    """The photo re-encoded without metadata, and its thumbnail; `Rejected` if the bytes are not a
    whole image of `content_type` (or are too many pixels)."""
    if not sniffed(data, content_type):
        raise Rejected("not_declared_type")
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # Pillow's own limit, as a refusal
            with Image.open(io.BytesIO(data), formats=[FORMATS[content_type]]) as probe:
                if probe.width * probe.height > MAX_PIXELS:  # read from the header: nothing decoded yet
                    raise Rejected("too_many_pixels")
                probe.verify()  # the file's structure (PNG checksums, truncation), before decoding it
            with Image.open(io.BytesIO(data), formats=[FORMATS[content_type]]) as opened:
                opened.load()
                upright = ImageOps.exif_transpose(opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Rejected("too_many_pixels") from None
    except (OSError, SyntaxError, ValueError, EOFError):  # what Pillow raises for a file it cannot read
        raise Rejected("undecodable") from None
    icc_profile = upright.info.get("icc_profile")
    upright.info = {}  # nothing of the original's metadata may be written again (JPEG copies `comment`)
    extra = {"icc_profile": icc_profile} if icc_profile else {}
    out = io.BytesIO()
    if content_type == "image/jpeg":
        upright = upright if upright.mode in ("RGB", "L", "CMYK") else upright.convert("RGB")
        upright.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, **extra)
    else:
        upright.save(out, format="PNG", optimize=True, **extra)
    thumbnail = _flattened(upright)
    thumbnail.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    small = io.BytesIO()
    thumbnail.save(small, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return Cleaned(out.getvalue(), small.getvalue(), upright.width, upright.height)


def _flattened(image: PILImage) -> PILImage:
    """RGB for the JPEG thumbnail: transparency on white (a PNG with alpha), palettes expanded."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image.convert("RGB") if image.mode != "RGB" else image.copy()
