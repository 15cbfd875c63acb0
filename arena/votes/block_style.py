"""The style features of the votes a cold read took from vote blocks (`votes/blocks.py`).

A block carries the eight style features of its votes as a second packed value, aligned with
its rows. A block is written without them (a board without style control reads none), and the
first board with style control that reads the block's range row by row stores them into it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from arena.store.engine import begin
from arena.store.style_columns import STYLE_COLUMNS
from arena.store.tables import Vote, VoteBlock
from arena.votes import blocks
from arena.votes.blocks import STYLE, ColdRead, blobs, in_holes, style_query
from arena.votes.records import fetch_records

log = logging.getLogger("arena.votes.block_style")


def read_style(engine: Engine, read: ColdRead) -> NDArray[Any]:
    """The style rows (`STYLE`) of every vote: from the blocks a cold read used, when they are
    still the same blocks, and row by row for the rest (every vote there, counted or not).
    A block used without its style yet (just built) gets it from those rows."""
    used, fingerprints = read.used, read.fingerprints
    with engine.connect() as conn:
        found = blobs(
            conn,
            "SELECT block, votes, id_sum, style FROM voteblock "
            f"WHERE size = {blocks.BLOCK} AND block IN ({', '.join(str(k) for k in used)})",
        )
        pieces: dict[int, NDArray[Any]] = {}
        missing: list[int] = []
        for k, votes, id_sum, data in found:
            ids = used[int(k)]
            if fingerprints.get(int(k)) != (int(votes), int(id_sum)):
                continue  # rebuilt since: its rows may differ from the ids held
            values = np.frombuffer(bytes(data), dtype="<f8")
            if len(values) != 8 * len(ids):
                missing.append(int(k))
                continue
            piece = np.empty(len(ids), dtype=STYLE)
            piece["id"] = ids
            for j, c in enumerate(STYLE_COLUMNS):
                piece[c] = values[j::8]
            pieces[int(k)] = piece
        query = style_query().where(in_holes(sorted(pieces))).order_by(col(Vote.id))
        rest = fetch_records(conn, query, STYLE)
    if missing:
        _add_style(engine, read, missing, rest)
    rows = np.concatenate([*pieces.values(), rest])
    return rows[np.argsort(rows["id"], kind="stable")]


def _add_style(engine: Engine, read: ColdRead, missing: list[int], style: NDArray[Any]) -> None:
    """Store the style features of blocks built without them, while they are the same blocks
    (their fingerprint unchanged); best-effort."""
    try:
        for k in missing:
            ids = read.used[k]
            at = np.minimum(np.searchsorted(style["id"], ids), max(len(style) - 1, 0))
            if len(ids) and not (len(style) and bool((style["id"][at] == ids).all())):
                continue  # a vote of the block is gone: the next cold read rebuilds it
            picked = style[at] if len(ids) else style[:0]
            packed = np.stack([picked[c] for c in STYLE_COLUMNS], axis=1).astype("<f8")
            votes, id_sum = read.fingerprints[k]
            with begin(engine, durable=False) as conn:
                conn.execute(
                    update(VoteBlock)
                    .where(
                        col(VoteBlock.block) == k,
                        col(VoteBlock.size) == blocks.BLOCK,
                        col(VoteBlock.layout) == blocks.LAYOUT,
                        col(VoteBlock.votes) == votes,
                        col(VoteBlock.id_sum) == id_sum,
                    )
                    .values(style=packed.tobytes())
                )
    except SQLAlchemyError:
        log.warning("vote block style not stored; a later read adds it", exc_info=True)
