"""Images for tests: real PNG/JPEG bytes made with Pillow, a JPEG with EXIF GPS tags, a bomb."""

from __future__ import annotations

import base64
import io
import struct
import zlib

from PIL import Image

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def png_bytes(size: tuple[int, int] = (32, 24), colour: str = "red") -> bytes:
    """A small solid PNG."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (40, 20), orientation: int = 6) -> bytes:
    """A JPEG whose EXIF says where it was taken (GPS), by whom, and to turn it (orientation)."""
    im = Image.new("RGB", size, "blue")
    im.paste(Image.new("RGB", (size[0] // 2, size[1]), "yellow"), (0, 0))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc"  # Make
    exif[0x013B] = "Secret Photographer"  # Artist
    exif[ORIENTATION] = orientation
    exif[GPS_IFD] = {1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def data_uri(data: bytes, mime: str = "image/png") -> str:
    """A data: URI."""
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def png_bomb(side: int = 30_000) -> bytes:
    """A PNG that says it is side × side pixels (~900 Mpx), a few kilobytes on disk: its rows
    of zeros compress to almost nothing."""
    raw = zlib.compress(b"\x00" * (side // 8 + 1) * 64, 9)  # only the first rows; enough

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
