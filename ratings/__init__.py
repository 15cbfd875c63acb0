"""Bradley-Terry ratings for a pairwise arena: pure numpy/scipy, no I/O in the math."""

from __future__ import annotations

from ratings.battles import Battles
from ratings.compute import compute_leaderboard, compute_leaderboard_from_counts
from ratings.counts import PairCounts, aggregate
from ratings.leaderboard import Leaderboard, ModelRating
from ratings.loader import LoadReport, load_battles
from ratings.style import conv_metadata, style_features

__all__ = [
    "Battles",
    "Leaderboard",
    "LoadReport",
    "ModelRating",
    "PairCounts",
    "aggregate",
    "compute_leaderboard",
    "compute_leaderboard_from_counts",
    "conv_metadata",
    "load_battles",
    "style_features",
]
