"""The shape of a text question: a list ("下属有哪些医院", "有哪些项目") or a why / what-for phrase the
question-type words miss ("公车运行费怎么是0", "委托业务费用来干什么"). Words in text_shapes.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path


@dataclass(frozen=True)
class Shape:
    topic: str  # 机构 / 项目 (lists), 原因 / 用途 (cues)
    listed: str = ""  # for a list: what is listed, as asked ("区县气象局", "下属单位", "医院")


@dataclass(frozen=True)
class _Words:
    asks: tuple[str, ...]
    gap: int
    tail: tuple[str, ...]
    nouns: tuple[tuple[str, tuple[str, ...]], ...]
    cues: tuple[tuple[str, tuple[str, ...]], ...]


@cache
def _words() -> _Words:
    data = tomllib.loads(Path(__file__).with_name("text_shapes.toml").read_text(encoding="utf-8"))
    lists = data["lists"]
    return _Words(tuple(lists["asks"]), int(lists["gap"]), tuple(lists["tail"]),
                  tuple((t["topic"], tuple(t["nouns"])) for t in lists["topic"]),
                  tuple((k, tuple(v)) for k, v in data["cues"].items()))


def text_shape(question: str) -> Shape | None:
    """The list or cue shape of the question, None when it has neither."""
    return list_shape(question) or _cue(question)


def list_shape(question: str) -> Shape | None:
    w = _words()
    q = _without_tail(question.strip(), w.tail)
    for ask in w.asks:
        at = q.rfind(ask)
        if at < 0:
            continue
        listed = (ask[2:] if ask.startswith("什么") else "") + q[at + len(ask):]  # "什么单位": the noun is in it
        if len(listed) > w.gap:
            continue
        listed = listed or q[:at][-2:]
        for topic, nouns in w.nouns:
            if any(listed.endswith(n) for n in nouns):
                return Shape(topic, listed)
    return None


def _without_tail(q: str, tail: tuple[str, ...]) -> str:
    changed = True
    while changed:
        changed = False
        for t in tail:
            if q.endswith(t) and len(q) > len(t):
                q, changed = q[: -len(t)], True
    return q


def _cue(question: str) -> Shape | None:
    best: tuple[int, int, str] | None = None
    for topic, phrases in _words().cues:
        for p in phrases:
            at = question.find(p)
            if at >= 0 and (best is None or (at, -len(p)) < (best[0], best[1])):
                best = (at, -len(p), topic)
    return Shape(best[2]) if best else None


def cue_words() -> tuple[str, ...]:
    """Every phrase of the shapes, to take out of the question before matching what it is about."""
    w = _words()
    return tuple(sorted({*w.asks, *w.tail, *(p for _, ps in w.cues for p in ps)}, key=len, reverse=True))
