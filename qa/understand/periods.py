"""Periods and changes asked in a question: "比上年减少了多少", "下降了百分之多少", "增长百分之几".

A change question asks for the difference between a figure and the same figure (same unit, item,
column, measure) one year earlier: the amount, the rate or both. The words are data
(periods.toml); this module only says what is asked. The answer side (budgetqa.answer.periods)
finds the printed change or computes it from the two years' facts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

What = Literal["amount", "rate", "both"]


@dataclass(frozen=True)
class PeriodWords:
    reach: int
    up: tuple[str, ...]
    down: tuple[str, ...]
    both: tuple[str, ...]
    asks: tuple[str, ...]
    rate: tuple[str, ...]
    amount: tuple[str, ...]
    compare: tuple[str, ...]
    against: tuple[str, ...]


@dataclass(frozen=True)
class ChangeAsk:
    """A change the question asks for: which way the citizen expects it (+1 up, -1 down, 0 either way),
    whether the amount, the rate or both, and what it is compared with ("执行数": last year's outturn)."""

    direction: int
    what: What
    against: str = ""
    measure: str = ""  # "增加了多少元": the measure the amount is asked in


@cache
def period_words() -> PeriodWords:
    data = tomllib.loads(Path(__file__).with_name("periods.toml").read_text(encoding="utf-8"))
    lists = {k: tuple(v) for k, v in data.items() if isinstance(v, list)}
    return PeriodWords(reach=int(data.get("reach", 6)), **lists)


def change_ask(text: str, words: PeriodWords | None = None) -> ChangeAsk | None:
    """The change the text asks for, or None: a direction word followed closely by an asking word."""
    w = words or period_words()
    found = _direction(text, w)
    if found is None:
        return None
    direction, end = found
    after = text[end:end + w.reach]
    if not any(a in after for a in w.asks) and not any(a in text[:end] for a in ("多少", "几")):
        return None
    tail = text[end - 2:end + w.reach]
    if any(r in tail for r in w.rate):
        what: What = "rate"
    elif any(a in after for a in w.amount) or text[end:].startswith(("了多少", "多少")):
        what = "amount"
    else:
        what = "both"
    measure = next((a for a in sorted(w.amount, key=len, reverse=True) if a.endswith("元") and a in after), "")
    return ChangeAsk(direction, what, _against(text, w), measure)


def without_comparison(text: str, words: PeriodWords | None = None) -> str:
    """The text without what it compares with ("比上年执行数"): that phrase names last year's figure, not
    the kind of document asked for."""
    w = words or period_words()
    for c in sorted(w.compare, key=len, reverse=True):
        at = text.find(c)
        while at >= 0:
            end = at + len(c)
            tail = next((a for a in sorted(w.against, key=len, reverse=True) if text[end:].startswith(a)), "")
            text = text[:at] + text[end + len(tail):]
            at = text.find(c)
    return text


def _direction(text: str, w: PeriodWords) -> tuple[int, int] | None:
    """The last direction word of the text: (+1/-1/0, where it ends)."""
    best: tuple[int, int] | None = None
    for sign, group in ((0, w.both), (1, w.up), (-1, w.down)):
        for word in group:
            at = text.rfind(word)
            if at >= 0:
                end = at + len(word)
                if best is None or end > best[1] or (end == best[1] and sign != 0):
                    best = (sign, end)
    return best


def _against(text: str, w: PeriodWords) -> str:
    for c in w.compare:
        at = text.find(c)
        if at >= 0:
            rest = text[at + len(c):]
            return next((a for a in sorted(w.against, key=len, reverse=True) if rest.startswith(a)), "")
    return ""
