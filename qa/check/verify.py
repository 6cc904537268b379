"""`budgetqa verify`: each figure of a claim against the fact with the identity the claim gives it.

A claim's figure is bound by asking the claim as a question: the words before the figure (from the
unit it names, with earlier figures cut out) say which unit, year, kind, item and column it is
about — stated, or carried over from earlier in the claim — and the answerer resolves them to facts
exactly as it does for questions. The figure is then
- supported when one of those facts has its value (within printed rounding, 元/万元/亿元 converted),
  or it is a computed figure (sum, difference, ratio, change) that the stated arithmetic over the
  bound input facts gives;
- contradicted when the identity exists with another value (the document's figure is shown);
- unverifiable when the corpus holds no fact with that identity (another year, an item not printed).
A number printed somewhere else never supports a claim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from budgetqa.answer.arith import Derived, fmt
from budgetqa.catalog import Catalog
from budgetqa.check.chain import Request
from budgetqa.check.checker import (
    Figure,
    _named,
    _year_ok,
    check_bound,
    cite,
    describe,
    describe_derived,
    figures,
    verdict,
)
from budgetqa.errors import BadQuestion
from budgetqa.index.extract.identity import identity_of, item_key, role_ids
from budgetqa.index.model import MONEY_FACTORS, Fact
from budgetqa.index.read.years import without_base_years, years_in
from budgetqa.types import Check, FigureCheck
from budgetqa.understand.understander import Understander, validate

EMPTY_CORPUS = "语料为空：还没有索引任何文件，无法核对。请先运行 budgetqa index 文件或目录。"
NO_FIGURE = "这句话里没有可核对的数字（需要带计量单位的数字，例如“5.00万元”“39人”“4.5%”）。"
NOT_BOUND = "无法确定这个数字说的是哪个单位、年度和项目，不能核对。"


@dataclass(frozen=True)
class _Piece:
    question: str  # what the claim says the figure is, asked as a question
    said: str  # the claim's words since the previous figure, ending with this figure
    year: int | None  # a year stated before the unit named, carried over
    stated: int | None  # the last year stated before the figure (None: the latest held is meant)
    units: tuple[str, ...]  # the unit(s) the words name; () = none named


_MAIN_COLUMNS = ("", "预算数", "决算数", "合计")
_KEY_DROP = re.compile(r"[()（）“”\"'‘’「」《》]")


def verify_claim(claim: str, catalog: Catalog, understander: Understander, drafter: Any,
                 qid: str | None = None) -> Check:
    try:
        text = re.sub(r"\s+", "", validate(claim))
    except BadQuestion as exc:
        return Check(claim=claim or "", verdict="unverifiable", id=qid, reason=str(exc))
    if not catalog.docs:
        return Check(claim=text, verdict="unverifiable", id=qid, reason=EMPTY_CORPUS)
    figs = figures(text)
    if not figs:
        return Check(claim=text, verdict="unverifiable", id=qid, reason=NO_FIGURE)
    checks = tuple(_check_figure(fig, piece, drafter, catalog, understander)
                   for fig, piece in zip(figs, _pieces(text, figs, understander), strict=True))
    return Check(claim=text, verdict=verdict(checks), figures=checks, id=qid)  # type: ignore[arg-type]


def _pieces(text: str, figs: list[Figure], understander: Understander) -> list[_Piece]:
    mentions, _ = understander.matcher.find(text)
    out = []
    prev = 0
    for fig in figs:
        named = [m for m in mentions if m.end <= fig.start]
        start = named[-1].start if named else 0
        # from the last unit named: "A局…5万元，B中心…5万元" asks B's figure of B
        question = _cut(text, start, fig.start, figs) + "多少"
        years = years_in(without_base_years(text[:start]), written=True)
        stated = years_in(without_base_years(_cut(text, 0, fig.start, figs)), written=True)
        units = tuple(r.name for r in named[-1].refs) if named else ()
        out.append(_Piece(question, text[prev:fig.end], years[-1] if years else None,
                          stated[-1] if stated else None, units))
        prev = fig.end
    return out


def _cut(text: str, start: int, end: int, figs: list[Figure]) -> str:
    """text[start:end] without the figures written in it (they are claims, not what is asked)."""
    out, at = [], start
    for g in figs:
        if g.start >= start and g.end <= end:
            out.append(text[at:g.start])
            at = g.end
    out.append(text[at:end])
    return "".join(out)


def _check_figure(fig: Figure, piece: _Piece, drafter: Any, catalog: Catalog,
                  understander: Understander) -> FigureCheck:
    try:
        drafted = drafter.invoke(Request(piece.question, year=piece.year))
    except BadQuestion as exc:
        return _unbound(fig, str(exc))
    draft = drafted.draft
    facts = [f for f in (*draft.facts, *draft.pool) if _of_units(f, piece.units)]
    derived = [d for d in draft.derived if all(_of_units(f, piece.units) for f in d.inputs)]
    if draft.status != "answered" or not (facts or derived):
        facts, derived = _by_identity(piece, catalog, understander), []
        if not facts:
            return _unbound(fig, _first_sentence(draft.text) or NOT_BOUND)
    facts = [f for f in facts if _year_ok(f, piece.stated)]
    if not (facts or derived):  # the year stated is not the year of any bound fact
        return _unbound(fig, f"语料中没有{piece.stated}年的这一数据，无法核对。")
    (check,) = check_bound(piece.said, facts, derived)[-1:]
    if check.verified:
        return check
    return _contradicted(fig, piece, facts, derived)


def _contradicted(fig: Figure, piece: _Piece, facts: list[Fact], derived: list[Derived]) -> FigureCheck:
    """The identity exists with another value: show the document's figure and where it stands."""
    same = [d for d in derived if d.measure == fig.measure or {d.measure, fig.measure} <= set(MONEY_FACTORS)]
    if same:  # a computed figure: the arithmetic over the bound inputs gives another value
        d = same[0]
        return FigureCheck(float(fig.value), fig.measure, False, f"{fmt(d.value, d.measure)}{d.measure}",
                           tuple(cite(f) for f in d.inputs), identity=describe_derived(d))
    if not facts:
        return _unbound(fig, NOT_BOUND)
    best = (_named(piece.said, facts) or facts)[0]
    return FigureCheck(float(fig.value), fig.measure, False, f"{best.value.strip()}{best.measure}", (cite(best),),
                       identity=describe(best))


def _by_identity(piece: _Piece, catalog: Catalog, understander: Understander) -> list[Fact]:
    """When the answerer finds no item: the table facts of the documents the claim's unit, year and
    kind select whose item (identity, synonyms folded) the claim's words name — the longest named
    item, in its main column. [] when the unit/year is not in the corpus or no printed item is named."""
    try:
        query = understander.understand(piece.question, year=piece.year)
    except BadQuestion:
        return []
    if query.problem and not query.targets:
        return []
    docs = [d for t in query.targets for d in t.docs]
    words = _KEY_DROP.sub("", piece.question).replace("费用", "费")
    best: list[Fact] = []
    size = 0
    for doc in docs:
        for f in catalog.facts.get(doc, []):
            if f.source != "table" or not _of_units(f, piece.units):
                continue
            i = identity_of(f)
            key = _KEY_DROP.sub("", item_key(i.item))
            if len(key) < 3 or key not in words or i.column not in _MAIN_COLUMNS or _names_unit(key, f, piece):
                continue
            if len(key) > size:
                best, size = [f], len(key)
            elif len(key) == size:
                best.append(f)
    order = {r: i for i, r in enumerate(role_ids())}  # the dedicated table first: 三公 before 基本支出表
    return sorted(best, key=lambda f: order.get(identity_of(f).role, len(order)))


def _names_unit(key: str, f: Fact, piece: _Piece) -> bool:
    """A row that is a unit's name (its line in a table by unit) is not the item a claim names."""
    return any(key in u or u in key for u in (f.unit, *piece.units))


def _unbound(fig: Figure, reason: str) -> FigureCheck:
    return FigureCheck(float(fig.value), fig.measure, False, reason=reason)


def _of_units(f: Fact, units: tuple[str, ...]) -> bool:
    """A fact of the unit the words name (its own document, or its row in its department's)."""
    return not units or f.unit in units or any(u in f.row or u in f.context for u in units)


def _first_sentence(text: str) -> str:
    head = text.split("。")[0].strip()
    return f"{head}。" if head else ""
