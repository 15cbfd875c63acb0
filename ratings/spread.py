"""Rank spread: the range of ranks a model could hold given everyone's 95% intervals."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def rank_lower_bounds(
    lower: NDArray[np.float64], upper: NDArray[np.float64], group: NDArray[np.intp]
) -> NDArray[np.int64]:
    """1 + the number of other models in the same group whose upper bound exceeds this lower bound.

    With ``rank_ub`` (1 + the models better beyond doubt) this is the spread of ranks compatible
    with the intervals: the model ranks no better than ``rank_ub`` and no worse than this.
    """
    could_beat = (upper[None, :] > lower[:, None]) & (group[None, :] == group[:, None])
    np.fill_diagonal(could_beat, False)
    out: NDArray[np.int64] = 1 + could_beat.sum(axis=1).astype(np.int64)
    return out
