"""The small built-in image the admin's connection test sends to a vision endpoint."""

from __future__ import annotations

import base64
import functools
import io

from PIL import Image, ImageDraw

SAMPLE_QUESTION = "What colour is the circle in this image? Answer in one short sentence."
SAMPLE_ANSWER = "red"  # what a model that sees the image should say


@functools.cache
def sample_image_uri() -> str:
    """A 64×64 PNG, a red circle on white, as a data: URI (made once)."""
    im = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(im).ellipse((12, 12, 52, 52), fill=(220, 30, 30))
    out = io.BytesIO()
    im.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
