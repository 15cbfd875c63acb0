"""LMArena's seven criteria of a hard prompt, as far as they can be read from the text.

LMArena's classifier asks a model whether a prompt shows specificity, domain knowledge,
complexity, problem-solving, creativity, technical accuracy and real-world application, and calls
it hard when enough of them hold. The rules below look for the visible marks of each: concrete
figures and named systems (specificity), specialist vocabulary (domain knowledge), several asks
in one prompt (complexity), a derivation, design or diagnosis to produce (problem-solving), a
design or proposal rather than a fact (creativity), code, math or science (technical accuracy),
and a situation of the asker's own (real-world application).
"""

from __future__ import annotations

import re

from arena.votes.capability_rules import code_terms, is_code, is_math, math_terms

CRITERIA = (
    "specificity",
    "domain_knowledge",
    "complexity",
    "problem_solving",
    "creativity",
    "technical_accuracy",
    "real_world",
)
_I = re.IGNORECASE | re.ASCII
_FIGURES = re.compile(
    r"\d+(\.\d+)?\s*(%|ms|s\b|gb|tb|mb|gi|kwh|kw|mph|hours?|days?|users?|requests?|nodes?|"
    r"k\b|x\b|percent|元|万|亿|人|小时|天)|\b\d{2,}\b|10\^\d|\d+\.\d+",
    _I,
)
_NAMED = re.compile(r"\b[A-Z][A-Za-z0-9+#.-]*[A-Z0-9][A-Za-z0-9]*\b|\b[A-Z][a-z]+ ?\d+\b", re.ASCII)
_DOMAIN = re.compile(
    r"\b(replication|latency|throughput|consisten\w+|concurren\w+|distributed|shard\w*|"
    r"memory order\w*|atomic|lock-free|kernel|compiler|complexity|algorithm\w*|asymptotic|"
    r"regression|statistic\w*|hypothes\w+|seasonality|churn|eigen\w+|manifold|theorem|"
    r"pharmaco\w+|dosing|inr|diagnos\w+|clinical|patholog\w+|legal|compliance|gdpr|ccpa|"
    r"liability|jurisdiction|inverter|voltage|thermodynamic\w*|quantum|protein|genom\w+|"
    r"option pricing|derivatives?|volatility|portfolio|crdts?|operational transforms?|"
    r"consensus|raft|paxos|cache coherence|numerically|normal equations|least squares|"
    r"planar|graph|colou?rable|architect\w*|infrastructure)\b|"
    r"集群|分布式|并发|缓存|分片|一致性|推导|定价|假设|架构|选型|数据中台|内存|锁|主从|JVM|OOM",
    _I,
)
_ASKS = re.compile(
    r"\b(and (then )?(explain|describe|compare|propose|give|show|justify|discuss|include|"
    r"account|size|design)|including|compare|versus|vs\.?|trade-?offs?|walk me through|"
    r"step[- ]by[- ]step|each|with the exact|as well as)\b|并(说明|比较|给出)|包括|比较|以及|分析",
    _I,
)
_SOLVE = re.compile(
    r"\b(solve|derive|prove|show that|show your|evaluate|design|diagnos\w+|debug|optimi[sz]e|"
    r"architect|plan|calculate|size|estimate|analy[sz]e|implement|find|propose|troubleshoot|"
    r"figure out|work out)\b|"
    r"推导|证明|设计|分析|排查|优化|实现|规划|计算|解决",
    _I,
)
_CREATE = re.compile(
    r"\b(design|propose|architect|invent|devise|come up with|novel|creative|roadmap|"
    r"strategy|plan)\b|设计|方案|路线图|规划|创新",
    _I,
)
_SCIENCE = re.compile(
    r"\b(physics|chemistry|biolog\w+|medic\w+|pharma\w+|engineering|statistic\w*|finance|"
    r"legal|law|clinical|electrical|mechanical)\b|物理|化学|医学|金融|法律|工程|公式",
    _I,
)
_OWN_SITUATION = re.compile(
    r"\b(our|we|we're|my|i'm|i am|i run|i have|company|startup|customers?|production|"
    r"in practice|real[- ]world|business|farm|patient|clients?)\b|"
    r"我们|公司|企业|生产|项目|实际|现实",
    _I,
)


def criteria(text: str) -> dict[str, bool]:
    """Which of the seven criteria the prompt shows."""
    # A Chinese word is about one and a half characters.
    words = len(text.split()) + int(len(re.findall(r"[\u4e00-\u9fff]", text)) / 1.5)
    domain = len({m.group(0).lower() for m in _DOMAIN.finditer(text)})
    domain += math_terms(text) + code_terms(text)
    technical = is_code(text) or is_math(text) or bool(_SCIENCE.search(text))
    return {
        "specificity": words >= 8 and bool(_FIGURES.search(text) or _NAMED.search(text)),
        "domain_knowledge": domain >= 2,
        "complexity": words >= 15 and (len(_ASKS.findall(text)) >= 1 or text.count("?") >= 2),
        "problem_solving": bool(_SOLVE.search(text)),
        "creativity": bool(_CREATE.search(text)),
        "technical_accuracy": technical,
        "real_world": bool(_OWN_SITUATION.search(text)),
    }


def is_hard(text: str, threshold: int) -> bool:
    """Whether at least `threshold` of the seven criteria hold."""
    return sum(criteria(text).values()) >= threshold
