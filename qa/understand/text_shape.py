"""The shape of a text question: a list ("下属有哪些医院", "有哪些项目") or a why / what-for phrase the
question-type words miss ("公车运行费怎么是0", "委托业务费用来干什么", "政府采购的钱用来买什么"). Spoken
spellings ("干啥", "咋") are read as written ones first (`spoken`). Words in text_shapes.toml."""

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
    verbs: tuple[str, ...]
    nouns: tuple[tuple[str, tuple[str, ...]], ...]
    cues: tuple[tuple[str, tuple[str, ...]], ...]
    spoken: tuple[tuple[str, str], ...]  # longest first
    lead_cues: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]  # (topic, leads, asks)
    span: int
    duty: tuple[str, ...]
    money: tuple[str, ...]


@cache
def _words() -> _Words:
    data = tomllib.loads(Path(__file__).with_name("text_shapes.toml").read_text(encoding="utf-8"))
    lists = data["lists"]
    lead = data["lead_cues"]
    return _Words(tuple(lists["asks"]), int(lists["gap"]), tuple(lists["tail"]), tuple(lists["verbs"]),
                  tuple((t["topic"], tuple(t["nouns"])) for t in lists["topic"]),
                  tuple((k, tuple(v)) for k, v in data["cues"].items()),
                  tuple(sorted(data["spoken"].items(), key=lambda kv: -len(kv[0]))),
                  tuple((k, tuple(v["lead"]), tuple(v["ask"])) for k, v in lead.items() if isinstance(v, dict)),
                  int(lead["span"]), tuple(data["duty_or_use"]["duty"]), tuple(data["duty_or_use"]["money"]))


def spoken(question: str) -> str:
    """The question with spoken spellings written out ("用来干啥" -> "用来干什么", "咋" -> "怎么")."""
    for said, written in _words().spoken:
        question = question.replace(said, written)
    return question


def duty_or_use(topic: str, question: str, residue: str) -> str:
    """"X局是干什么的" asks the unit's duties; "X经费是干什么的" what the money is for (用途)."""
    w = _words()
    if topic == "职责" and any(d in question for d in w.duty) and any(m in residue for m in w.money):
        return "用途"
    return topic


def text_shape(question: str) -> Shape | None:
    """The list or cue shape of the question, None when it has neither. "用于哪些项目" asks what the money
    is for, not the unit's list of projects: a what-for lead word decides over the list."""
    listed, cue = list_shape(question), _cue(question)
    if listed and cue and lead_cue_words(question):
        return cue
    return listed or cue


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
        listed = listed or _without_tail(q[:at], w.verbs)[-w.gap:]  # "下属单位有哪些": the noun comes first
        for topic, nouns in w.nouns:
            if any(listed.endswith(n) for n in nouns):
                return Shape(topic, listed)
    return None


def list_nouns(topic: str) -> tuple[str, ...]:
    """The nouns that make a list question of this topic (text_shapes.toml [[lists.topic]])."""
    return next((nouns for t, nouns in _words().nouns if t == topic), ())


def _without_tail(q: str, tail: tuple[str, ...]) -> str:
    changed = True
    while changed:
        changed = False
        for t in tail:
            if q.endswith(t) and len(q) > len(t):
                q, changed = q[: -len(t)], True
    return q


def _cue(question: str) -> Shape | None:
    w = _words()
    best: tuple[int, int, str] | None = None
    for topic, phrases in (*w.cues, *((t, _lead_phrases(question, leads, asks, w.span)) for t, leads, asks in w.lead_cues)):
        for p in phrases:
            at = question.find(p)
            if at >= 0 and (best is None or (at, -len(p)) < (best[0], best[1])):
                best = (at, -len(p), topic)
    return Shape(best[2]) if best else None


def _lead_phrases(question: str, leads: tuple[str, ...], asks: tuple[str, ...], span: int) -> tuple[str, ...]:
    """The lead word with what follows up to its asking word ("用来买什么"), for each lead the question uses."""
    out = []
    for lead in leads:
        at = question.find(lead)
        while at >= 0:
            after = question[at + len(lead): at + len(lead) + span + 2]
            ends = [after.find(a) + len(a) for a in asks if 0 <= after.find(a) <= span]
            if ends:
                out.append(lead + after[:min(ends)])
            at = question.find(lead, at + 1)
    return tuple(out)


def cue_words() -> tuple[str, ...]:
    """Every phrase of the shapes, to take out of the question before matching what it is about."""
    w = _words()
    return tuple(sorted({*w.asks, *w.tail, *(p for _, ps in w.cues for p in ps)}, key=len, reverse=True))


def lead_cue_words(question: str) -> tuple[str, ...]:
    """The lead-word cues the question uses ("用来买什么"), to take out like `cue_words`."""
    w = _words()
    return tuple(p for _, leads, asks in w.lead_cues for p in _lead_phrases(question, leads, asks, w.span))
