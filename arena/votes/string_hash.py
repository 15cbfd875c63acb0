"""64-bit hashes of strings, computed over whole numpy columns, the same in every process.

Vote hygiene only asks whether two votes share a voter, an IP or a prompt, so a vote block
(`votes/blocks.py`) stores each of those strings as a fixed-width hash instead of the text.
Python's `hash()` is salted per process, and hashlib is one Python call per string; this mixes
the bytes eight at a time in numpy. 0 stands for none (NULL or ''), which no string hashes to.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

_SEED = np.uint64(0x9E3779B97F4A7C15)
_MUL = np.uint64(0xFF51AFD7ED558CCD)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def hash_strings(values: NDArray[Any]) -> NDArray[np.uint64]:
    """The hash of each string of an object column (str, or None for none); 0 for none."""
    n = len(values)
    if not n:
        return np.zeros(0, dtype=np.uint64)
    present = values.astype(bool)  # None and "" alike
    if not present.any():  # none at all (imported battles carry no IP or prompt hash)
        return np.zeros(n, dtype=np.uint64)
    filled = np.where(present, values, "")
    try:
        raw = filled.astype(np.bytes_)  # ASCII, the usual case (hex ids, IP addresses)
    except UnicodeEncodeError:
        raw = np.array([s.encode("utf-8") for s in filled.tolist()], dtype=np.bytes_)
    width = raw.dtype.itemsize
    if not raw.any():
        return np.zeros(n, dtype=np.uint64)
    padded = np.zeros((n, -(-width // 8) * 8), dtype=np.uint8)
    padded[:, :width] = raw.view(np.uint8).reshape(n, width)
    words = padded.view("<u8")
    # Only a string's own words: its hash must not depend on the longest string beside it.
    own = (np.strings.str_len(raw) + 7) // 8
    h = np.full(n, _SEED, dtype=np.uint64)
    for j in range(words.shape[1]):
        mixed = (h ^ words[:, j]) * _MUL
        mixed ^= mixed >> np.uint64(29)
        h = np.where(own > j, mixed, h)
    # splitmix64's finaliser: every input bit reaches every output bit.
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    h[h == 0] = 1
    h[raw == b""] = 0
    return h
