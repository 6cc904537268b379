"""The deterministic answerer: Query + facts -> a Draft (sentence, facts used, computations).

Sentences come from the templates in prompts/; every figure is printed as the source prints it,
with its measure. Figures in the question itself are never used (injection cannot change them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import budgetqa.prompts as _prompts
from budgetqa.answer.arith import ArithmeticError_, Derived, compute, fmt
from budgetqa.answer.compare import asks_comparison, compared
from budgetqa.answer.concepts import concept_sum
from budgetqa.answer.periods import (
    agrees,
    change_said,
    differs,
    earlier_target,
    other_years,
    prior_said,
    years_line,
)
from budgetqa.answer.phrase import item_across
from budgetqa.answer.printed import printed_share
from budgetqa.answer.projects import project_answer
from budgetqa.answer.select import Choice, Hints, by_measure, choose, clean_label, scope
from budgetqa.answer.text import answer_text
from budgetqa.catalog import Catalog, norm
from budgetqa.index.model import Fact
from budgetqa.index.read.years import leading_year, without_years
from budgetqa.understand.lexicon import drop_all, has_any, words
from budgetqa.understand.understander import Item, Query, Target, item_words

MAX_EACH = 6  # ambiguous questions: answer for each candidate up to this many, else ask which one


@dataclass(frozen=True)
class Draft:
    status: str  # answered / not_found / error
    text: str
    facts: tuple[Fact, ...] = ()
    derived: tuple[Derived, ...] = ()
    notes: tuple[str, ...] = ()
    candidates: tuple[str, ...] = ()
    unit: str | None = None
    extra_citations: tuple[Fact, ...] = field(default=())
    pool: tuple[Fact, ...] = ()  # quoted prose: its figures are checked against these, not cited


@cache
def template(name: str) -> str:
    return (Path(_prompts.__file__).with_name(f"{name}.txt")).read_text(encoding="utf-8").strip()


def answer(query: Query, catalog: Catalog, passages_search: object = None) -> Draft:
    project = _project(query, catalog)
    if project is not None and project[1]:  # a project named in a performance table's title
        return project[0]
    draft = _answer(query, catalog, passages_search)
    return project[0] if project is not None and draft.status == "not_found" else draft


def _project(query: Query, catalog: Catalog) -> tuple[Draft, bool] | None:
    if query.qtype != "lookup" or not query.targets:
        return None
    lines, found, sure = project_answer(catalog, query.targets, query.question)
    if not lines:
        return None
    return Draft("answered", "".join(lines + _year_note(query)), tuple(found), unit=query.targets[0].ref.name), sure


def _answer(query: Query, catalog: Catalog, passages_search: object = None) -> Draft:
    if query.problem:
        return Draft("not_found", template("not_found").format(what=_what(query), why=query.problem))
    if query.candidates and len(query.targets) > MAX_EACH:
        return Draft("answered", template("ask_which").format(names="、".join(query.candidates)),
                     candidates=query.candidates)
    if query.qtype == "text":
        return answer_text(query, catalog, passages_search)
    if not query.items and query.measure and query.targets:
        draft = _by_measure(query, catalog)
        if draft is not None:
            return draft
    if not query.items:
        words = item_words(query.residue)
        why = "请说明要查询的项目，例如“办公费”“公务接待费”“支出合计”。" if not words else \
            f"文件中没有与“{words}”对应的项目。"
        return Draft("not_found", template("not_found").format(what=_what(query), why=why))
    compared = _compared(query, catalog) if asks_comparison(query) else None
    if compared is not None:
        draft = compared
    elif query.qtype in ("sum", "difference", "ratio", "growth", "average"):
        draft = _arith(query, catalog)
    else:
        draft = _lookups(query, catalog)
    if query.candidates and draft.status == "answered":
        lead = template("ambiguous").format(names="、".join(query.candidates))
        draft = Draft(draft.status, lead + draft.text, draft.facts, draft.derived, draft.notes,
                      query.candidates, None)
    return draft


def _compared(query: Query, catalog: Catalog) -> Draft | None:
    """A comparison (budgetqa.answer.compare): each figure looked up on its own, then the relation asked."""
    draft = compared(query, catalog, lambda one: _lookups(one, catalog))
    if draft is None:
        return None
    return replace(draft, text=draft.text + "".join(_year_note(query) + _kind_note(query)))


def _lookups(query: Query, catalog: Catalog) -> Draft:
    lines: list[str] = []
    facts: list[Fact] = []
    missing: list[str] = []
    answered: list[tuple[Target, Fact]] = []
    computed: list[Derived] = []
    for t in query.targets:
        for item in query.items:
            said = prior_said(catalog, t, item) if t.prior else None
            choice = choose(catalog, t, item, _hints(query, t))
            if said is not None and (choice is None or not agrees(choice.fact, said)):
                lines.append(said.text)  # last year's figure as this year's sentence states it
                facts += said.facts
                computed += said.derived
                continue
            if choice is None and query.measure:
                f = by_measure(catalog, t, query.residue, query.measure)
                choice = Choice(f, (), ()) if f is not None else None
            if choice is None:
                f = _quoted_project(query, catalog, t)
                choice = Choice(f, (), ()) if f is not None else None
            if choice is None and (summed := concept_sum(catalog, t, item)) is not None:
                lines.append(summed.text)  # a concept no table prints: the sum of its parts, said so
                facts += list(summed.facts)
                computed.append(summed.derived)
                continue
            if choice is None:
                missing.append(f"{t.ref.name}{_year(t)}{t.kind or ''}中的“{_item_name(item)}”")
                continue
            if choice.fact in facts:
                continue
            lines.append(_lookup_sentence(t, choice))
            if said is not None and differs(choice.fact, said):
                lines.append(said.text)  # the table and the sentence differ by rounding: both are shown
                facts += said.facts
                computed += said.derived
            if query.year_defaulted:  # the unit's other years, each from its own document
                line, others = _other_years(query, catalog, t, item)
                lines.append(line)
                facts += others
            answered.append((t, choice.fact))
            facts += [choice.fact, *choice.also[:1], *choice.conflicts]
            if choice.conflicts:
                lines.append(_conflict(choice))
    derived: tuple[Derived, ...] = tuple(computed)
    if len(answered) == 2 and has_any(query.question, "which"):
        clause, more = _which_more(answered)
        lines.append(clause)
        derived += more
    if not lines:
        return Draft("not_found", "未找到" + "、".join(missing) + "的数据。" + _holdings(query, catalog))
    if missing:
        lines.append("未找到" + "、".join(missing) + "的数据。")
    lines += _year_note(query) + _kind_note(query)
    unit = query.targets[0].ref.name if len({t.ref.name for t in query.targets}) == 1 else None
    return Draft("answered", "".join(lines), tuple(facts), derived, unit=unit)


_QUOTED = re.compile(r"[“\"]([^”\"]{4,40})[”\"]")


def _quoted_project(query: Query, catalog: Catalog, t: Target) -> Fact | None:
    """A quoted project name that heads a performance table ("项目名称" across the top, 年度资金总额 /
    财政拨款 / indicators down the side): the row the rest of the question asks for, its money total by default."""
    m = _QUOTED.search(query.question)
    if not m:
        return None
    name = norm(m.group(1))
    rest = norm(query.question.replace(m.group(0), ""))
    pool = [f for d in t.docs for f in catalog.facts.get(d, []) if f.source == "table" and f.number is not None
            and (name in norm(f.column) or name in norm(f.table))
            and (f.measure == query.measure if query.measure else f.yuan is not None)]
    if not pool:
        return None
    return max(pool, key=lambda f: (_pairs(rest, norm(f.row)), has_any(f.row, "funds_row"), -pool.index(f)))




def _which_more(pairs: list[tuple[Target, Fact]]) -> tuple[str, tuple[Derived, ...]]:
    """"购置费和运行费哪个多": the two figures compared in one clause (same measure only)."""
    (ta, a), (tb, b) = pairs
    big, small = ((ta, a), (tb, b)) if (a.yuan or a.number or 0) >= (b.yuan or b.number or 0) else ((tb, b), (ta, a))
    try:
        diff = compute("difference", [big[1], small[1]])
    except ArithmeticError_:
        return "", ()
    if diff.value == 0:
        return "两者相等。", (diff,)
    one = ta.ref.name == tb.ref.name
    return (f"{_label_of(*big, one)}比{_label_of(*small, one)}多{fmt(diff.value, diff.measure)}{diff.measure}"
            f"（计算：{diff.formula}）。", (diff,))


def _by_measure(query: Query, catalog: Catalog) -> Draft | None:
    lines, facts = [], []
    for t in query.targets:
        f = by_measure(catalog, t, query.residue, query.measure)
        if f is not None:
            lines.append(_quoted_count(t, f) if f.source == "text" else _lookup_sentence(t, Choice(f, (), ())))
            facts.append(f)
    if not lines:
        return None
    return Draft("answered", "".join(lines + _year_note(query)), tuple(facts), unit=query.targets[0].ref.name)


def _quoted_count(t: Target, f: Fact) -> str:
    """A count found in prose, given in the document's own words: the row label alone reads badly."""
    ctx = f.context
    at = max(ctx.find(f.value + f.measure), 0)
    start = max((ctx.rfind(p, 0, at) for p in "。；;，,"), default=-1) + 1
    stops = [i for i in (ctx.find(p, at) for p in "。；;，,") if i >= 0]
    words = ctx[max(start, at - 40):min(stops, default=len(ctx))].strip("，。；、 ")
    sc = clean_label(f.section) or "文字说明"
    return f"{t.ref.name}{f.year or t.year or ''}年{f.kind or ''}文件“{sc}”中写明：“{words}”，即{f.value.strip()}{f.measure}。"




def _lookup_sentence(t: Target, c: Choice) -> str:
    f = c.fact
    item = clean_label(f.row)
    if t.ref.name in item and len(item) - len(t.ref.name) >= 2:
        item = item.replace(t.ref.name, "")  # a 项目单位 cell run into the label
    col = f.column.strip()
    last = leading_year(col.split("/")[-1])[1].strip()
    parts = [leading_year(p)[1].strip() for p in col.split("/")]
    group = [p for p in parts[:-1] if p and p not in words("main_column")]
    across = item_across(f, t.ref.name, item)
    if across:
        item = across  # the row names the unit (a table of units): the item is printed across
    elif f.source == "table" and norm(f.row) in ("合计", "总计", "小计") and last and last not in words("main_column"):
        item = last  # a wide table: the item is the column, the row is the total over units
    elif f.source == "table" and norm(f.row) in ("合计", "总计") and last in ("小计", "合计") and group:
        item = re.sub(r"^.*?安排的|(?:预算|决算)$", "", group[-1]) + "合计"  # the subtotal of a header group (三公 beside 会议费)
    elif col and f.source == "table" and not _is_main(col, f):
        item = f"{item}（{col}）"
    sc = scope(f) or clean_label(f.section)
    kindword = {"预算": "预算", "决算": "决算数"}.get(f.kind or "", "")
    if re.search(r"(?:决算|预算)数?$", item) or (f.kind == "决算" and "预算" in col):
        kindword = ""  # "住房公积金支出决算" or a final account's 预算数 column: the words already say it
    unit = t.ref.name + (f"（{t.scope}）" if t.scope else "")  # a unit's two documents: which one
    year = t.year if t.prior else (f.year or t.year or "")
    printed_prior = t.prior and f.source == "text" and f.year != t.year  # "上年收入总计54.07万元" in prose
    if printed_prior:
        year = f.year or ""  # the document's year and its own words "上年…": the figure keeps its identity
    elif t.prior:  # "（本级）2026年度收入支出预算总计" said of last year's figure: the label keeps no year
        item = _own_level_off(without_years(item.removeprefix("上年"))) or item
    if t.prior and f.source == "text" and not printed_prior:  # derived from "比上年(执行数)增加…": no section of that year
        basis = f.column.strip()
        item = (item.removesuffix("预算") + basis) if basis else item + ("" if "预算" in item else kindword)
        said = template("prior_stated").format(unit=unit, year=year, item=item, value=f.value.strip(), measure=f.measure)
    else:
        said = template("lookup").format(unit=unit, year=year, scope=sc, item=item,
                                         kindword=kindword, value=f.value.strip(), measure=f.measure)
    if t.prior:  # last year's figure as this document states it; its own year comes after the figure
        how = "上年数列" if f.source == "table" else "与上年比较的说明"
        said += f"（即{t.year}年的数字，出自{(t.year or 0) + 1}年{f.kind or ''}文件的{how}。）"
    return said


def _own_level_off(label: str) -> str:
    """"（本级）收入支出预算总计" -> "收入支出预算总计": the prose's subject names whose figure it is."""
    head, _, rest = label.strip().partition("）")
    return rest.strip() if head.lstrip("（(") in words("own_level") else label.strip()


def _hints(query: Query, target: Target | None = None) -> Hints:
    cols = query.columns
    if query.kind == "预算" and any(t.kind == "决算" for t in query.targets):
        cols = (*cols, "预算")  # a budget figure asked of a final account: its 年初预算 columns
    residue = norm(query.residue)
    if target is not None and target.scope == "部门":  # "本级和整个部门": the department's own total, not its 本级 row
        residue = drop_all(residue, "own_level")
    return Hints(cols, query.tables, query.measure, residue)


def _kind_note(query: Query) -> list[str]:
    odd = [t for t in query.targets if query.kind and t.kind and t.kind != query.kind]
    return [f"（语料中{t.ref.name}{_year(t)}只有{t.kind}文件，以下数字出自该{t.kind}。）" for t in odd[:1]]


def _is_main(col: str, f: Fact) -> bool:
    from budgetqa.answer.select import column_rank

    return column_rank(f, Target(ref=None, docs=(), year=f.year, kind=f.kind)) == 0  # type: ignore[arg-type]


def _conflict(c: Choice) -> str:
    f = c.fact
    table_side = f"表格“{f.table}”为{f.value}{f.measure}"
    text_side = "、".join(f"“{clean_label(x.section)}”中的{x.value}{x.measure}" for x in c.conflicts)
    return template("conflict").format(table_side=table_side, text_side=text_side)


def _arith(query: Query, catalog: Catalog) -> Draft:
    if query.qtype == "ratio":
        printed = _printed_ratio(query, catalog)
        if printed is not None:
            return printed
    inputs, missing = _inputs(query, catalog)
    current = [(t, f) for t, f in inputs if not t.prior]
    if query.qtype == "growth" and missing and len(current) == 1:
        return _against_last_year(query, catalog, *current[0])  # last year is a column, or the text says it
    if query.qtype == "growth" and missing and not current and len(query.targets) == 1:
        said = change_said(catalog, query, query.targets[0], None)  # only the sentence names the item
        if said is not None:
            return Draft("answered", said.text, said.facts, said.derived, unit=query.targets[0].ref.name)
    if missing:
        return Draft("not_found", "未找到" + "、".join(missing) + "的数据，无法计算。" + _holdings(query, catalog))
    op = query.qtype
    if op in ("difference", "ratio") and len(inputs) == 1 and len(query.columns) >= 2:
        inputs = _by_columns(query, catalog, inputs[0][0]) or inputs
    facts = [f for _, f in inputs]
    if op == "ratio" and len(facts) == 1:
        total = _total_of(catalog, facts[0])
        if total is None:
            return Draft("not_found", "未找到计算占比所需的合计数，请说明要与哪一项相比。")
        inputs.append((query.targets[0], total))
        facts.append(total)
    if op == "growth" and len(facts) == 1:
        return _against_last_year(query, catalog, inputs[0][0], facts[0])
    if op == "average" and len(facts) == 1:
        count = _count_for(catalog, inputs[0][0], query)
        if count is None:
            return Draft("not_found", "未找到计算平均值所需的个数，请说明要平均的各项。")
        op = "per"  # type: ignore[assignment]
        inputs.append((inputs[0][0], count))
        facts.append(count)
    if op == "sum" and len(facts) == 1:
        column = _column_total(catalog, facts[0], query) or _same_rows(catalog, facts[0])
        if column:
            inputs = [(inputs[0][0], f) for f in column]
            facts = column
    if (op == "ratio" and len(facts) >= 2) or (op == "difference" and len(facts) > 2):
        inputs = _two_operands(query, inputs)
        facts = [f for _, f in inputs]
    if op in ("difference", "growth", "ratio") and len(facts) != 2:
        return Draft("not_found", f"计算{_OP_NAME[op]}需要恰好两个数值，问题中找到{len(facts)}个，请说明要比较的两项。")
    if op == "growth":
        inputs = sorted(inputs, key=lambda p: p[0].year or 0, reverse=True)
        facts = [f for _, f in inputs]
    try:
        d = compute(op, facts)  # type: ignore[arg-type]
        extra = [compute("difference", facts)] if op == "growth" else []
    except ArithmeticError_ as exc:
        return Draft("not_found", f"无法计算：{exc}。")
    one_unit = len({t.ref.name for t, _ in inputs}) == 1
    parts = [f"{_label_of(t, f, one_unit)}为{f.value.strip()}{f.measure}" for t, f in inputs]
    what = _OP_NAME[op]
    t0 = query.targets[0]
    sentence = "，".join(parts) + f"；{what}为{fmt(d.value, d.measure)}{d.measure}（计算：{d.formula}）"
    if extra:
        sentence += f"，增减额为{fmt(extra[0].value)}{extra[0].measure}"
    lead = f"{t0.ref.name}{_year(t0)}{t0.kind or ''}中，" if one_unit and len({f.year for f in facts}) == 1 else ""
    lines = [lead, sentence, "。"]
    lines += _year_note(query)
    return Draft("answered", "".join(lines), tuple(facts), (d, *extra), unit=t0.ref.name)


def _printed_ratio(query: Query, catalog: Catalog) -> Draft | None:
    """"占比多少": the share the document prints, when it prints one; computed only when it does not."""
    if len(query.targets) != 1 or not query.items:
        return None
    t = query.targets[0]
    left = [i for i in query.items if i.side == 0] or list(query.items[:1])
    right = [i for i in query.items if i.side == 1]
    # "A占B": A of B; "X中Y占多少": Y of X (as _two_operands reads them)
    part, whole = (left[0], right[-1]) if right else (left[-1], left[0]) if len(left) >= 2 else (left[0], None)
    found = printed_share(catalog, t, part, whole)
    if found is None:
        return None
    f = found.share
    of = f"占{found.whole}的" if found.whole else "占"
    said = f"{clean_label(found.part.row)}为{found.part.value.strip()}{found.part.measure}，" if found.part else ""
    text = (f"{t.ref.name}{_year(t)}{t.kind or ''}中，{said}文件写明{clean_label(f.row.partition('占')[0])}"
            f"{of}{f.value.strip()}%（{clean_label(f.section)}）。")
    facts = (f, found.part) if found.part else (f,)
    return Draft("answered", "".join([text, *_year_note(query)]), facts, unit=t.ref.name)


_OP_NAME = {"sum": "合计", "difference": "差额", "ratio": "占比", "growth": "增长率", "average": "平均值",
            "per": "平均每个"}


def _count_for(catalog: Catalog, t: Target, query: Query) -> Fact | None:
    """"13个项目平均每个…": the document's own count of those things (a figure in 个), never the question's."""
    m = re.search(r"(\d+)\s*[个项家]\s*([\u4e00-\u9fff]{0,8}?)(?:平均|每)", query.question)
    thing = re.search(r"每个([\u4e00-\u9fff]{1,8}?)(?:的|涉|平均|预算|资金|$)", query.question)
    full = (m.group(2) if m and m.group(2) else "") or (thing.group(1) if thing else "项目")
    noun = full[-2:] if len(full) > 2 else full
    counts = [f for d in t.docs for f in catalog.facts.get(d, []) if f.measure in ("个", "项")
              and f.number and (noun in norm(f.row) or noun in norm(f.context))]
    if m:
        counts = [f for f in counts if f.number == int(m.group(1))] or counts
    # "编报绩效目标的项目49个" counts 绩效目标项目; "3个预算单位开展了…项目…" counts 预算单位
    return max(counts, key=lambda f: (_pairs(norm(f.row) + _after(f), full), norm(f.row).endswith(noun)),
               default=None)


def _pairs(text: str, words: str) -> int:
    return sum(1 for i in range(len(words) - 1) if words[i:i + 2] in text)


def _after(f: Fact) -> str:
    at = f.context.find(f.value + f.measure)
    return norm(f.context[at + len(f.value) + len(f.measure):][:6]) if at >= 0 else ""


def _column_total(catalog: Catalog, f: Fact, query: Query) -> list[Fact]:
    """"4家单位的在职人数合计": every row of that column in the same table, totals rows left out."""
    if f.source != "table" or not f.column or not any(norm(f.column) in i.labels for i in query.items):
        return []
    rows = [g for g in catalog.facts.get(f.doc, []) if g.table == f.table and g.column == f.column
            and norm(g.row) not in ("合计", "总计", "小计") and g.number is not None]
    return rows if len(rows) > 1 else []


def _inputs(query: Query, catalog: Catalog) -> tuple[list[tuple[Target, Fact]], list[str]]:
    """One fact per (target, item); several targets with one item, or one target with several items."""
    pairs: list[tuple[Target, Fact]] = []
    missing: list[str] = []
    for t in query.targets:
        for item in query.items:
            c = choose(catalog, t, item, _hints(query))
            if c is None:
                missing.append(f"{t.ref.name}{_year(t)}的“{_item_name(item)}”")
            else:
                pairs.append((t, c.fact))
    if query.qtype in ("ratio", "difference") and len(pairs) == 2 and not query.measure:
        pairs = _same_measure(query, catalog, pairs)
    return pairs, missing


_COUNTS = {"辆", "人", "名", "个", "家", "项", "次", "台", "套", "处", "所"}


def _same_measure(query: Query, catalog: Catalog, pairs: list[tuple[Target, Fact]]) -> list[tuple[Target, Fact]]:
    """"执法执勤用车占公务用车总数": a share or a difference of counts needs both figures counted in the same
    measure; the count asked first sets it, the other item is looked up again in that measure."""
    (t0, a), (t1, b) = pairs
    if a.measure == b.measure or not ({a.measure, b.measure} & _COUNTS):
        return pairs
    if len(query.items) != 2:
        return pairs
    want = a.measure if a.measure in _COUNTS else b.measure
    fixed: list[tuple[Target, Fact]] = []
    for (t, f), item in zip(pairs, query.items, strict=False):
        if f.measure != want:
            c = choose(catalog, t, item, replace(_hints(query), measure=want))
            if c is None:
                return pairs
            f = c.fact
        fixed.append((t, f))
    return fixed


def _total_of(catalog: Catalog, f: Fact) -> Fact | None:
    """The 合计 row of the same table and column, as the denominator of a share."""
    for g in catalog.facts.get(f.doc, []):
        if g.table == f.table and g.column == f.column and norm(g.row) in ("合计", "总计") and g.number:
            return g
    return None


def _same_rows(catalog: Catalog, f: Fact) -> list[Fact]:
    """"办公费两行加起来": a detail table lists the item once per 政府经济科目; every row of that label in
    the same table and column."""
    if f.source != "table":
        return []
    rows = [g for g in catalog.facts.get(f.doc, []) if g.table == f.table and g.column == f.column
            and norm(g.row) == norm(f.row) and g.number is not None]
    return rows if len(rows) > 1 else []


def _by_columns(query: Query, catalog: Catalog, t: Target) -> list[tuple[Target, Fact]]:
    """"预算数和决算数相差多少": one item, two of its columns, in the order the question names them."""
    text = norm(query.question)
    cols = sorted(query.columns, key=lambda c: (text.find(c) if c in text else text.find(c[:-1])))
    out = []
    for c in cols[:2]:
        choice = choose(catalog, t, query.items[0], Hints((c,), query.tables, query.measure))
        if choice is not None and c in norm(choice.fact.column):
            out.append((t, choice.fact))
            continue
        stated = _stated_as(catalog, t, query.items[0], c)
        if stated is None:
            return []
        out.append((t, stated))
    return out


_COLUMN_SAYS = {"预算数": ("年初预算", "年初预算数", "预算", "预算数", "全年预算"),
                "决算数": ("决算", "决算数", "支出决算", "")}
_KIND_TAIL = re.compile(r"(?:年初预算数?|全年预算数?|预算数?|决算数?)$")


def _stated_as(catalog: Catalog, t: Target, item: Item, column: str) -> Fact | None:
    """A final account's prose gives the budget and the outturn of a total in words ("…支出年初预算为
    2993.92万元", "…支出决算为2940.05万元"): the item's label with the column's word attached."""
    tails = _COLUMN_SAYS.get(column)
    if not tails:
        return None
    bases = {_KIND_TAIL.sub("", lab) for lab in (*item.labels, norm(item.text))} - {""}
    for d in t.docs:
        per_label = catalog.by_label.get(d, {})
        for tail in tails:
            for base in sorted(bases, key=len, reverse=True):
                hits = [f for f in per_label.get(base + tail, []) if f.source == "text" and f.measure != "%"]
                if hits:
                    return hits[0]
    return None


def _two_operands(query: Query, inputs: list[tuple[Target, Fact]]) -> list[tuple[Target, Fact]]:
    """"A占B": A before 占, B after; "X中Y占多少": Y of X."""
    sides = [i.side for _ in query.targets for i in query.items]
    left = [p for p, s in zip(inputs, sides, strict=False) if s == 0]
    right = [p for p, s in zip(inputs, sides, strict=False) if s == 1]
    if left and right:
        return [left[0], right[-1]]
    if len(left) >= 2:
        return [left[-1], left[0]]
    return inputs[:2]


def _stated_change(query: Query, catalog: Catalog, t: Target, base: Fact) -> Draft:
    """Growth over one year: the document's own 比上年增加/增长 sentences about the item, else its
    last-year column computed against this year's figure."""
    prefixes = {norm(base.row)} | {lab for it in query.items for lab in (*it.labels, norm(it.text))}
    prefixes |= {re.sub(r"(?:合计|总计|总额|预算|决算|预算数|决算数)$", "", p) for p in list(prefixes)}
    prefixes = {p for p in prefixes if len(p) >= 2}
    found: list[tuple[int, Fact]] = []
    for d in t.docs:
        for f in catalog.facts.get(d, []):
            row = norm(f.row)
            p = max((p for p in prefixes if p in row and has_any(row[row.find(p) + len(p):], "change")
                     and len(row) - row.find(p) - len(p) <= 10), key=len, default="")
            if f.source == "text" and p and f.number is not None:
                found.append((len(p), f))
    if found:
        top = max(n for n, _ in found)
        best = [f for n, f in found if n == top]
        picked = [next((f for f in best if f.measure != "%"), None), next((f for f in best if f.measure == "%"), None)]
        said = "，".join(f"{clean_label(f.row)}{f.value.strip()}{f.measure}" for f in picked if f is not None)
        text = (f"{t.ref.name}{_year(t)}{t.kind or ''}中，{clean_label(base.row)}为{base.value.strip()}{base.measure}，"
                f"文件写明比上年{said}（{clean_label(best[0].section)}）。")
        return Draft("answered", text, (base, *[f for f in picked if f is not None]), unit=t.ref.name)
    return Draft("not_found", f"未找到{t.ref.name}{_year(t)}“{clean_label(base.row)}”与上年相比的数据。")


def _against_last_year(query: Query, catalog: Catalog, t: Target, base: Fact) -> Draft:
    """Growth over one year: the change the document prints (budgetqa.answer.periods), else computed from
    the same table's last-year column or last year's own document, else the document's words."""
    said = change_said(catalog, query, t, base)
    if said is not None:
        return Draft("answered", said.text, said.facts, said.derived, unit=t.ref.name)
    item = query.items[0]
    prev = choose(catalog, replace(t, prior=True, year=(t.year or 0) - 1), item, _hints(query))
    earlier = earlier_target(catalog, t)
    if earlier is not None and (prev is None or prev.fact.table != base.table):
        prev = choose(catalog, earlier, item, _hints(query)) or prev  # last year's own document
    if prev is None or prev.fact == base or prev.fact.source != "table" or (
            prev.fact.table != base.table and prev.fact.doc == base.doc):
        return _stated_change(query, catalog, t, base)
    try:
        diff, rate = compute("difference", [base, prev.fact]), compute("growth", [base, prev.fact])
    except ArithmeticError_ as exc:
        return Draft("not_found", f"无法计算：{exc}。")
    text = (f"{t.ref.name}{_year(t)}{t.kind or ''}中，{clean_label(base.row)}为{base.value.strip()}{base.measure}，"
            f"上年（{(t.year or 0) - 1}年）为{prev.fact.value.strip()}{prev.fact.measure}（{_source_of(prev.fact, base)}）；"
            f"增减额为{fmt(diff.value)}{diff.measure}（计算：{diff.formula}），增长率为{fmt(rate.value)}%"
            f"（计算：{rate.formula}）。")
    return Draft("answered", text, (base, prev.fact), (diff, rate), unit=t.ref.name)




def _other_years(query: Query, catalog: Catalog, t: Target, item: Item) -> tuple[str, list[Fact]]:
    found = [(o, c.fact) for o in other_years(catalog, t) if (c := choose(catalog, o, item, _hints(query))) is not None]
    return years_line(found), [f for _, f in found]


def _source_of(prev: Fact, base: Fact) -> str:
    """Where last year's figure comes from: this table's 上年 column, or last year's own document."""
    return prev.column if prev.doc == base.doc else f"{prev.year}年{prev.kind or ''}文件“{prev.table or clean_label(prev.section)}”"


def _label_of(t: Target, f: Fact, one_unit: bool) -> str:
    unit = "" if one_unit else t.ref.name
    name = clean_label(f.row)
    last = leading_year(f.column.split("/")[-1])[1].strip()
    if f.source == "table" and norm(f.row) in ("合计", "总计") and last and last not in words("main_column"):
        name = last  # the 合计 row of the 基本支出 column is the 基本支出 total
    return f"{unit}{f.year or ''}{'年' if f.year else ''}{name}" if unit else name


def _item_name(item: Item) -> str:
    return item.labels[0] if item.vocab and item.labels else item.text


def _year(t: Target) -> str:
    return f"{t.year}年" if t.year else ""


def _year_note(query: Query) -> list[str]:
    if not query.year_defaulted or not query.targets or query.years:
        return []
    units = {t.ref.name: t for t in query.targets}
    if len(units) > 1:
        held = "、".join(f"{n}{t.year}年{t.kind or ''}" for n, t in units.items())
        return [f"（问题未指定年份，各单位按语料中最新的一年回答：{held}。）"]
    t = query.targets[0]
    return [template("year_default").format(year=t.year, kind=t.kind or "")]


def _what(query: Query) -> str:
    unit = query.targets[0].ref.name if query.targets else ""
    words = item_words(query.residue)
    return f"{unit}{'的' if unit and words else ''}“{words}”" if words else (unit or "所问内容")


def _holdings(query: Query, catalog: Catalog) -> str:
    docs = {d for t in query.targets for d in t.docs}
    return "" if not docs else f"（已查找的文件：{'、'.join(sorted(docs))}。）"
