"""Validating battle records and keeping them as integer arrays (the loader's collector)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ratings.battles import WINNER_CODES, Battles
from ratings.fastjson import Record, StyleMeta, style_rows
from ratings.style import raw_from_conversations, raw_from_metadata


class Collector:
    """Validates records and accumulates integer arrays; never raises on bad input."""

    def __init__(
        self,
        anony_only: bool,
        category: str | None,
        from_conversations: bool = False,
        modality: str | None = None,
    ) -> None:
        self.anony_only = anony_only
        self.category = category
        self.modality = modality
        self.from_conversations = from_conversations
        self.ids: dict[str, int] = {}
        self.a: list[int] = []
        self.b: list[int] = []
        self.out: list[int] = []
        self.style: list[tuple[int, list[float], list[float]]] = []
        #: (battle indices, their raw style rows) of chunks read a column at a time
        self.style_blocks: list[tuple[NDArray[np.intp], NDArray[np.float64]]] = []
        self.rejected: list[tuple[int, str]] = []
        self.non_anony = 0
        self.off_category = 0

    def add(self, objs: list[Any], numbers: Sequence[int]) -> None:
        """Validate and keep each record; ``numbers`` are the line/record numbers."""
        codes, reject, keep = WINNER_CODES, self.rejected.append, self._keep
        for obj, no in zip(objs, numbers, strict=True):
            problem = record_problem(obj)
            if problem is not None:
                reject((no, problem))
                continue
            get = obj.get
            keep(
                obj["model_a"],
                obj["model_b"],
                codes[obj["winner"]],
                get("anony"),
                get("category"),
                get("modality"),
                get("conv_metadata"),
                obj,
            )

    def add_typed(self, records: list[Record], numbers: Sequence[int]) -> None:
        """`add` for records decoded by `fastjson` (names already strings), a column at a time:
        the same records kept and rejected, with the same messages, in far fewer bytecodes."""
        codes = [WINNER_CODES.get(r.winner) for r in records]
        ma = [r.model_a for r in records]
        mb = [r.model_b for r in records]
        bad = [
            k
            for k, (a, b, c) in enumerate(zip(ma, mb, codes, strict=True))
            if c is None or a == b or not a or not b
        ]
        take = list(range(len(records)))
        if bad:
            for k in bad:
                self.rejected.append((numbers[k], _typed_problem(records[k])))
            skip = set(bad)
            take = [k for k in take if k not in skip]
        if self.anony_only:
            flags = [records[k].anony for k in take]
            shut = [k for k, f in zip(take, flags, strict=True) if f is not None and not f]
            if shut:
                self.non_anony += len(shut)
                closed = set(shut)
                take = [k for k in take if k not in closed]
        if self.modality is not None:
            # A record without `modality` is a text battle (files from before vision battles).
            same = [k for k in take if (records[k].modality or "text") == self.modality]
            self.off_category += len(take) - len(same)
            take = same
        wanted = self.category
        if wanted is not None:
            inside = [k for k in take if _in_category(records[k].category, wanted)]
            self.off_category += len(take) - len(inside)
            take = inside
        if len(take) < len(records):
            records = [records[k] for k in take]
            ma, mb, codes = [ma[k] for k in take], [mb[k] for k in take], [codes[k] for k in take]
        ids = self.ids
        # New names get ids in order of first appearance (a before b), as `_keep` gives them.
        for name in dict.fromkeys(chain.from_iterable(zip(ma, mb, strict=True))):
            if name not in ids:
                ids[name] = len(ids)
        first = len(self.a)
        metas = [r.conv_metadata for r in records]
        typed = [k for k, m in enumerate(metas) if m.__class__ is StyleMeta]
        if typed:
            rows = style_rows([metas[k] for k in typed])
            self.style_blocks.append((np.asarray(typed, dtype=np.intp) + first, rows))
        conv = self.from_conversations
        for k, meta in enumerate(metas):
            if meta.__class__ is StyleMeta or (meta is None and not conv):
                continue
            raw = raw_from_metadata(meta) if meta.__class__ is dict else None
            if raw is None and conv:
                raw = raw_from_conversations(*_conversations(records[k]))
            if raw is not None:
                self.style.append((first + k, raw[0], raw[1]))
        self.a.extend(map(ids.__getitem__, ma))
        self.b.extend(map(ids.__getitem__, mb))
        self.out.extend(codes)  # type: ignore[arg-type]

    def _keep(
        self,
        ma: str,
        mb: str,
        code: int,
        anony: Any,
        category: Any,
        modality: Any,
        meta: Any,
        record: Any,
    ) -> None:
        if self.anony_only and anony is not None and not anony:
            self.non_anony += 1
            return
        if self.category is not None and not _in_category(category, self.category):
            self.off_category += 1
            return
        # A record without `modality` is a text battle (files from before vision battles).
        if self.modality is not None and (modality or "text") != self.modality:
            self.off_category += 1
            return
        ids = self.ids
        ia = ids.get(ma)
        if ia is None:
            ia = ids[ma] = len(ids)
        ib = ids.get(mb)
        if ib is None:
            ib = ids[mb] = len(ids)
        raw = raw_from_metadata(meta) if meta.__class__ is dict else None
        if raw is None and self.from_conversations:
            conv_a, conv_b = _conversations(record)
            raw = raw_from_conversations(conv_a, conv_b)
        if raw is not None:
            self.style.append((len(self.a), raw[0], raw[1]))
        self.a.append(ia)
        self.b.append(ib)
        self.out.append(code)

    def battles(self) -> Battles:
        """The accepted battles; style is None when no record carried conv_metadata."""
        n = len(self.a)
        if not (self.style or self.style_blocks):
            return Battles.from_arrays(list(self.ids), self.a, self.b, self.out)
        style = np.full((n, 2, 4), np.nan)
        for idx, rows in self.style_blocks:
            style[idx] = rows
        if self.style:
            idx = np.fromiter((s[0] for s in self.style), dtype=np.intp, count=len(self.style))
            style[idx, 0] = [s[1] for s in self.style]
            style[idx, 1] = [s[2] for s in self.style]
        return Battles.from_arrays(list(self.ids), self.a, self.b, self.out, style=style)


def _typed_problem(r: Record) -> str:
    """`record_problem`'s words for a typed record that fails it."""
    if r.winner not in WINNER_CODES:
        return f"unknown winner {r.winner!r}"
    if r.model_a == r.model_b:
        return f"model_a equals model_b ({r.model_a!r})"
    return "empty model name"


def _conversations(record: Any) -> tuple[Any, Any]:
    if record.__class__ is dict:
        return record.get("conversation_a"), record.get("conversation_b")
    return getattr(record, "conversation_a", None), getattr(record, "conversation_b", None)


def record_problem(obj: Any) -> str | None:
    """Why a battle record cannot be used, or None when it can (the one rule for every reader)."""
    if obj.__class__ is not dict:
        return "not a JSON object"
    ma, mb, w = obj.get("model_a"), obj.get("model_b"), obj.get("winner")
    if ma.__class__ is not str or mb.__class__ is not str or w.__class__ is not str:
        for key in ("model_a", "model_b", "winner"):
            if key not in obj:
                return f"missing field {key!r}"
            if not isinstance(obj[key], str):
                return f"field {key!r} is not a string"
    if w not in WINNER_CODES:
        return f"unknown winner {w!r}"
    if ma == mb:
        return f"model_a equals model_b ({ma!r})"
    if not ma or not mb:
        return "empty model name"
    return None


def _in_category(value: Any, wanted: str) -> bool:
    if isinstance(value, str):
        return value == wanted
    if isinstance(value, list):
        return wanted in value
    return False
