"""From natural-log strengths to the rating scale: 400 * log10, centred at 1000 or anchored."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SCALE, BASE, CENTER = 400.0, 10.0, 1000.0


def transform(
    component: NDArray[np.intp], anchor: tuple[int, float] | None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(T, offset) with ratings = T @ theta + offset: centred at 1000 per component or anchored."""
    m = len(component)
    k = SCALE / np.log(BASE)
    t = np.zeros((m, m))
    offset = np.zeros(m)
    for c in np.unique(component[component >= 0]):
        idx = np.flatnonzero(component == c)
        block = np.eye(len(idx))
        if anchor is not None and component[anchor[0]] == c:
            block[:, np.searchsorted(idx, anchor[0])] -= 1.0
            offset[idx] = anchor[1]
        else:
            block -= 1.0 / len(idx)
            offset[idx] = CENTER
        t[np.ix_(idx, idx)] = k * block
    return t, offset
