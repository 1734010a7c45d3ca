"""Photos from citizens: checked when sent, then decoded with bounds and re-encoded as plain
JPEG without metadata outside the citizen's request (feedback.services.finish_photo)."""

import io
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.lazytext import lazy_gettext as _l

if TYPE_CHECKING:
    from PIL import Image

ACCEPTED_FORMATS = ("JPEG", "PNG")
# A progressive JPEG is decoded scan after scan over the whole picture: a camera's or an editor's
# has 1 to some 20 scans, while a few hundred kB of tiny scans repeated take minutes to decode.
MAX_JPEG_SCANS = 100


class PhotoError(ValueError):
    """The upload is not a usable photo; the message says why, for the sender."""


@dataclass(frozen=True)
class Photo:
    data: bytes
    width: int
    height: int
    pending: bool = False  # as sent, only inspected: to be re-encoded before anyone sees it


def inspect(raw: bytes, *, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """Check an upload as far as its header (bytes, format, pixels) and return its size.

    Nothing is decoded: cheap enough for the citizen's request. reencode() decodes it later.
    """
    with _opened(raw, max_bytes, max_pixels) as image:
        return image.size


def reencode(raw: bytes, *, max_bytes: int, max_pixels: int, max_side: int, stored_bytes: int):
    """Check an upload and return it as a new JPEG: no metadata, bounded pixels and bytes."""
    with _opened(raw, max_bytes, max_pixels) as image:
        image.draft("RGB", (max_side, max_side))  # JPEG: decode at a reduced scale
        image.load()
        from PIL import ImageOps

        image = ImageOps.exif_transpose(image)
        return _encode(image, max_side, stored_bytes)


@contextmanager
def _opened(raw: bytes, max_bytes: int, max_pixels: int):
    """Open an upload within the bounds; any failure inside becomes a PhotoError."""
    if not raw:
        raise PhotoError(_l("The photo is empty."))
    if len(raw) > max_bytes:
        raise PhotoError(_l("The photo is too large (%(mb)s MB at most).", mb=max_bytes >> 20))
    from PIL import Image  # here: Pillow costs 10 ms of every start, and only photos need it

    # Pillow refuses images above twice this with an error, and warns above it: both refused here.
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=ACCEPTED_FORMATS) as image:
                if image.width * image.height > max_pixels:
                    raise PhotoError(_l("The photo has too many pixels."))
                # A JPEG whatever Pillow calls it: one with a multi-picture header opens as MPO.
                if raw.startswith(b"\xff\xd8") and jpeg_scans(raw) > MAX_JPEG_SCANS:
                    raise PhotoError(_l("This file is not a JPEG or PNG photo."))
                yield image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError(_l("The photo has too many pixels.")) from None
    except PhotoError:
        raise
    except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError):
        raise PhotoError(_l("This file is not a JPEG or PNG photo.")) from None


def jpeg_scans(raw: bytes) -> int:
    """Count the scans of a JPEG's picture: its start-of-scan markers from the first on. The
    segments before it are stepped over by their lengths (an EXIF thumbnail has scans of its
    own); after it, a 0xFF byte of the picture's data is always followed by 0 or a marker."""
    at = 2  # after the start-of-image marker
    while at + 4 <= len(raw) and raw[at] == 0xFF:
        marker = raw[at + 1]
        if marker == 0xDA:
            return raw.count(b"\xff\xda", at)
        if marker == 0xFF:  # a fill byte before a marker
            at += 1
        elif marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            at += 2
        else:
            at += 2 + int.from_bytes(raw[at + 2 : at + 4])
    return 0


def _encode(image: "Image.Image", max_side: int, stored_bytes: int) -> Photo:
    from PIL import Image

    if image.mode in ("RGBA", "LA", "P", "PA"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    for quality in (82, 70, 55):
        data = _jpeg(image, quality)
        if len(data) <= stored_bytes:
            break
    while len(data) > stored_bytes and min(image.size) > 64:
        image = image.resize((image.width * 3 // 4, image.height * 3 // 4))
        data = _jpeg(image, 55)
    return Photo(data, image.width, image.height)


def _jpeg(image: "Image.Image", quality: int) -> bytes:
    out = io.BytesIO()
    # A fresh image carries no EXIF, ICC or comments unless asked to.
    image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()
