"""A tokenizer-free token count, for servers that report no usage (llama.cpp may send none).

About four characters a token for text in Latin and similar scripts (OpenAI's rule of thumb for
English), and one token a character for CJK ideographs, kana and hangul, which BPE vocabularies
(Qwen's, GPT-4o's) mostly encode one or two characters to a token. Counts made this way are
marked as estimated wherever they are shown.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# CJK ideographs (with extension A and compatibility), kana, hangul syllables and jamo, and the
# CJK symbols and full-width forms that stand alone as tokens.
_CJK = re.compile(
    "[\u1100-\u11ff\u3000-\u303f\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]"
)
CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is: CJK characters one each, other characters four a token."""
    if not text:
        return 0
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / CHARS_PER_TOKEN)


def estimate_messages(messages: Iterable[Mapping[str, Any]]) -> int:
    """About how many tokens a chat request's messages are (their text; images not counted)."""
    total = 0
    for m in messages:
        content = m.get("content")
        if isinstance(content, str):
            total += estimate_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and isinstance(part.get("text"), str):
                    total += estimate_tokens(part["text"])
    return total
