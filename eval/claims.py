"""Claims built mechanically from a corpus's facts, to measure the checker (`budgetqa verify`).

For a sample of table facts whose identity is unambiguous in its document (one value for the item in
its main column), a true claim in several phrasings, and swaps that must never be supported:
item (another item's figure), year (a year the corpus lacks), unit (another unit's name), column
(基本支出 given the 项目支出 figure) and measure (the figure with another measure).
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from budgetqa.index.extract.identity import identity_of, item_key
from budgetqa.index.model import MONEY_FACTORS, Document, Fact

# Tables whose rows citizens name; items of these with one value in the document make fair claims.
ROLES = ("三公经费表", "一般公共预算基本支出表", "支出总表", "一般公共预算支出表", "收入总表", "单位构成",
         "一般公共预算支出经济分类表", "机关运行经费表")
_GENERIC = re.compile(r"^(合计|小计|总计|本年收入|本年支出|收入总计|支出总计|其他.*|.*合计|.*总计|本级|上年结转.*)$")
PHRASINGS = ("{unit}{year}年{item}{kind}为{value}{measure}",
             "{year}年{unit}的{item}是{value}{measure}",
             "{unit}{year}年度{kind}中，{item}共{value}{measure}",
             "{unit}的{item}为{value}{measure}")


@dataclass(frozen=True)
class Claim:
    kind: str  # true / item / year / unit / column / measure
    text: str
    doc: str


def _label(f: Fact) -> str:
    return identity_of(f).item


def _claimable(pairs: Sequence[tuple[Document, Sequence[Fact]]]) -> dict[str, list[Fact]]:
    """Per document: facts of a citizens' table, main column, an item with one value in the document."""
    out: dict[str, list[Fact]] = {}
    for doc, facts in pairs:
        values: dict[str, set[str]] = defaultdict(set)
        keep = []
        for f in facts:
            i = identity_of(f, doc.subunits)
            if f.source != "table" or i.subunit or f.number is None:
                continue
            key = item_key(i.item)
            values[key].add(f"{f.number * MONEY_FACTORS.get(f.measure, 1):f}|{f.measure in MONEY_FACTORS}")
            if i.role in ROLES and i.column in ("合计", "预算数", "决算数", "") and len(key) >= 3 \
                    and not _GENERIC.match(key) and not re.search(r"\d", i.item):
                keep.append(f)
        out[doc.name] = [f for f in keep if len(values[item_key(_label(f))]) == 1]
    return out


def make_claims(pairs: Sequence[tuple[Document, Sequence[Fact]]], per_doc: int = 8, seed: int = 0) -> list[Claim]:
    rng = random.Random(seed)
    docs = {d.name: d for d, _ in pairs}
    years = {d.year for d in docs.values() if d.year is not None}
    claimable = _claimable(pairs)
    every = {d.name: facts for d, facts in pairs}
    out: list[Claim] = []
    for name, facts in claimable.items():
        doc = docs[name]
        unique = list({item_key(_label(f)): f for f in facts}.values())
        picked = rng.sample(unique, min(per_doc, len(unique)))
        for n, f in enumerate(picked):
            out.extend(_claims(doc, f, n, unique, docs, every, years, rng))
    return out


def _text(doc: Document, f: Fact, item: str, value: str, measure: str, phrasing: int, year: int | None = None) -> str:
    return PHRASINGS[phrasing % len(PHRASINGS)].format(unit=doc.unit, year=year or doc.year, item=item,
                                                       kind=doc.kind or "", value=value, measure=measure)


def _claims(doc: Document, f: Fact, n: int, unique: list[Fact], docs: dict[str, Document],
            every: dict[str, Sequence[Fact]], years: set[int], rng: random.Random) -> list[Claim]:
    item, value = _label(f), f.value.strip()
    out = [Claim("true", _text(doc, f, item, value, f.measure, p), doc.name) for p in range(len(PHRASINGS))]
    other = [g for g in unique if g.measure == f.measure and g.number != f.number]
    if other:
        g = rng.choice(other)
        out.append(Claim("item", _text(doc, f, item, g.value.strip(), f.measure, n), doc.name))
    absent = min(years) - 2
    out.append(Claim("year", _text(doc, f, item, value, f.measure, 0, year=absent), doc.name))
    for other_doc, facts in every.items() if f.number else ():  # a zero is true of many absent items
        d2 = docs[other_doc]
        if d2.unit == doc.unit:
            continue
        same = [g for g in facts if item_key(_label(g)) == item_key(item)]
        mine = (f.number or 0) * MONEY_FACTORS.get(f.measure, 1)
        if all(g.number is not None and g.number * MONEY_FACTORS.get(g.measure, 1) != mine
               for g in same):  # B's figure for this item differs or is absent
            out.append(Claim("unit", _text(d2, f, item, value, f.measure, n), doc.name))
            break
    measure = {"万元": "人", "元": "人", "人": "万元"}.get(f.measure)
    if measure and f.number:
        out.append(Claim("measure", _text(doc, f, item, value, measure, n), doc.name))
    return out


def column_claims(pairs: Sequence[tuple[Document, Sequence[Fact]]]) -> list[Claim]:
    """基本支出 of a row claimed with its 项目支出 figure (and the reverse), where the two differ."""
    out = []
    for doc, facts in pairs:
        rows: dict[tuple[str, str], dict[str, Fact]] = defaultdict(dict)
        for f in facts:
            i = identity_of(f, doc.subunits)
            if i.role == "一般公共预算支出表" and i.column in ("基本支出", "项目支出") and f.number:
                rows[(f.table, i.item)][i.column] = f
        for (_, item), cols in list(rows.items())[:6]:
            if len(cols) == 2 and cols["基本支出"].number != cols["项目支出"].number and not _GENERIC.match(item):
                b, p = cols["基本支出"], cols["项目支出"]
                out.append(Claim("column", f"{doc.unit}{doc.year}年{item}的基本支出为{p.value.strip()}{p.measure}",
                                 doc.name))
                out.append(Claim("column", f"{doc.unit}{doc.year}年{item}的项目支出为{b.value.strip()}{b.measure}",
                                 doc.name))
    return out
