"""Comparison-graph structure: connected components and where the MLE does not exist."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ratings.counts import ModelStats, PairCounts


@dataclass(frozen=True)
class GraphInfo:
    """Component of every model (0 = largest) and models whose MLE runs off to infinity."""

    component: NDArray[np.intp]
    n_components: int  # among models with battles
    separated: NDArray[np.bool_]
    flags: list[str | None]


def analyse(c: PairCounts, stats: ModelStats) -> GraphInfo:
    """Find connected components and models outside a strongly connected "scored-on" graph.

    The Bradley-Terry MLE exists in a component iff the directed graph with an edge i -> j
    whenever i scored against j (a win or a tie) is strongly connected (Zermelo/Ford).
    """
    m = c.n_models
    ranked = stats.battles > 0
    if m == 0:
        return GraphInfo(np.zeros(0, np.intp), 0, np.zeros(0, bool), [])
    ones = np.ones(len(c.i))
    undirected = coo_matrix((ones, (c.i, c.j)), shape=(m, m)).tocsr()
    _, weak = connected_components(undirected, directed=False)
    ties = c.counts[:, 2] + c.counts[:, 3]
    i_scored = (c.counts[:, 0] + ties) > 0
    j_scored = (c.counts[:, 1] + ties) > 0
    rows = np.concatenate([c.i[i_scored], c.j[j_scored]])
    cols = np.concatenate([c.j[i_scored], c.i[j_scored]])
    directed = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m)).tocsr()
    _, strong = connected_components(directed, directed=True, connection="strong")
    separated = ranked & ~_in_core(weak, strong)
    component = _relabel_by_size(weak, ranked)
    flags: list[str | None] = [None] * m
    for k in np.flatnonzero(separated):
        if stats.losses[k] == 0 and stats.ties[k] == 0:
            flags[k] = "no losses"
        elif stats.wins[k] == 0 and stats.ties[k] == 0:
            flags[k] = "no wins"
        else:
            flags[k] = "separated"
    n_comp = len(np.unique(component[ranked])) if ranked.any() else 0
    return GraphInfo(component, n_comp, separated, flags)


def _in_core(weak: NDArray[np.intp], strong: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Models in the strictly largest strong component of their weak component.

    Ratings relative to that core are finite; every other model of the weak component is
    infinitely far from it. Without a strictly largest strong component nothing is a core.
    """
    m = len(weak)
    strong_size = np.bincount(strong, minlength=m)
    core = np.zeros(m, dtype=bool)
    for w in np.unique(weak):
        members = np.flatnonzero(weak == w)
        sccs = np.unique(strong[members])
        sizes = strong_size[sccs]
        top = sizes.max()
        if (sizes == top).sum() == 1:
            core[members] = strong[members] == sccs[int(np.argmax(sizes))]
    return core


def _relabel_by_size(labels: NDArray[np.intp], ranked: NDArray[np.bool_]) -> NDArray[np.intp]:
    """Number components 0, 1, ... by decreasing size (ties by smallest member); -1 if unranked."""
    out = np.full(len(labels), -1, dtype=np.intp)
    if not ranked.any():
        return out
    uniq, first, sizes = np.unique(labels[ranked], return_index=True, return_counts=True)
    order = np.lexsort((first, -sizes))
    new = np.empty(len(uniq), dtype=np.intp)
    new[order] = np.arange(len(uniq))
    out[ranked] = new[np.searchsorted(uniq, labels[ranked])]
    return out


def gauge_basis(component: NDArray[np.intp]) -> NDArray[np.float64]:
    """Unit vectors of the constant directions: one column per component and per unranked model."""
    m = len(component)
    groups = component.copy()
    unranked = np.flatnonzero(groups < 0)
    groups[unranked] = groups.max(initial=-1) + 1 + np.arange(len(unranked))
    n_groups = int(groups.max(initial=-1)) + 1
    basis = np.zeros((m, n_groups))
    basis[np.arange(m), groups] = 1.0
    sizes = basis.sum(axis=0)
    out: NDArray[np.float64] = basis / np.sqrt(np.maximum(sizes, 1.0))
    return out
