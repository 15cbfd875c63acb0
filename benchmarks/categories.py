"""Precision and recall of the category taggers on the labelled prompts of tests/data.

python -m benchmarks.categories                      # the rules
python -m benchmarks.categories --threshold 6        # the hard-prompt threshold to use
python -m benchmarks.categories --tagger NAME        # also an LLM tagger: an endpoint of
                                                     # the arena's database (by name)
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from arena.votes.category_bits import CAPABILITY_BITS
from arena.votes.tags import DEFAULT_HARD_THRESHOLD, capability_tags

EVAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "categories_eval.jsonl"


def load(path: Path = EVAL) -> list[dict[str, object]]:
    """The labelled prompts: {"prompt", "language", "categories"}."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def scores(
    rows: list[dict[str, object]], predicted: list[set[str]]
) -> dict[str, tuple[float, float, int]]:
    """Per category: (precision, recall, positives)."""
    out = {}
    for cat in CAPABILITY_BITS:
        truth = [cat in r["categories"] for r in rows]  # type: ignore[operator]
        guess = [cat in p for p in predicted]
        tp = sum(t and g for t, g in zip(truth, guess, strict=True))
        precision = tp / max(1, sum(guess))
        recall = tp / max(1, sum(truth))
        out[cat] = (precision, recall, sum(truth))
    return out


def report(name: str, rows: list[dict[str, object]], predicted: list[set[str]]) -> None:
    """Print a table of precision and recall, and the misses with --verbose."""
    print(f"\n{name}: {len(rows)} prompts")
    print(f"{'category':<24}{'precision':>10}{'recall':>10}{'positives':>11}")
    for cat, (p, r, n) in scores(rows, predicted).items():
        print(f"{cat:<24}{p:>10.3f}{r:>10.3f}{n:>11}")


def _llm_predictions(tagger: str, rows: list[dict[str, object]]) -> list[set[str]]:
    from arena.core.settings import load_settings
    from arena.store.engine import make_engine
    from arena.votes.llm_tagger import classify, tagger_call

    settings = load_settings()
    engine = make_engine(settings.database_url)
    call = tagger_call(engine, tagger, settings)

    async def run() -> list[set[str]]:
        sem = asyncio.Semaphore(settings.tagger_concurrency)

        async def one(prompt: str) -> set[str]:
            async with sem:
                answer = await classify(call, prompt, settings.hard_prompt_threshold)
                return set(answer.categories)

        try:
            return list(await asyncio.gather(*(one(str(r["prompt"])) for r in rows)))
        finally:
            await call.aclose()

    return asyncio.run(run())


def main() -> None:
    """Print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threshold", type=int, default=DEFAULT_HARD_THRESHOLD)
    ap.add_argument("--tagger", help="an endpoint's name to measure as the LLM tagger too")
    ap.add_argument("--verbose", action="store_true", help="list the wrong answers")
    args = ap.parse_args()
    rows = load()
    predicted = [set(capability_tags(str(r["prompt"]), args.threshold)) for r in rows]
    report(f"rules (hard-prompt threshold {args.threshold})", rows, predicted)
    if args.verbose:
        for r, p in zip(rows, predicted, strict=True):
            truth = set(r["categories"])  # type: ignore[call-overload]
            if truth != p:
                print(f"  want {sorted(truth)} got {sorted(p)}: {str(r['prompt'])[:90]!r}")
    if args.tagger:
        report(f"LLM tagger {args.tagger}", rows, _llm_predictions(args.tagger, rows))


if __name__ == "__main__":
    main()
