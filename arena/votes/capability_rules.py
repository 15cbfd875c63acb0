"""Rules that read a prompt's capability from its text: math, code, creative writing, and
instruction following (English and Chinese; no model, no network).

Each rule weighs strong signals (LaTeX, an equation, a traceback, "write a poem") against weak
ones (a number and a question, a language's name) so that numbers alone (recipes, dates, ports,
prices) make no math, and a word like "python" or "story" alone makes no code or fiction.
"""

from __future__ import annotations

import re

# ASCII word boundaries: in "用Python写" the Chinese letters around "Python" are not word letters.
_I = re.IGNORECASE | re.ASCII

# ---- math -------------------------------------------------------------------------------------
_LATEX = re.compile(
    r"\\(frac|int|sum|sqrt|lim|prod|cdot|partial|infty|binom|mathbb|le|ge)\b|\$[^$\n]*[=^_\\][^$\n]*\$"
)
_SYMBOLS = re.compile(r"[∫∑∏√≤≥≠±×÷∞∂πθ²³]|lim\s*\(")
# Numbers that are not quantities: dates, times, year ranges, phone and version numbers.
_NOT_QUANTITIES = re.compile(
    r"\b\d{4}\s*[-–]\s*\d{2,4}\b|\b\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}\b|\b\d{1,2}:\d{2}\b|"
    r"\b\d{3}[-. ]\d{3,4}(?:[-. ]\d{4})?\b|\bv?\d+\.\d+\.\d+\b"
)
# An equation or expression with a variable: 3x + 7 = 22, x^2, f(x), x² - 4x.
_ALGEBRA = re.compile(
    r"\b\d*[a-z]\s*(\^|\*\*)\s*\d|\b[a-z]\s*\(\s*[a-z0-9]\s*\)\s*=|\b\d+[a-z]\s*[-+=]|"
    r"=\s*\d*[a-z]\b\s*[-+*/]|\b[a-z]\s*[-+]\s*\d+\s*=|\b(d/dx|dy/dx)\b",
    re.ASCII,
)
_ARITHMETIC = re.compile(r"\d\s*[-+*/×÷^]\s*\(?\d|\d\s*%\s*of\b|\bdivided by\b|\btimes\s+\d", _I)
_MATH_WORDS = re.compile(
    r"\b(solve for|equations?|derivatives?|differentiate|integrals?|integrate|eigen\w*|"
    r"matri(x|ces)|determinant|polynomials?|quadratic|logarithms?|factorials?|primes?( numbers?)?|"
    r"divisible|greatest common divisor|gcd|lcm|fractions?|probabilit(y|ies)|"
    r"expected value|variance|random variables?|theorem|lemma|by induction|irrational|"
    r"geometr\w+|perimeter|area of|volume of|interior angles?|hexagon|triangle|radius|"
    r"compound interest|arithmetic|algebra\w*|calculus|trigonometr\w+|combinatori\w+|"
    r"how many ways|permutations?|combinations|real solutions?|limit of|sequence|series|"
    r"cyclic|group of order|vector space|simplify|bayes)\b",
    _I,
)
_PROOF = re.compile(r"\b(prove|proof|show that)\b", _I)
_QUANTITY_QUESTION = re.compile(
    r"\b(how (many|much|long|far|fast|old)|what (is|'s) the (total|sum|difference|product|"
    r"average|ratio)|what time|when do they|what is \d|what's \d|calculate|compute|evaluate|"
    r"find the|convert \d)",
    _I,
)
_ZH_MATH = re.compile(
    r"方程|函数|最[小大]值|面积|体积|周长|概率|定理|数列|等差|等比|极限|积分|导数|微分|矩阵|"
    r"行列式|质数|素数|因数|倍数|分数|百分之|余数|内角和|几何|勾股|三角形|半径|数学归纳法|"
    r"鸡兔同笼|相遇|追及"
)
_ZH_QUANTITY = re.compile(r"多少|几(分钟|小时|天|个|只|人|岁|米|元)|求|计算|等于")
# A quantity in Chinese: digits, or a numeral with its measure word (not 一共, 三国, 一般).
_NUMBER = re.compile(
    r"\d+(?:[.,]\d+)?|[一二三四五六七八九十百千万两半]+(个|只|头|条|元|角|米|千米|公里|厘米|克|千克|"
    r"斤|岁|人|天|小时|分钟|秒|本|张|次|倍|件|辆|块|名|台|页|道|支|瓶|杯|箱)"
)


def is_math(text: str) -> bool:
    """Formulas, LaTeX, equations, proofs and word problems, in English or Chinese."""
    text = _NOT_QUANTITIES.sub(" ", text)
    if _LATEX.search(text) or _SYMBOLS.search(text) or _ALGEBRA.search(text):
        return True
    words = len(_MATH_WORDS.findall(text)) + len(_ZH_MATH.findall(text))
    if words >= 1 and not (words == 1 and _code_strength(text) >= 2):
        return True
    numbers = len(re.findall(r"\d+(?:[.,]\d+)?", text))
    if _PROOF.search(text) and (numbers or words):
        return True
    if _code_strength(text) >= 1:
        return False  # numbers in code (ports, ranges, 0.1 + 0.2) are not a math question
    if _ARITHMETIC.search(text):
        return True
    # A word problem: several quantities and a question about a quantity.
    if numbers >= 2 and _QUANTITY_QUESTION.search(text):
        return True
    zh_numbers = len(_NUMBER.findall(text))
    return zh_numbers >= 2 and bool(_ZH_QUANTITY.search(text))


# ---- code -------------------------------------------------------------------------------------
_SYNTAX = re.compile(
    r"```|^\s*(def |class |import |from \S+ import|#include|function |const |let |var |"
    r"public |SELECT |CREATE TABLE|package |fn |func )|=>|\b(printf|console\.log|System\.out)\b|"
    r"\b\w+(Error|Exception)\b:?|Traceback \(most recent|`[^`\n]+`|\b\w+\.\w+\(|"
    r"\^\(\?|\[a-z\]|\\d|!=|==|&&|\|\||\w::\w",
    re.MULTILINE | re.ASCII,
)
# Tools and languages whose names mean nothing else.
_CODE_NAMES = re.compile(
    r"\b(git|kubectl|docker|npm|pip|cargo|brew|apt-get)\s+"
    r"[a-z-]+|\b(javascript|typescript|c\+\+|c#|kotlin|golang|haskell|php|node\.js|django|vue|fastapi|"
    r"sql|mysql|postgres\w*|sqlite|dockerfile|regex|nginx|kubernetes|bash)(?![\w+#])",
    _I,
)
_TOOLS = re.compile(
    r"\b(git|docker|shell script|redis|linux|unix|api|rest|http|json|yaml|html|css|aws|s3)\b",
    _I,
)
# Names that are also ordinary words (a python eats, Java is an island) need a second sign.
_LANGUAGES = re.compile(
    r"\b(python|java|rust|go|swift|ruby|scala|react|angular|flask|spring)\b|\bc (function|"
    r"program|code)\b",
    _I,
)
_CODE_TASKS = re.compile(
    r"\b(function|script|program|code|coding|bug|debug|implement\w*|compile\w*|query|"
    r"endpoint|class|method|algorithm|library|variable|loop|array|linked list|hash ?map|"
    r"data structures?|recursion|re-?renders?|component|thread|process|operating systems?|"
    r"stack trace|refactor|unit tests?|port|server|database|cache|lock-free|atomic|mutable|"
    r"borrow checker|rate limit\w*|gateway|backend|frontend|microservices?|deploy\w*|"
    r"commit|repository|framework|syntax|runtime|compiler|binary|regular expression)\b",
    _I,
)
_CAMEL = re.compile(r"\b[a-z]{2,}[A-Z][a-zA-Z]+\b|\b[A-Z][a-z]+[A-Z][a-z]+\w*\b")
_ZH_CODE = re.compile(
    r"代码|编程|程序|算法|报错|数据库|端口|进程|接口|部署|主键|缓存|分布式|集群|并发|函数式|实现一个|"
    r"前端|后端|框架|源码|调试|编译"
)


def _code_strength(text: str) -> int:
    """0: no sign of code; 1: a hint (a language or tool named); 2: plainly about code."""
    if _SYNTAX.search(text) or _CODE_NAMES.search(text):
        return 2
    signals = sum(bool(p.search(text)) for p in (_TOOLS, _LANGUAGES, _CAMEL))
    # Words of the trade count once each: two different ones ("thread" and "process") say code.
    signals += min(2, len({m.group(0).lower() for m in _CODE_TASKS.finditer(text)}))
    signals += min(2, len(set(_ZH_CODE.findall(text))))
    if signals >= 2:
        return 2
    return 1 if signals else 0


def is_code(text: str) -> bool:
    """Programming: code in the text, or a language or tool named together with a coding task."""
    return _code_strength(text) >= 2


# ---- creative writing -------------------------------------------------------------------------
_CREATIVE_NOUNS = (
    r"poems?|poetry|stor(y|ies)|tales?|fables?|songs?|lyrics|haikus?|limericks?|sonnets?|"
    r"screenplays?|scenes?|dialogues?|novels?|fiction|verses?|rap|ballads?|fairy tales?|"
    r"love letters?|monologues?|fantasy \w+|myths?|legends?|plays?|odes?"
)
_CREATIVE = re.compile(
    rf"\b(write|compose|create|craft|pen|invent|make up|tell me)\b(\W+\w+){{0,4}}?\W+"
    rf"({_CREATIVE_NOUNS})\b|\b(continue|finish) (this|the) (story|poem|tale)|"
    rf"\bimagine (you are|you're|that you)|\b(role-?play|world-?building)\b",
    _I,
)
_ZH_CREATIVE = re.compile(
    r"写.{0,12}(诗|小说|故事|歌词|剧本|散文|相声|小品|绝句|律诗|童话|寓言|对联|词)|"
    r"以.{1,20}为题|想象你是|续写|编一个故事|讲一个故事"
)


def is_creative_writing(text: str) -> bool:
    """A request to write fiction, poetry, lyrics, a scene, or to play a character."""
    if _CREATIVE.search(text) or _ZH_CREATIVE.search(text):
        return not is_code(text) or bool(
            re.search(r"\bwrite (a|an) (short )?(story|poem)", text, _I)
        )
    return False


# ---- instruction following --------------------------------------------------------------------
_NUM = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty|hundred)"
_UNITS = r"(words?|sentences?|paragraphs?|lines?|characters?|bullet points?|items?|points?|tips?)"
_CONSTRAINTS = re.compile(
    rf"\b(in|using|with) (exactly|only|just)? ?{_NUM}[- ]{_UNITS}|"
    rf"\b(under|no more than|at most|fewer than|less than|max|maximum|up to|at least|within|"
    rf"not exceed\w*|exactly|limit\w* to) {_NUM}\s*{_UNITS}|"
    rf"\b{_NUM}[- ]word\b|\bmax(imum)?\.? {_NUM} characters|"
    r"\b(as|in|into|using|use) (a |an )?(json|yaml|csv|markdown|table|bullet(ed)? (points|list)|"
    r"numbered list|bulleted list|markdown table|list)\b|\bformatted as\b|\bin \w+ format\b|"
    r"\bbold the\b|\bin all (lower|upper)?\s?(case|caps|lowercase|uppercase)|"
    r"\ball (lower|upper)case\b|\b(answer|respond|reply) (only )?with (only )?('|\"|a single|one)|"
    r"\b(answer|respond|reply) only\b|"
    r"\bonly (answer|respond|reply)|\bone-line\b|\btl;?dr\b|"
    r"\bin (a|an) (formal|informal|casual|professional|humorous|friendly|academic|neutral) tone|"
    r"\bin the style of\b|\bwithout (using|mentioning)\b|"
    r"\b(do not|don't|never) (mention|use|include|say)\b|"
    r"\bmust (start|begin|end|include|contain|be)\b|"
    r"\b(start|begin|end) with the (word|phrase|letter)|"
    r"\bin the (passive|active) voice\b|\b(the )?first word of each\b",
    _I,
)
_ZH_CONSTRAINTS = re.compile(
    r"用[一二两三四五六七八九十\d]+句话|不超过[一二两三四五六七八九十百千\d]+个?字|"
    r"[一二两三四五六七八九十百千\d]+字以内|字数(控制|限制)|[以用按](JSON|json|表格|列表|Markdown|markdown)"
    r"(格式|的形式)?|项目符号|只(回答|需回答|回复|输出)|必须|不要(使用|提到|出现)|恰好|每行|每项不超过|"
    r"用.{0,6}(语气|口吻|风格)"
)


def is_instruction_following(text: str) -> bool:
    """Explicit constraints on the answer's format, length, wording or style."""
    return bool(_CONSTRAINTS.search(text) or _ZH_CONSTRAINTS.search(text))


def math_terms(text: str) -> int:
    """How many different words of mathematics the text uses (for the hard-prompt criteria)."""
    return len(
        {m.group(0).lower() for m in _MATH_WORDS.finditer(text)} | set(_ZH_MATH.findall(text))
    )


def code_terms(text: str) -> int:
    """How many different words of programming the text uses (for the hard-prompt criteria)."""
    return len(
        {m.group(0).lower() for m in _CODE_TASKS.finditer(text)} | set(_ZH_CODE.findall(text))
    )
