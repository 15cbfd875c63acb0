"""The rule tagger: each category on clear positives and on hard negatives, and the registry."""

from __future__ import annotations

import pytest

from arena.votes.capability_rules import (
    is_code,
    is_creative_writing,
    is_instruction_following,
    is_math,
)
from arena.votes.category_bits import (
    BITS,
    CAPABILITY_MASK,
    bits_of,
    merge_capabilities,
    names_of,
)
from arena.votes.hard_prompts import criteria, is_hard
from arena.votes.tags import capability_tags, conversation_tags
from benchmarks.categories import load, scores

MATH = [
    "Solve for x: 3x + 7 = 22.",
    "What is $\\frac{3}{4} + \\frac{1}{8}$?",
    "Pens cost 3 dollars each. If Tom buys 12 pens and pays with 50 dollars, "
    "how much change does he get?",
    "Prove that there are infinitely many primes.",
    "Differentiate y = e^(2x) cos x.",
    "一个长方形的长是8米，宽是5米，它的周长是多少米？",
    "解不等式 3x - 5 > 7。",
    "∫ x² dx from 0 to 3",
]
NOT_MATH = [
    "Give me a pancake recipe: 200 g flour, 2 eggs, 300 ml milk.",
    "What happened in Europe between 1939 and 1945?",
    "The meeting moved from 10:30 to 14:00 on 2024-03-05; please tell the team.",
    "In JavaScript, why is [1, 2, 10].sort() giving [1, 10, 2]?",
    "Set the server port to 8080 and the timeout to 30 seconds in config.yaml.",
    "我家的地址是人民路88号，电话是13800138000。",
    "1969年人类第一次登上月球，这件事有什么意义？",
]
CODE = [
    "Write a Python function that checks whether a number is prime.",
    "Why does `git push` say 'rejected (non-fast-forward)'?",
    "SELECT name FROM users WHERE age > 30; why is this query slow?",
    "KeyError: 'id' when I read the JSON response — what am I doing wrong?",
    "用Java实现一个单例模式。",
]
NOT_CODE = [
    "How do I take care of a ball python?",
    "What is the history of the island of Java?",
    "Should I study computer science or medicine?",
]
CREATIVE = [
    "Write a poem about the city at night.",
    "Tell me a story about a fox who wanted to fly.",
    "写一个关于友谊的童话故事。",
    "Write a short scene where two old friends meet at a train station.",
]
NOT_CREATIVE = [
    "Write an email to my boss asking for a day off.",
    "Who wrote the poem 'Ozymandias'?",
    "Summarize this story in plain words: a man loses his job and finds a new one.",
]
IF = [
    "Explain gravity in two sentences.",
    "Describe your ideal weekend in under 30 words.",
    "List three fruits as a JSON array.",
    "Write the answer in all lowercase letters: what is the largest ocean?",
    "请用不超过20个字介绍北京。",
]
NOT_IF = [
    "What is the JSON format used for?",
    "How many words does an average novel have?",
    "Explain gravity.",
]
HARD = [
    "Our Kafka consumers fall behind by 2 million messages during peak hours on a 12-partition "
    "topic. Diagnose whether it is partition skew, slow processing or rebalancing storms, and "
    "propose concrete changes with the trade-offs for our production setup.",
]
EASY = ["What's the capital of Peru?", "Tell me something nice.", "How do I boil an egg?"]


@pytest.mark.parametrize("text", MATH)
def test_math_positives(text: str) -> None:
    assert is_math(text)


@pytest.mark.parametrize("text", NOT_MATH)
def test_math_hard_negatives(text: str) -> None:
    assert not is_math(text)


@pytest.mark.parametrize("text", CODE)
def test_code_positives(text: str) -> None:
    assert is_code(text)


@pytest.mark.parametrize("text", NOT_CODE)
def test_code_hard_negatives(text: str) -> None:
    assert not is_code(text)


@pytest.mark.parametrize("text", CREATIVE)
def test_creative_positives(text: str) -> None:
    assert is_creative_writing(text)


@pytest.mark.parametrize("text", NOT_CREATIVE)
def test_creative_hard_negatives(text: str) -> None:
    assert not is_creative_writing(text)


@pytest.mark.parametrize("text", IF)
def test_instruction_following_positives(text: str) -> None:
    assert is_instruction_following(text)


@pytest.mark.parametrize("text", NOT_IF)
def test_instruction_following_hard_negatives(text: str) -> None:
    assert not is_instruction_following(text)


@pytest.mark.parametrize("text", HARD)
def test_hard_prompt_positives(text: str) -> None:
    assert is_hard(text, 4)
    assert sum(criteria(text).values()) >= 5


@pytest.mark.parametrize("text", EASY)
def test_easy_prompts_are_not_hard(text: str) -> None:
    assert not is_hard(text, 2)


def test_threshold_decides_hard() -> None:
    text = HARD[0]
    held = sum(criteria(text).values())
    assert is_hard(text, held) and not is_hard(text, held + 1)


def test_conversation_tags_keep_language_shape_and_answers_code() -> None:
    tags = conversation_tags(["写一首诗", "再写一首"], ["a", "b"], ["c", "```py\nx=1\n```"])
    assert tags[0] == "chinese"
    assert {"creative-writing", "multi-turn", "code"} <= set(tags)


def test_registry_bits_are_fixed_and_distinct() -> None:
    # Stored votes depend on these numbers: changing one is a data migration, not a refactor.
    assert BITS["code"] == 0 and BITS["math"] == 1 and BITS["english"] == 24
    assert BITS["other-language"] == 62
    assert len(set(BITS.values())) == len(BITS) and max(BITS.values()) < 63
    assert names_of(bits_of(["math", "chinese", "nonsense"])) == ["chinese", "math"]


def test_an_llm_answer_replaces_only_capabilities() -> None:
    rules = bits_of(["english", "math", "long"])
    merged = merge_capabilities(rules, bits_of(["code"]))
    assert names_of(merged) == ["english", "code", "long"]
    assert merged & ~CAPABILITY_MASK == rules & ~CAPABILITY_MASK


def test_evaluation_set_math_floor() -> None:
    rows = load()
    assert len(rows) >= 150
    assert {r["language"] for r in rows} == {"en", "zh"}
    predicted = [set(capability_tags(str(r["prompt"]))) for r in rows]
    precision, recall, _ = scores(rows, predicted)["math"]
    assert precision >= 0.85 and recall >= 0.85
