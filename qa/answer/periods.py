"""Changes over a year: the printed change when the document prints one, else computed.

A change statement is bound to the figure it is about by the sentence's shape, not by the nearest
label: "当年预算收入344,447.70万元，其中：一般公共预算拨款…、其他收入3,444.00万元，较上年减少129,422.00万元"
is about 预算收入 (the figures listed after 其中 with 、 are its parts), "公务接待费19.35万元，较上年增加
1.00万元" about 公务接待费. Order of sources, as the identity (unit, item, column, measure) allows:
1. the sentence of the document stating the change (amount and rate as printed);
2. the table's 增减 column on the same row (column role 增减, same last column name);
3. the two years' facts of the same identity (this year's column and the 上年 column, or last year's
   own document), computed, with both figures shown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from budgetqa.answer.arith import ArithmeticError_, Derived, Op, compute, fmt, in_measure
from budgetqa.answer.select import clean_label
from budgetqa.catalog import Catalog, norm
from budgetqa.index.extract.statements import DOWN_WORDS, TAIL_WORDS, UP_WORDS, Change, stated_change
from budgetqa.index.model import Fact
from budgetqa.understand.lexicon import has_any
from budgetqa.understand.periods import ChangeAsk, change_ask, period_words
from budgetqa.understand.understander import Item, Query, Target

LIST_MARKS = ("、", "其中")  # a figure after these is a part of the one before, not a new subject
CLAUSE_ENDS = ("；", ";", "。")
MONEY = ("万元", "元", "亿元")
LONG_LABEL = 16
MIN_PART = 3  # an item named inside a longer label only counts from this length


@dataclass(frozen=True)
class Stated:
    """A change as a sentence states it: the figure it is about (None when the clause names only the
    item: "收入较去年增加24.17万元"), the amount and the rate, and the item words."""

    base: Fact | None
    amount: Fact | None
    rate: Fact | None
    sign: int
    item: str


def stated(facts: list[Fact], year: int | None) -> list[Stated]:
    """Every change statement among a document's narrative figures, bound to its figure."""
    out: list[Stated] = []
    for quote, seq in _by_quote(facts, year).items():
        out += _bind(quote, seq)
    return out


def printed_change(catalog: Catalog, t: Target, item: Item) -> Stated | None:
    """The statement whose item is the one asked (its figure's label, else the change's own words)."""
    best: tuple[tuple[int, int], Stated] | None = None
    sub = norm(t.ref.name) if t.ref is not None and t.ref.subunit else ""
    for d in t.docs:
        for s in stated(catalog.facts.get(d, []), t.year):
            if sub and not _about(s, sub):
                continue  # the prose speaks for the department: a sub-unit's change is its own sentence's
            rank = _rank(s, item)
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, s)
    return best[1] if best else None


def _about(s: Stated, sub: str) -> bool:
    """The statement's sentence names the sub-unit (its full name or the tail people keep)."""
    said = next((f for f in (s.base, s.amount, s.rate) if f is not None), None)
    quote = norm(said.quote) if said is not None else ""
    return sub in quote or (len(sub) >= 6 and sub[-4:] in quote)


def column_change(catalog: Catalog, base: Fact) -> Fact | None:
    """The 增减 column of the base's own row and table, for the same last column name."""
    if base.source != "table":
        return None
    leaf = norm(base.column.split("/")[-1])
    for f in catalog.facts.get(base.doc, []):
        if f.table == base.table and f.row == base.row and f is not base and f.number is not None:
            parts = [norm(p) for p in f.column.split("/")]
            if parts and has_any(parts[0], "change_column") and parts[-1] == leaf:
                return f
    return None


def sentence(s: Stated, ask: ChangeAsk | None, label: str) -> str:
    """The printed change in the document's own figures: this year's figure, then 比上年…"""
    parts: list[str] = []
    if s.base is not None:
        parts.append(f"{label}为{s.base.value.strip()}{s.base.measure}")
    word_amount = "增加" if s.sign > 0 else "减少"
    word_rate = "增长" if s.sign > 0 else "下降"
    changes = []
    if s.amount is not None:
        changes.append(f"{word_amount}{s.amount.value.strip()}{s.amount.measure}")
    if s.rate is not None:
        changes.append(f"{word_rate}{s.rate.value.strip()}%")
    if ask is not None and ask.what == "rate" and s.rate is not None:
        changes.reverse()  # the rate asked comes first
    lead = "" if s.base is not None else f"{s.item}"
    return "，".join(parts) + ("，" if parts else "") + lead + "比上年" + "，".join(changes)


@dataclass(frozen=True)
class Said:
    """A change answer: the sentence, the facts it cites and the figures it computed."""

    text: str
    facts: tuple[Fact, ...]
    derived: tuple[Derived, ...] = ()


def change_said(catalog: Catalog, query: Query, t: Target, base: Fact | None) -> Said | None:
    """A change asked of one item: printed in a sentence, else in the table's 增减 column; None leaves it
    to the two years' facts (the caller computes them and shows both)."""
    if not query.items:
        return None
    ask = change_ask(query.question)
    item = query.items[0]
    lead = f"{t.ref.name}{t.year or ''}{'年' if t.year else ''}{t.kind or ''}中，"
    s = printed_change(catalog, t, item)
    asked = query.measure or (ask.measure if ask is not None else "")
    if s is not None and asked and s.amount is not None and s.amount.measure != asked \
            and (ask is None or ask.what != "rate"):
        s = None  # "增加了多少元": the prose rounds to 万元, the tables' two years give the 元
    if s is not None and (s.amount is not None or s.rate is not None):
        label = clean_label(s.base.row) if s.base is not None else s.item
        if len(label) > LONG_LABEL:  # a heading run into the prose label: the item as asked reads better
            label = item.labels[0] if item.vocab and item.labels else item.text
        where = clean_label((s.amount or s.rate or s.base).section)  # type: ignore[union-attr]
        text = lead + sentence(s, ask, label) + f"（文件原文，见“{where}”）。"
        return Said(text, tuple(f for f in (s.base, s.amount, s.rate) if f is not None))
    if base is None:
        return None
    col = column_change(catalog, base)
    if col is None or col.number is None or base.number is None:
        return None
    word = "增加" if col.number >= 0 else "减少"
    shown = col.value.strip().lstrip("-")
    text = (f"{lead}{clean_label(base.row)}为{base.value.strip()}{base.measure}，比上年{word}{shown}{col.measure}"
            f"（表格“{col.column.split('/')[0]}”栏）。")
    return Said(text, (base, col))


def prior_said(catalog: Catalog, t: Target, item: Item) -> Said | None:
    """Last year's figure of the item from the sentence that states this year's figure and its change
    ("公务接待费19.35万元，较上年增加1.00万元" -> 18.35万元), computed in the open with both inputs cited.
    Only a statement about the item itself (its label, or one it starts or ends with) is used."""
    if not t.year:
        return None
    s = printed_change(catalog, replace(t, year=t.year + 1), item)
    if s is None or s.base is None or s.amount is None or _rank(s, item) is None or _rank(s, item)[0] > 1:  # type: ignore[index]
        return None
    op: Op = "difference" if s.sign > 0 else "sum"
    try:
        d = compute(op, [s.base, s.amount])
    except ArithmeticError_:
        return None
    if d.value < 0:
        return None
    label = clean_label(s.base.row)
    if len(label) > LONG_LABEL:
        label = item.labels[0] if item.vocab and item.labels else item.text
    word = "增加" if s.sign > 0 else "减少"
    text = (f"{t.ref.name}{t.year}年{label}为{fmt(d.value, d.measure)}{d.measure}（计算：{d.formula}；"
            f"{t.year + 1}年{t.kind or ''}文件写明{label}{s.base.value.strip()}{s.base.measure}，"
            f"比上年{word}{s.amount.value.strip()}{s.amount.measure}，见“{clean_label(s.base.section)}”）。")
    return Said(text, (s.base, s.amount), (d,))


def agrees(f: Fact, said: Said) -> bool:
    """A table's 上年 figure and last year's figure computed from a sentence agree within the sentence's
    printed precision ("0.27万元" and 2720元): the table, being the record, is then cited."""
    pair = _beside(f, said)
    if pair is None:
        return False
    value, d = pair
    places = min(_places(x.value) for x in d.inputs)
    return abs(value - d.value) <= Decimal(5) / Decimal(10) ** (places + 1) + Decimal("0.005")


def differs(f: Fact, said: Said) -> bool:
    """The table's figure, rounded as the sentence prints, is not the sentence's: both are worth showing
    (85.46 in the table, 44.89 + 40.58 = 85.47 in the prose); 2720元 against 0.27万元 is only rounding."""
    pair = _beside(f, said)
    if pair is None:
        return False
    value, d = pair
    q = Decimal(1).scaleb(-min(_places(x.value) for x in d.inputs))
    return value.quantize(q) != d.value.quantize(q)


def _beside(f: Fact, said: Said) -> tuple[Decimal, Derived] | None:
    """The table's figure in the measure of the figure computed from the sentence, with that figure."""
    if not said.derived or f.number is None:
        return None
    d = said.derived[0]
    try:
        return in_measure(f, d.measure), d
    except ArithmeticError_:
        return None


def _places(printed: str) -> int:
    return len(printed.strip().split(".", 1)[1]) if "." in printed else 0


def other_years(catalog: Catalog, t: Target) -> list[Target]:
    """The unit's documents of other years (latest first, one target per year and kind), for a question
    that names no year: the latest answers, the others are given beside it."""
    if t.ref is None or t.prior:
        return []
    out: dict[tuple[int, str], list[str]] = {}
    for d in t.ref.docs:
        m = catalog.docs.get(d)
        if m is not None and m.year and m.year != t.year and (not t.kind or m.kind == t.kind):
            out.setdefault((m.year, m.kind or ""), []).append(d)
    return [replace(t, docs=tuple(ds), year=y, kind=k or None) for (y, k), ds in sorted(out.items(), reverse=True)]


def years_line(found: list[tuple[Target, Fact]]) -> str:
    """"其他年份：2024年预算公务接待费为5.00万元。" Each figure keeps its own measure (元 in one year's
    tables, 万元 in another's)."""
    if not found:
        return ""
    said = "；".join(f"{t.year}年{t.kind or ''}{clean_label(f.row)}为{f.value.strip()}{f.measure}" for t, f in found)
    return f"其他年份：{said}。"


def earlier_target(catalog: Catalog, t: Target) -> Target | None:
    """The unit's own document of the year before, when the corpus holds one (same kind first)."""
    if not t.year or t.ref is None:
        return None
    metas = [catalog.docs[d] for d in t.ref.docs if d in catalog.docs and catalog.docs[d].year == t.year - 1]
    same = [m for m in metas if m.kind == t.kind] or metas
    if not same:
        return None
    return replace(t, docs=tuple(m.name for m in same), year=t.year - 1, kind=same[0].kind, prior=False)


# ---- binding statements to their figures ------------------------------------------------------

def _by_quote(facts: list[Fact], year: int | None) -> dict[str, list[tuple[int, Fact]]]:
    """Narrative figures of the document's own year, grouped by sentence, each with its place there."""
    groups: dict[str, list[tuple[int, Fact]]] = {}
    cursor: dict[str, int] = {}
    for f in facts:
        if f.source != "text" or f.number is None or (year and f.year and f.year != year):
            continue
        at = f.quote.find(f.value, cursor.get(f.quote, 0))
        if at < 0:
            continue
        cursor[f.quote] = at + len(f.value)
        groups.setdefault(f.quote, []).append((at, f))
    return groups


def _bind(quote: str, seq: list[tuple[int, Fact]]) -> list[Stated]:
    seq = sorted(seq, key=lambda p: p[0])
    changes: list[Change | None] = []
    for j, (_, f) in enumerate(seq):
        ch = stated_change(f)
        prev = changes[-1] if j else None
        if ch is None and prev is not None and f.measure == "%":  # "…减少1.00万元，下降25.00%" / "（4.08%）"
            ch = _rate_after(quote[seq[j - 1][0] + len(seq[j - 1][1].value):seq[j][0]], prev.sign)
        changes.append(ch)
    out: list[Stated] = []
    claimed: set[int] = set()
    for i, (_, f) in enumerate(seq):
        if changes[i] is not None or f.measure not in MONEY:
            continue
        got = _following(quote, seq, changes, i)
        if got and not claimed.intersection(got):
            claimed.update(got)
            first = changes[got[0]]
            assert first is not None
            out.append(_stated(f, [seq[j][1] for j in got], first.sign, norm(f.row)))
    # changes no figure claims: "收入较去年增加24.17万元，上升3.82%" names its item in its own words
    for i, (_, f) in enumerate(seq):
        ch = changes[i]
        if ch is None or i in claimed or f.measure not in MONEY:
            continue
        group = [f] + [seq[j][1] for j in range(i + 1, min(i + 2, len(seq))) if changes[j] is not None
                       and seq[j][1].measure == "%"]
        out.append(_stated(None, group, ch.sign, _noun(f.row)))
    return out


def _following(quote: str, seq: list[tuple[int, Fact]], changes: list[Change | None], i: int) -> list[int]:
    """The change figures that follow figure i, past the parts listed after it, within its clause."""
    got: list[int] = []
    listed_comma = False  # the parts are a list ("、"): a change after them is the head's
    for j in range(i + 1, len(seq)):
        between = quote[seq[j - 1][0] + len(seq[j - 1][1].value):seq[j][0]]
        if any(e in between for e in CLAUSE_ENDS) and not got and not any(m in between for m in LIST_MARKS):
            break
        if changes[j] is not None:
            if not got and j > i + 1 and not listed_comma:
                break  # "其中：（1）A…，较上年减少": the part's own change, not the head's
            if got and (seq[j][1].measure in MONEY) == any(seq[k][1].measure in MONEY for k in got):
                break  # a second amount is another clause's
            got.append(j)
            continue
        if got or not _listed(quote, seq, j):
            break
        listed_comma = listed_comma or "、" in between
    return got


def _rate_after(between: str, sign: int) -> Change | None:
    """The rate right after a stated amount: the words between them end with a direction word, or the
    rate stands in brackets after it ("减少1.65万元（4.08%）")."""
    words = between.replace(" ", "")
    for tail in TAIL_WORDS:
        words = words.removesuffix(tail)
    if len(words) > 8:
        return None
    if words.endswith(("（", "(")):
        return Change(sign, None)
    sign = 1 if words.endswith(UP_WORDS) else -1 if words.endswith(DOWN_WORDS) else 0
    return Change(sign, None) if sign else None


def _listed(quote: str, seq: list[tuple[int, Fact]], j: int) -> bool:
    """Figure j is a part listed after the figure before it ("其中：…、…")."""
    if j == 0:
        return False
    between = quote[seq[j - 1][0] + len(seq[j - 1][1].value):seq[j][0]]
    return any(m in between for m in LIST_MARKS) and not any(e in between for e in CLAUSE_ENDS[:2])


def _stated(base: Fact | None, changes: list[Fact], sign: int, item: str) -> Stated:
    amount = next((c for c in changes if c.measure != "%"), None)
    rate = next((c for c in changes if c.measure == "%"), None)
    return Stated(base, amount, rate, sign, item)


def _noun(row: str) -> str:
    """"收入较去年增加" -> 收入: the change's label without its comparison and direction words."""
    r = norm(row)
    for w in sorted(UP_WORDS + DOWN_WORDS, key=len, reverse=True):
        if r.endswith(w):
            r = r[:-len(w)]
            break
    for c in sorted(period_words().compare, key=len, reverse=True):
        at = r.find(c)
        if at >= 0:
            r = r[:at]
    return r


def _rank(s: Stated, item: Item) -> tuple[int, int] | None:
    """How well the statement's item is the one asked: the label itself, a label it starts or ends
    with, a label inside it; shorter leftovers first."""
    name = norm(s.base.row) if s.base is not None else s.item
    name = name.removeprefix("一般公共预算").removeprefix("本部门")
    best: tuple[int, int] | None = None
    for i, lab in enumerate(dict.fromkeys((*item.labels, norm(item.text)))):
        if len(lab) < 2 or lab in ("合计", "总计", "小计"):
            continue
        core = lab.removesuffix("合计").removesuffix("总计") or lab
        if name in (lab, core):
            r = (0, i)
        elif len(core) < MIN_PART:
            continue  # "收入" inside "一般公共预算拨款收入" is another item
        elif name.startswith(core) or name.endswith(core):
            r = (1, len(name) - len(core))
        elif core in name:
            r = (2, len(name) - len(core))
        else:
            continue
        best = r if best is None or r < best else best
    return best
