"""LLM judges beside the human votes: the judge prompt, the verdicts, the background judging,
how far each judge agrees with people, and prompt sets that every model answers."""
