"""Images in battle files: each record names its turns' images by sha256 (`images`, one list a
turn) and, on request, carries them as data: URIs (`image_data`); an import stores the ones it
gets (checked and normalised again, like an upload) and links them to the imported turns."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import io
from collections.abc import Iterable
from typing import Any

from PIL import Image as PILImage
from sqlmodel import Session, col, select

from arena.core.errors import BattleError
from arena.core.rules import ImageRules
from arena.images.clean import CleanImage, clean_image, data_uri
from arena.store.images import image_data
from arena.store.tables import Image, Turn, TurnImage, utcnow

# Imported images are checked as uploads are, but a file may carry larger originals.
IMPORT_RULES = ImageRules(max_per_turn=64, max_bytes=64 * 1024 * 1024, max_side=0)


def battle_image_shas(session: Session, battle_ids: Iterable[str]) -> dict[str, list[list[str]]]:
    """Each battle's images by turn, as sha256 lists (battles without images are absent)."""
    ids = list(battle_ids)
    if not ids:
        return {}
    rows = session.exec(
        select(Turn.battle_id, Turn.index, TurnImage.sha256)
        .join(TurnImage, col(TurnImage.turn_id) == col(Turn.id))
        .where(col(Turn.battle_id).in_(ids))
        .order_by(col(Turn.battle_id), col(Turn.index), col(TurnImage.position))
    ).all()
    return shas_by_turn(rows)


def shas_by_turn(rows: Iterable[Any]) -> dict[str, list[list[str]]]:
    """(battle id, turn index, sha256) rows, ordered by battle, turn and position, as each
    battle's sha256 lists a turn."""
    out: dict[str, list[list[str]]] = {}
    for battle_id, index, sha in rows:
        lists = out.setdefault(battle_id, [])
        while len(lists) <= index:
            lists.append([])
        lists[index].append(sha)
    return out


def image_uris(session: Session, shas: Iterable[str]) -> dict[str, str]:
    """The stored images among these hashes, as data: URIs."""
    return {sha: data_uri(mime, data) for sha, (mime, data) in image_data(session, shas).items()}


def record_images(obj: dict[str, Any]) -> list[list[str]]:
    """A record's `images` (sha256 lists by turn); malformed values count as none."""
    value = obj.get("images")
    if not isinstance(value, list):
        return []
    return [[s for s in t if isinstance(s, str)] if isinstance(t, list) else [] for t in value]


def record_modality(obj: dict[str, Any]) -> str:
    """A record's modality: its own word, else "vision" when it names images."""
    value = obj.get("modality")
    if value in ("text", "vision"):
        return str(value)
    return "vision" if any(record_images(obj)) else "text"


def store_record_images(session: Session, obj: dict[str, Any], turn_ids: list[int]) -> None:
    """Link a record's images to its imported turns, storing the images the file carries.

    An image the file only names by hash is linked if it is stored here already (the arena's
    own export, imported back); a carried image is stored once it passes the upload checks,
    under the hash of its normalised bytes. One that fails them is left out (the vote stays).
    """
    shas = record_images(obj)
    given = obj.get("image_data")
    carried: dict[str, Any] = given if isinstance(given, dict) else {}
    known = set(image_data(session, [s for t in shas for s in t]))
    now = utcnow()
    for turn_id, turn_shas in zip(turn_ids, shas, strict=False):
        for position, sha in enumerate(turn_shas):
            if sha not in known and isinstance(carried.get(sha), str):
                clean = _decode(carried[sha], sha)
                if clean is None:
                    continue
                if session.get(Image, clean.sha256) is None:
                    session.add(_row(clean))
                    session.flush()
                known.add(clean.sha256)
                sha = clean.sha256
            session.add(TurnImage(turn_id=turn_id, position=position, sha256=sha, created_at=now))


def _decode(uri: str, sha: str) -> CleanImage | None:
    """The carried image, checked. The arena's own export carries its normalised bytes under
    their hash: those are kept as they are (re-encoding a JPEG would change them and lose a
    little each time), once they prove metadata-free; anything else is normalised again."""
    try:
        raw = base64.b64decode(uri.split(",", 1)[-1], validate=True)
        clean = clean_image(raw, IMPORT_RULES)
    except (BattleError, binascii.Error, ValueError):
        return None
    if hashlib.sha256(raw).hexdigest() == sha and _metadata_free(raw):
        return dataclasses.replace(clean, sha256=sha, data=raw, mime=_mime(raw, clean.mime))
    return clean


_METADATA_KEYS = ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment", "photoshop")


def _metadata_free(raw: bytes) -> bool:
    with PILImage.open(io.BytesIO(raw)) as im:
        if im.format not in ("PNG", "JPEG") or im.getexif():
            return False
        text = getattr(im, "text", None) or {}
        return not text and not any(k in im.info for k in _METADATA_KEYS)


def _mime(raw: bytes, default: str) -> str:
    return (
        "image/jpeg"
        if raw[:3] == b"\xff\xd8\xff"
        else "image/png"
        if raw[:4] == b"\x89PNG"
        else default
    )


def _row(img: CleanImage) -> Image:
    return Image(
        sha256=img.sha256,
        mime=img.mime,
        width=img.width,
        height=img.height,
        size=len(img.data),
        data=img.data,
    )
