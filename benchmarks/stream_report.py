"""The figures of benchmarks/stream_overhead.py: what the arena added to each trial, and the
median of the trials (a shared machine's speed drifts between trials; each trial compares the two
ways under the same conditions)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from scipy.stats import t as t_dist

from benchmarks._harness import percentile


@dataclass
class Sample:
    """One battle (or pair of direct streams): TTFT of each side and its tokens per second."""

    ttft: list[float] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    failed: int = 0


@dataclass
class Trial:
    """One direct run and one arena run of the same shape, with the arena's CPU use."""

    direct: list[Sample]
    arena: list[Sample]
    arena_cores: float  # CPU seconds the arena used per second of its run


def ttft_rate(samples: list[Sample]) -> tuple[list[float], list[float]]:
    return [t for s in samples for t in s.ttft], [r for s in samples for r in s.rate]


def added(direct_samples: list[Sample], arena_samples: list[Sample]) -> tuple[float, float, float]:
    """Added TTFT p50 and p99 (ms) and the throughput ratio of one trial."""
    d_ttft, d_rate = ttft_rate(direct_samples)
    a_ttft, a_rate = ttft_rate(arena_samples)
    return (
        percentile(a_ttft, 50) - percentile(d_ttft, 50),
        percentile(a_ttft, 99) - percentile(d_ttft, 99),
        statistics.mean(a_rate) / statistics.mean(d_rate),
    )


def report(label: str, trials: list[Trial]) -> None:
    """Each trial's figures, then their median (the headline: a shared machine's speed drifts
    between trials, and each trial compares the two ways under the same conditions)."""
    direct_all = [s for t in trials for s in t.direct]
    arena_all = [s for t in trials for s in t.arena]
    print(
        f"  {label}: {len(trials)} trials, {len(arena_all)} battles measured "
        f"({len(direct_all)} direct pairs)"
    )
    for name, samples in (("direct", direct_all), ("arena ", arena_all)):
        ttft, rate = ttft_rate(samples)
        print(
            f"    {name}   TTFT p50 {percentile(ttft, 50):7.1f} ms  "
            f"p99 {percentile(ttft, 99):7.1f} ms   throughput {statistics.mean(rate):6.1f} tok/s"
        )
    print(f"    failed battles through the arena: {sum(s.failed for s in arena_all)}")
    figures = [added(t.direct, t.arena) for t in trials]
    for i, ((p50, p99, ratio), t) in enumerate(zip(figures, trials, strict=True), 1):
        direct_p50 = percentile(ttft_rate(t.direct)[0], 50)
        arena_p50 = percentile(ttft_rate(t.arena)[0], 50)
        print(
            f"    trial {i}  TTFT p50 {p50:+7.1f} ms  p99 {p99:+7.1f} ms   ratio {ratio:.3f}   "
            f"arena CPU {t.arena_cores:.2f} cores   (TTFT p50: direct {direct_p50:.1f}, "
            f"arena {arena_p50:.1f} ms)"
        )
    p50, p99, ratio = (statistics.median(f[i] for f in figures) for i in range(3))
    print(
        f"    added    TTFT p50 {p50:+7.1f} ms  p99 {p99:+7.1f} ms   "
        f"throughput ratio {ratio:.3f}   (median of the trials)"
    )
    if len(figures) > 1:
        # Each trial compares the two ways under the same conditions; how far apart the trials
        # are says how precisely the median or mean is known (a burst trial swings by tens of ms).
        diffs = [f[0] for f in figures]
        half = t_dist.ppf(0.975, len(diffs) - 1) * statistics.stdev(diffs) / len(diffs) ** 0.5
        print(
            f"    added    TTFT p50 mean of the trials {statistics.mean(diffs):+.1f} ms "
            f"± {half:.1f} ms (95%)"
        )
