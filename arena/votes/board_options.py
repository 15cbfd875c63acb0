"""What a leaderboard is computed over (its options, and its cache key) and the arena's ranking
rules (`RankingConfig`)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from arena.core.judge_rules import JudgeWeights
from arena.core.settings import Settings
from arena.votes.hygiene import HygieneRules


@dataclass(frozen=True)
class LeaderboardOptions:
    """What a leaderboard is computed over and how."""

    style_control: bool = False
    category: str | None = None
    ci: Literal["sandwich", "bootstrap"] = "sandwich"
    reweight: bool = False
    ties: Literal["half", "drop"] = "half"
    modality: Literal["text", "vision"] = "text"
    # Whose verdicts: people's (the default), the LLM judges', or both (judges weighted).
    votes: Literal["human", "judges", "all"] = "human"

    def key(self) -> str:
        """The cache key of these options (the default options keep their older key, so entries
        computed before an option existed stay valid)."""
        key = f"bt|{self.ci}|style={int(self.style_control)}|cat={self.category or ''}"
        key += "|rw=1" if self.reweight else ""
        key += "|ties=drop" if self.ties == "drop" else ""
        key += "" if self.modality == "text" else f"|mod={self.modality}"
        return key if self.votes == "human" else f"{key}|votes={self.votes}"

    @classmethod
    def from_key(cls, key: str) -> LeaderboardOptions:
        """The options a cache key stands for."""
        _, ci, style, cat, *rest = key.split("|")
        extra = dict(part.split("=", 1) for part in rest)
        return cls(
            style.endswith("1"),
            cat.split("=", 1)[1] or None,
            ci,  # type: ignore[arg-type]
            reweight=extra.get("rw") == "1",
            ties="drop" if extra.get("ties") == "drop" else "half",
            modality=extra.get("mod", "text"),  # type: ignore[arg-type]
            votes=extra.get("votes", "human"),  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class RankingConfig:
    """The settings ranking depends on."""

    min_battles: int = 30
    bootstrap_rounds: int = 1000
    hygiene: HygieneRules = dataclasses.field(default_factory=HygieneRules)
    currency: str = "USD"
    judges: JudgeWeights = dataclasses.field(default_factory=JudgeWeights)


def ranking_config(settings: Settings) -> RankingConfig:
    """The ranking settings of the arena."""
    return RankingConfig(
        min_battles=settings.min_battles,
        bootstrap_rounds=settings.bootstrap_rounds,
        hygiene=HygieneRules(
            repeated_prompts=settings.hygiene_repeated_prompts,
            prompt_repeat_floor=settings.prompt_repeat_floor,
            anomalous_voters=settings.hygiene_anomalous_voters,
            anomaly_min_votes=settings.anomaly_min_votes,
            anomaly_alpha=settings.anomaly_alpha,
        ),
        currency=settings.currency,
        judges=settings.judge_weights,
    )
