"""The numeric checker: every figure in a sentence is matched to the structured facts.

A figure matches a fact when both are money and agree in 元 to the printed precision of either
(5.0万元 == 5.00万元; 48054.42万元 == 480544221.62元), or when both have the same other measure
(%, 人, 辆 …) and agree to printed precision. A computed figure matches when the stated
arithmetic over its cited facts gives it. Years ("2024年") and codes are not figures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from budgetqa.arith import Derived, compute
from budgetqa.index.model import MONEY_FACTORS, Fact
from budgetqa.types import Citation, FigureCheck

MEASURES = ("亿元", "万元", "元", "%", "％", "人次", "万人", "人", "辆", "台", "套", "个", "次", "件", "批", "户",
            "平方米", "名", "分")
_FIGURE = re.compile(r"(?<![\d.,])(-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?)\s*("
                     + "|".join(MEASURES) + ")")


@dataclass(frozen=True)
class Figure:
    value: Decimal
    text: str  # as written
    measure: str
    start: int
    end: int


def figures(sentence: str) -> list[Figure]:
    out = []
    for m in _FIGURE.finditer(sentence):
        measure = "%" if m.group(2) == "％" else m.group(2)
        out.append(Figure(Decimal(m.group(1).replace(",", "")), m.group(1), measure, m.start(), m.end()))
    return out


def _half_ulp(text: str) -> Decimal:
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Decimal(5) / (Decimal(10) ** (decimals + 1))


def matches(fig: Figure, fact: Fact) -> bool:
    n = fact.number
    if n is None:
        return False
    fact_measure = "%" if fact.measure == "％" else fact.measure
    if fig.measure in MONEY_FACTORS and fact_measure in MONEY_FACTORS:
        a = fig.value * MONEY_FACTORS[fig.measure]
        b = n * MONEY_FACTORS[fact_measure]
        tol = max(_half_ulp(fig.text) * MONEY_FACTORS[fig.measure], _half_ulp(fact.value) * MONEY_FACTORS[fact_measure])
        return abs(a - b) <= tol
    if fig.measure != fact_measure and not (fig.measure in ("人", "名") and fact_measure in ("人", "名")):
        return False
    return abs(fig.value - n) <= max(_half_ulp(fig.text), _half_ulp(fact.value.replace(",", "").rstrip("%")))


def matches_derived(fig: Figure, d: Derived) -> bool:
    """Recompute from the cited facts (never trust the stated value) and compare to printed precision."""
    try:
        again = compute(d.op, d.inputs)
    except ValueError:
        return False
    if again.measure != fig.measure and not (again.measure in MONEY_FACTORS and fig.measure in MONEY_FACTORS):
        return False
    value = again.value
    if again.measure in MONEY_FACTORS and fig.measure in MONEY_FACTORS:
        value = value * MONEY_FACTORS[again.measure] / MONEY_FACTORS[fig.measure]
    return abs(value - fig.value) <= max(_half_ulp(fig.text), Decimal("0.005"))


def cite(f: Fact) -> Citation:
    return Citation(doc=f.doc, unit=f.unit, year=f.year, kind=f.kind, section=f.section, table=f.table,
                    row=f.row, page=f.page, quote=f.quote, column=f.column, value=f.value, measure=f.measure)


def check_text(sentence: str, facts: Sequence[Fact], derived: Iterable[Derived] = ()) -> tuple[FigureCheck, ...]:
    """Each figure of the sentence, verified against the facts or the stated arithmetic over them."""
    derived = list(derived)
    out = []
    for fig in figures(sentence):
        hits = [f for f in facts if matches(fig, f)]
        if hits:
            out.append(FigureCheck(float(fig.value), fig.measure, True, None, tuple(cite(f) for f in hits[:3])))
            continue
        dv = next((d for d in derived if matches_derived(fig, d)), None)
        if dv is not None:
            out.append(FigureCheck(float(fig.value), fig.measure, True, None, tuple(cite(f) for f in dv.inputs)))
        else:
            out.append(FigureCheck(float(fig.value), fig.measure, False))
    return tuple(out)


def verdict(checks: Sequence[FigureCheck]) -> str:
    if not checks:
        return "unverifiable"
    if any(not c.verified and c.expected for c in checks):
        return "contradicted"
    return "supported" if all(c.verified for c in checks) else "unverifiable"
