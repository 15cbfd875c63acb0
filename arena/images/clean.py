"""Checking and normalising an image a voter attached: the real type from the bytes, the size
and pixel limits, and a re-encoding that drops every piece of metadata (EXIF, GPS, XMP, ICC,
comments) after turning the picture upright.

Pure functions over bytes: the routes and the importer call them before anything is stored or
sent, so a refused image costs no upstream call and leaves no row behind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from arena.core.errors import BattleError
from arena.core.rules import ImageRules

# What a voter may send, by the format Pillow finds in the bytes (never by name or header).
ACCEPTED = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
_DATA_URI = re.compile(r"data:(image/[a-z0-9.+-]+)?(;[^,;]*)*;base64,", re.IGNORECASE)


@dataclass(frozen=True)
class CleanImage:
    """An image ready to store and send: re-encoded, metadata-free, identified by its sha256."""

    sha256: str
    mime: str  # image/png | image/jpeg
    data: bytes
    width: int
    height: int
    upload_bytes: int  # what the voter sent, decoded (counts in the upload limits)

    def data_uri(self) -> str:
        """The image as a `data:` URI, as upstreams receive it."""
        return data_uri(self.mime, self.data)


def data_uri(mime: str, data: bytes) -> str:
    """A `data:<mime>;base64,…` URI."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_uri(uri: str, rules: ImageRules, *, which: str = "The image") -> bytes:
    """The bytes of a `data:image/…;base64,…` URI (or of bare base64), size checked first."""
    if not isinstance(uri, str):
        raise BattleError(422, f"{which} must be a data: URI string.")
    head = _DATA_URI.match(uri)
    if head is None and uri[:5].lower() == "data:":
        raise BattleError(
            422, f"{which} is not a base64 data: URI of an image (data:image/png;base64,…)."
        )
    payload = uri[head.end() :] if head else uri
    # The decoded size is known from the text's length: refuse before decoding anything.
    estimate = len(payload) * 3 // 4
    if estimate > rules.max_bytes + 3:
        raise BattleError(
            413, f"{which} is larger than {_mib(rules.max_bytes)} (about {_mib(estimate)})."
        )
    try:
        # validate=True refuses anything outside the alphabet (spaces and newlines too).
        data = base64.b64decode(payload.encode("ascii", errors="replace"), validate=True)
    except (binascii.Error, ValueError):
        raise BattleError(422, f"{which} is not valid base64.") from None
    if not data:
        raise BattleError(422, f"{which} is empty.")
    if len(data) > rules.max_bytes:
        raise BattleError(413, f"{which} is larger than {_mib(rules.max_bytes)}.")
    return data


def clean_image(data: bytes, rules: ImageRules, *, which: str = "The image") -> CleanImage:
    """Check an image's bytes and re-encode it without metadata (4xx `BattleError` if bad)."""
    if len(data) > rules.max_bytes:
        raise BattleError(413, f"{which} is larger than {_mib(rules.max_bytes)}.")
    try:
        # Opening reads the header only: the pixel count is checked before anything is decoded.
        # (Pillow's own bomb check, a process-wide limit, stays as a second wall.)
        im = Image.open(io.BytesIO(data), formats=list(ACCEPTED))
        if im.width * im.height > rules.max_pixels:
            raise BattleError(
                422,
                f"{which} has {im.width}×{im.height} pixels; the limit is "
                f"{rules.max_pixels:,} pixels.",
            )
        if im.format == "JPEG" and rules.max_side:
            # Let the decoder scale by 1/2, 1/4 or 1/8 (no smaller than 3/4 of the limit): a
            # 12 MP photo then decodes to 3 MP, in a quarter of the time and memory.
            scale = max(
                (s for s in (8, 4, 2, 1) if max(im.size) / s >= rules.max_side * 0.75),
                default=1,
            )
            if scale > 1:
                im.draft("RGB", (im.width // scale, im.height // scale))
        im.load()  # the first frame only: an animated GIF is judged by its first picture
    except BattleError:
        raise
    except UnidentifiedImageError:
        raise BattleError(
            422, f"{which} is not a PNG, JPEG, WebP or GIF image (or it is damaged)."
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BattleError(422, f"{which} decodes to too many pixels.") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise BattleError(422, f"{which} could not be decoded (damaged or cut short).") from None
    source = im.format or ""
    try:
        upright = ImageOps.exif_transpose(im) or im
        if rules.max_side and max(upright.size) > rules.max_side:
            upright.thumbnail((rules.max_side, rules.max_side), Image.Resampling.LANCZOS)
        picture = _plain_pixels(upright)
        out = io.BytesIO()
        if source == "JPEG" and picture.mode == "RGB":
            mime = "image/jpeg"
            picture.save(out, "JPEG", quality=90)
        else:
            mime = "image/png"
            picture.save(out, "PNG", optimize=False)
    except (OSError, SyntaxError, ValueError, EOFError):
        raise BattleError(422, f"{which} could not be decoded (damaged or cut short).") from None
    encoded = out.getvalue()
    return CleanImage(
        sha256=hashlib.sha256(encoded).hexdigest(),
        mime=mime,
        data=encoded,
        width=picture.width,
        height=picture.height,
        upload_bytes=len(data),
    )


def _plain_pixels(im: Image.Image) -> Image.Image:
    """The pixels alone, in RGB or RGBA, in a new image that carries no `info` (metadata)."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    plain = im.convert("RGBA" if has_alpha else "RGB")
    fresh = Image.new(plain.mode, plain.size)
    fresh.paste(plain)
    return fresh


def clean_data_uris(uris: list[str], rules: ImageRules) -> list[CleanImage]:
    """Check and normalise the images of one turn (too many → 422)."""
    if len(uris) > rules.max_per_turn:
        if rules.max_per_turn == 0:
            raise BattleError(422, "This arena does not take images.")
        raise BattleError(
            422, f"{len(uris)} images; a prompt may carry at most {rules.max_per_turn}."
        )
    out: list[CleanImage] = []
    for i, uri in enumerate(uris, start=1):
        which = f"Image {i}" if len(uris) > 1 else "The image"
        out.append(clean_image(decode_data_uri(uri, rules, which=which), rules, which=which))
    return out


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"
