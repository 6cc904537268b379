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

from budgetqa.answer.arith import Derived, recompute
from budgetqa.index.extract.identity import identity_of, item_key
from budgetqa.index.extract.owners import OWN_LEVEL
from budgetqa.index.model import MONEY_FACTORS, Fact
from budgetqa.index.read.years import without_base_years, years_in
from budgetqa.types import Citation, FigureCheck

MEASURES = ("亿元", "万元", "元", "%", "％", "人次", "万人", "人", "辆", "台", "套", "个", "次", "件", "批", "户",
            "平方米", "名", "分", "倍")
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
    if fig.value == 0 and n != 0:
        return False  # "0万元" says there is none; the document printing 0.25万元 says otherwise
    fact_measure = "%" if fact.measure == "％" else fact.measure
    # a table's zero (printed "0", "-" or blank beside 2-decimal figures) is exactly zero, not "0 rounded"
    exact_zero = fact.source == "table" and n == 0
    if fig.measure in MONEY_FACTORS and fact_measure in MONEY_FACTORS:
        a = fig.value * MONEY_FACTORS[fig.measure]
        b = n * MONEY_FACTORS[fact_measure]
        fact_tol = Decimal(0) if exact_zero else _half_ulp(fact.value) * MONEY_FACTORS[fact_measure]
        tol = max(_half_ulp(fig.text) * MONEY_FACTORS[fig.measure], fact_tol)
        return abs(a - b) <= tol
    if fig.measure != fact_measure and not (fig.measure in ("人", "名") and fact_measure in ("人", "名")):
        return False
    fact_tol = Decimal(0) if exact_zero else _half_ulp(fact.value.replace(",", "").rstrip("%"))
    return abs(fig.value - n) <= max(_half_ulp(fig.text), fact_tol)


def matches_derived(fig: Figure, d: Derived) -> bool:
    """Recompute from the cited facts (never trust the stated value) and compare to printed precision."""
    try:
        again = recompute(d)  # a computed operand (budgetqa.answer.arith terms) is recomputed from its facts
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
        # an operand written inside a stated computation ("计算：10000元 - 12000元") is one of its inputs
        dv = next((d for d in derived if matches_derived(fig, d) or any(matches(fig, f) for f in d.inputs)), None)
        if dv is not None:
            out.append(FigureCheck(float(fig.value), fig.measure, True, None, tuple(cite(f) for f in dv.inputs)))
        else:
            out.append(FigureCheck(float(fig.value), fig.measure, False))
    return tuple(out)


def describe(f: Fact) -> str:
    """The identity a figure was checked against, with the document's value."""
    return f"{identity_of(f).describe()} = {f.value.strip()}{f.measure}"


def describe_derived(d: Derived) -> str:
    return f"{d.formula}（" + "；".join(identity_of(f).describe() for f in d.inputs) + "）"


_KEY_DROP = re.compile(r"[()（）“”\"'‘’「」《》\s]")


def check_bound(sentence: str, facts: Sequence[Fact], derived: Iterable[Derived] = (),
                pool: Sequence[Fact] = ()) -> tuple[FigureCheck, ...]:
    """Each figure of the sentence against the facts the sentence gives it, not any fact that happens
    to print the same number.

    `facts` are the facts bound to what the sentence is about (the answer's facts for its question).
    A figure is bound to the facts whose item the sentence names nearest before it (since the previous
    figure), else to all of them; a year written there must be the fact's year (or, for a 上年
    column, the year before). It is verified only when one of those facts has its value, or when it
    is a computed figure whose stated arithmetic over its input facts gives it. `pool`: the figures of
    prose the answer quotes verbatim (text answers); a figure found there is the quote's own.
    """
    derived = list(derived)
    out = []
    prev = 0
    units = {f.unit for f in facts}
    for fig in figures(sentence):
        before = sentence[prev:fig.start]
        years = set(years_in(without_base_years(before, with_and=True), written=True))
        named_units = {u for u in units if u in before}
        own = [f for f in facts if f.unit in named_units] if named_units else list(facts)
        own = _of_owner(sentence[:fig.start], own)
        named = _named(before, own)
        # among the facts of the item named, the table's printed figure decides; prose ("0万元") rounds
        bound = ([f for f in named if f.source == "table"] or named) or own
        bound = [f for f in bound if not years or any(_year_ok(f, y) for y in years)]
        prev = fig.end
        hits = [f for f in bound if matches(fig, f)] or [f for f in pool if matches(fig, f)]
        if hits:
            out.append(FigureCheck(float(fig.value), fig.measure, True, None, tuple(cite(f) for f in hits[:3]),
                                   identity=describe(hits[0])))
            continue
        # an operand written inside a stated computation ("计算：10000元 - 12000元") is one of its inputs
        dv = next((d for d in derived if matches_derived(fig, d) or any(matches(fig, f) for f in d.inputs)), None)
        if dv is not None:
            out.append(FigureCheck(float(fig.value), fig.measure, True, None, tuple(cite(f) for f in dv.inputs),
                                   identity=describe_derived(dv)))
        else:
            out.append(FigureCheck(float(fig.value), fig.measure, False))
    return tuple(out)


_TOTALS = ("合计", "小计", "总计")


def _of_owner(text: str, facts: list[Fact]) -> list[Fact]:
    """The facts of the unit the sentence gives the figure to: the sub-unit it names last (a table split by
    unit prints one item per unit), the department's own offices when it says 本级, else the department's
    own figures. Facts of one owner only are kept as they are."""
    owners = {f.owner for f in facts}
    if len(owners) < 2:
        return facts
    key = _KEY_DROP.sub("", text)
    spots = {o: max(key.rfind(_KEY_DROP.sub("", o)), key.rfind(_KEY_DROP.sub("", o)[-5:]))
             for o in owners if o and o != OWN_LEVEL}
    spots = {o: at for o, at in spots.items() if at >= 0}
    if spots:
        last = max(spots, key=lambda o: spots[o])
        return [f for f in facts if f.owner == last]
    if OWN_LEVEL in key and OWN_LEVEL in owners:
        return [f for f in facts if f.owner == OWN_LEVEL]
    whole = [f for f in facts if not f.owner]
    return whole or facts


def _keys(f: Fact) -> list[str]:
    """What a sentence calls the fact: its item; for a totals row, also its column ("基本支出")."""
    i = identity_of(f)
    keys = [_KEY_DROP.sub("", item_key(i.item))]
    if "/" in i.item:  # a 绩效 table's item is "project/row": a sentence names the row after the project
        keys.append(_KEY_DROP.sub("", item_key(i.item.rsplit("/", 1)[1])))
    if f.source == "text" and keys[0].startswith("上年"):
        keys.append(keys[0][2:])  # last year's figure of a 比上年 statement is called by the item's own name
    if keys[0] in _TOTALS or not keys[0]:
        keys += [_KEY_DROP.sub("", item_key(p)) for p in i.column.split("/")[-1:] if p]
    return [k for k in keys if len(k) >= 2 and k not in _TOTALS]


def _named(before: str, facts: Sequence[Fact]) -> list[Fact]:
    """The facts whose item the text names, the one named last (nearest the figure) winning."""
    text = _KEY_DROP.sub("", before).replace("费用", "费")
    best, at = [], -1
    for f in facts:
        ends = [text.rfind(k) + len(k) for k in _keys(f) if k in text]
        if not ends:
            continue
        end = max(ends)
        if end > at:
            best, at = [f], end
        elif end == at:
            best.append(f)
    return best


def _year_ok(f: Fact, year: int | None) -> bool:
    if year is None or f.year is None:
        return True
    column = f.column or ""
    stated = years_in(column)
    if stated:
        return year in stated
    if year == f.year:
        return "上年" not in column
    return year == f.year - 1 and "上年" in column


def verdict(checks: Sequence[FigureCheck]) -> str:
    if not checks:
        return "unverifiable"
    if any(not c.verified and c.expected for c in checks):
        return "contradicted"
    return "supported" if all(c.verified for c in checks) else "unverifiable"
