"""`budgetqa audit`: each indexed document checked against itself.

Published disclosures contradict themselves often enough that citizens deserve to see where. The
audit reads only the structured facts of one document and reports, with the figures involved:
- parts against totals inside a table: a 类 against its 款, a 款 against its 项, 301 against 30101…,
  the 合计 row against the 类 rows, a total column against the columns beside it, and the sums the
  rules file names (三公 合计 = its three parts);
- the narrative against the tables: a money figure stated for an item the tables print, with no
  table cell of that item holding it;
- year-over-year statements: "X万元，比上年增加Y万元，增长Z%" where Z is not Y over last year's X − Y.

Every comparison allows the printed rounding: (n + 1) half-units of the last printed digit for n
rounded addends, so a document that merely rounds is never reported.
"""

from __future__ import annotations

import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from budgetqa.catalog import norm
from budgetqa.index.model import MONEY_FACTORS, Fact, parse_number

Kind = str  # 明细合计 / 科目层级 / 栏目合计 / 叙述与表格 / 同比变动


@dataclass(frozen=True)
class Finding:
    doc: str
    kind: Kind
    message: str  # one Chinese sentence
    difference: Decimal  # printed total minus what its parts give, in `measure`
    measure: str
    figures: tuple[Fact, ...]  # the total (or stated figure) first, then its parts


@dataclass(frozen=True)
class Rules:
    label_sums: tuple[tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]], ...]
    total_columns: tuple[str, ...]
    not_parts: tuple[str, ...]
    balances: tuple[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...] = ()  # left, right, unless
    whole_columns: tuple[str, ...] = ()  # column names that all mean "the whole amount" of an item
    not_compared: tuple[str, ...] = ()  # columns never compared across tables


@lru_cache(maxsize=1)
def load_rules(path: str = "") -> Rules:
    p = Path(path) if path else Path(__file__).with_name("audit_rules.toml")
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    sums = tuple((r["table"], tuple(norm(t) for t in r["total"]), tuple(tuple(norm(a) for a in part)
                                                                          for part in r["parts"]))
                 for r in data.get("label_sum", []))
    cols = data.get("column_parts", {})
    across = data.get("across_tables", {})
    balances = tuple((tuple(norm(x) for x in b["left"]), tuple(norm(x) for x in b["right"]),
                      tuple(b.get("unless", ()))) for b in data.get("balance", []))
    return Rules(sums, tuple(cols.get("totals", ())), tuple(cols.get("not_parts", ())), balances,
                 tuple(across.get("whole", ())), tuple(across.get("never", ())))


def audit(facts: Sequence[Fact], rules: Rules | None = None) -> list[Finding]:
    """All findings for the facts of one document, tables first, then the narrative."""
    rules = rules or load_rules()
    tables = _tables(facts)
    out: list[Finding] = []
    for table in tables:
        out += _collapse(table, _code_sums(table, rules) + _label_sums(table, rules) + _column_sums(table, rules)
                         + _balances(table, rules))
    out += _across_tables(tables, rules)
    narrative = [f for f in facts if f.source == "text"]
    out += _narrative_vs_tables(narrative, tables)
    out += _year_over_year(narrative)
    return out


MAX_PER_TABLE = 3


def _collapse(table: _Table, findings: list[Finding]) -> list[Finding]:
    """Many sums off in one table point at how it was read (a row lost at a page break, columns run
    together), not at the document: one finding says so instead of a dozen that would mislead."""
    if len(findings) <= MAX_PER_TABLE:
        return findings
    first = findings[0]
    message = (f"{table.title}有{len(findings)}处合计与明细对不上，多半是该表的版式未能完整读取"
               f"（跨页、并列栏目），而非文件本身有误；请对照原表核实。例如：{first.message}")
    return [Finding(first.doc, "表格存疑", message, first.difference, first.measure, first.figures)]


def finding_json(f: Finding) -> dict[str, object]:
    """The contract's audit line: doc, kind, message, difference, figures with their citations."""
    return {"doc": f.doc, "kind": f.kind, "message": f.message, "difference": float(f.difference),
            "measure": f.measure,
            "figures": [{"value": x.value.strip(), "measure": x.measure,
                         "citation": {"doc": x.doc, "unit": x.unit, "year": x.year, "kind": x.kind,
                                      "section": x.section, "table": x.table, "row": x.row, "column": x.column,
                                      "code": x.code, "page": x.page, "quote": x.quote}}
                        for x in f.figures]}


def involving(findings: Iterable[Finding], cited: Iterable[tuple[str, str, str, str]]) -> list[str]:
    """The messages of the findings a cited figure takes part in; `cited` = (doc, table, row, value)."""
    keys = {(d, t, norm(r), v.strip()) for d, t, r, v in cited}
    return [f.message for f in findings
            if any((x.doc, x.table, norm(x.row), x.value.strip()) in keys for x in f.figures)]


def audit_corpus(facts: Iterable[Fact], docs: Sequence[str] = ()) -> Iterator[Finding]:
    """Findings document by document (all documents when `docs` is empty)."""
    by_doc: dict[str, list[Fact]] = defaultdict(list)
    for f in facts:
        if not docs or f.doc in docs:
            by_doc[f.doc].append(f)
    for name in sorted(by_doc):
        yield from audit(by_doc[name])


# --- tables -------------------------------------------------------------------------------------


@dataclass
class _Row:
    key: str  # normalised label
    code: str | None
    cells: dict[str, Fact]  # column -> fact


@dataclass
class _Table:
    title: str
    rows: list[_Row]
    columns: list[str]


def _tables(facts: Sequence[Fact]) -> list[_Table]:
    """Tables rebuilt from their facts: a row is a run of facts from one printed line."""
    grouped: dict[tuple[str, str], _Table] = {}
    for f in facts:
        if f.source != "table" or not f.table or parse_number(f.value) is None and f.value.strip():
            continue
        t = grouped.setdefault((f.section, f.table), _Table(f.table, [], []))
        code = f.code if f.code and f.code.isdigit() else None
        last = t.rows[-1] if t.rows else None
        if last is None or last.key != norm(f.row) or last.code != code or f.column in last.cells:
            last = _Row(norm(f.row), code, {})
            t.rows.append(last)
        last.cells[f.column] = f
        if f.column not in t.columns:
            t.columns.append(f.column)
    return list(grouped.values())


def _amount(f: Fact | None) -> Decimal:
    n = None if f is None else parse_number(f.value)
    return n if n is not None else Decimal(0)  # blank = zero in budget tables


def _decimals(f: Fact) -> int:
    v = f.value.replace(",", "").strip().rstrip("%")
    return len(v.split(".")[1]) if "." in v else 0


def _tolerance(figures: Sequence[Fact]) -> Decimal:
    """(n + 1) half-units of the coarsest printed digit among the figures compared."""
    printed = [f for f in figures if parse_number(f.value)]  # zeros (and blanks, read as 0) are exact
    coarsest = min((_decimals(f) for f in printed), default=2)
    return Decimal(len(printed)) * Decimal(5) / Decimal(10) ** (coarsest + 1)


@dataclass(frozen=True)
class _Sum:
    """One total and the parts it should equal."""

    total: Fact
    parts: tuple[Fact, ...]
    what: str  # how the message names the total

    @property
    def difference(self) -> Decimal:
        return _amount(self.total) - sum((_amount(p) for p in self.parts), Decimal(0))

    @property
    def holds(self) -> bool:
        return abs(self.difference) <= _tolerance([self.total, *self.parts])

    @property
    def informative(self) -> bool:
        """Parts all blank while the total is not: the table does not break this total down."""
        return parse_number(self.total.value) is not None and any(_amount(p) for p in self.parts)


def _findings(table: _Table, column: str, family: Sequence[_Sum], kind: Kind, trusted: bool) -> list[Finding]:
    """The sums of one family that fail; an untrusted family must hold at least once to be believed."""
    sums = [s for s in family if s.informative]
    if not trusted and 2 * sum(s.holds for s in sums) < len(sums):
        return []  # mostly off: the columns or codes are not what we took them for, not a document error
    out = []
    for s in sums:
        if s.holds:
            continue
        got = _amount(s.total) - s.difference
        m = s.total.measure
        message = (f"{table.title}“{column or '金额'}”栏：{s.what}印为{s.total.value.strip()}{m}，"
                   f"各组成部分相加为{_fmt(got)}{m}，相差{_fmt(s.difference)}{m}。")
        out.append(Finding(s.total.doc, kind, message, s.difference, m, (s.total, *s.parts)))
    return out


def _amount_column(column: str, rules: Rules) -> bool:
    return not any(w in column for w in rules.not_parts)


def _code_sums(table: _Table, rules: Rules) -> list[Finding]:
    out: list[Finding] = []
    coded = [r for r in table.rows if r.code]
    total = next((r for r in table.rows if r.key in ("合计", "总计") and not r.code), None)
    tops = [r for r in coded if len(r.code or "") == 3]
    for column in table.columns:
        if not _amount_column(column, rules):
            continue
        family: list[_Sum] = []
        if total is not None and tops and column in total.cells:
            family.append(_Sum(total.cells[column], tuple(r.cells[column] for r in tops if column in r.cells),
                               "合计"))
        for parent in coded:
            code = parent.code or ""
            longer = [r for r in coded if (r.code or "").startswith(code) and len(r.code or "") > len(code)]
            if not longer or column not in parent.cells:
                continue
            depth = min(len(r.code or "") for r in longer)
            parts = tuple(r.cells[column] for r in longer if len(r.code or "") == depth and column in r.cells)
            family.append(_Sum(parent.cells[column], parts, f"科目{code}（{parent.cells[column].row.strip()}）"))
        out += _findings(table, column, family, "科目层级", trusted=False)
    return out


def _label_sums(table: _Table, rules: Rules) -> list[Finding]:
    out: list[Finding] = []
    for word, totals, parts in rules.label_sums:
        if word not in table.title:
            continue
        total = next((r for r in table.rows if r.key in totals), None)
        members = [next((r for r in table.rows if r.key in names), None) for names in parts]
        if total is None or any(m is None for m in members):
            continue
        for column in table.columns:
            figures = tuple(m.cells[column] for m in members if m is not None and column in m.cells)
            if column in total.cells and len(figures) == len(members):
                s = _Sum(total.cells[column], figures, total.cells[column].row.strip())
                out += _findings(table, column, [s], "明细合计", trusted=True)
    return out


def _balances(table: _Table, rules: Rules) -> list[Finding]:
    """收入总计 = 支出总计: a 收支 table balances (合计 rows only when nothing is carried over)."""
    out: list[Finding] = []
    for left, right, unless in rules.balances:
        a = next((r for r in table.rows if r.key in left), None)
        b = next((r for r in table.rows if r.key in right), None)
        if a is None or b is None or any(w in r.key and any(_amount(f) for f in r.cells.values())
                                         for r in table.rows for w in unless):
            continue
        fa = [f for f in a.cells.values() if f.measure in MONEY_FACTORS]
        fb = [f for f in b.cells.values() if f.measure in MONEY_FACTORS]
        if len(fa) != 1 or len(fb) != 1 or _same_money(fa[0], fb[0]):
            continue
        diff = (_yuan(fa[0]) - _yuan(fb[0])) / MONEY_FACTORS[fa[0].measure]
        message = (f"{table.title}：{fa[0].row.strip()}{fa[0].value.strip()}{fa[0].measure}与{fb[0].row.strip()}"
                   f"{fb[0].value.strip()}{fb[0].measure}不相等（收支应平衡），相差{_fmt(diff)}{fa[0].measure}。")
        out.append(Finding(fa[0].doc, "收支平衡", message, diff, fa[0].measure, (fa[0], fb[0])))
    return out


def _column_sums(table: _Table, rules: Rules) -> list[Finding]:
    """A total column (合计) against the columns beside it, row by row."""
    out: list[Finding] = []
    for total, parts in _column_groups(table.columns, rules):
        family = [_Sum(r.cells[total], tuple(r.cells[c] for c in parts), f"“{r.cells[total].row.strip()}”行")
                  for r in table.rows if total in r.cells and all(c in r.cells for c in parts)]
        out += _findings(table, total, family, "栏目合计", trusted=False)
    return out


def _column_groups(columns: Sequence[str], rules: Rules) -> list[tuple[str, list[str]]]:
    """(total column, its direct part columns) for every level of the flattened header tree."""
    amount = [c for c in columns if c and _amount_column(c, rules)]
    paths = {c: tuple(c.split("/")) for c in amount}
    out: list[tuple[str, list[str]]] = []
    prefixes = {p[:i] for p in paths.values() for i in range(len(p))}
    for prefix in prefixes:
        below = {c: p for c, p in paths.items() if p[:len(prefix)] == prefix and len(p) > len(prefix)}
        own = [c for c, p in paths.items() if p == prefix]
        total = own[0] if own else next((c for c, p in below.items()
                                         if len(p) == len(prefix) + 1 and p[-1] in rules.total_columns), None)
        if total is None:
            continue
        heads = {p[len(prefix)] for c, p in below.items() if c != total}
        parts = []
        for head in sorted(heads, key=lambda h: columns.index(next(c for c, p in below.items()
                                                                   if p[len(prefix)] == h))):
            child = prefix + (head,)
            same = [c for c, p in below.items() if p == child]
            sub = [c for c, p in below.items() if p[:len(child)] == child and len(p) == len(child) + 1
                   and p[-1] in rules.total_columns]
            if same or sub:
                parts.append((same or sub)[0])
            else:
                parts += [c for c, p in below.items() if p[:len(child)] == child and len(p) == len(child) + 1]
        if len(parts) >= 2:
            out.append((total, parts))
    return out


# --- the same figure in two tables -----------------------------------------------------------


def _across_tables(tables: Sequence[_Table], rules: Rules) -> list[Finding]:
    """One item printed in two tables of the same scope must carry one figure.

    Scope is learned, not assumed: two columns of two tables are taken to hold the same quantity
    when they agree on nearly every item both print (by 科目编码 or by label); the few items where
    they differ are the findings. Columns that differ often (all funds vs 一般公共预算) are left alone.
    """
    columns = [(t, c, _keyed(t, c)) for t in tables for c in t.columns
               if c and _amount_column(c, rules) and _comparable(c, rules)]
    out: list[Finding] = []
    for i, (t1, c1, k1) in enumerate(columns):
        for t2, c2, k2 in columns[i + 1:]:
            if t1 is t2 or not _same_kind(c1, c2, rules):
                continue
            pairs = {(id(k1[k]), id(k2[k])): (k1[k], k2[k]) for k in k1.keys() & k2.keys()}
            if len(pairs) < 3 or not _same_totals(t1, c1, t2, c2):
                continue
            unequal = [(a, b) for a, b in pairs.values() if not _same_money(a, b)]
            if unequal and len(unequal) <= max(1, len(pairs) // 5):
                out += [_mismatch(t1, c1, a, t2, c2, b) for a, b in unequal]
    return out


def _total(table: _Table, column: str) -> Fact | None:
    """The column's grand total: the 总计 row, else the 合计 row (支出 side first in 收支 tables)."""
    for word in ("支出总计", "总计", "支出合计", "合计"):
        row = next((r for r in table.rows if r.key.endswith(word) and column in r.cells), None)
        if row is not None:
            return row.cells[column]
    return None


def _same_totals(t1: _Table, c1: str, t2: _Table, c2: str) -> bool:
    """Two columns cover the same scope only when their grand totals agree (all funds ≠ 财政拨款)."""
    a, b = _total(t1, c1), _total(t2, c2)
    return a is not None and b is not None and _same_money(a, b)


def _keyed(table: _Table, column: str) -> dict[str, Fact]:
    """The column's non-zero money figures by 科目编码 and by label (labels printed once only)."""
    out: dict[str, Fact] = {}
    seen: dict[str, int] = defaultdict(int)
    for row in table.rows:
        seen[row.key] += 1
    for row in table.rows:
        f = row.cells.get(column)
        if f is None or not _amount(f) or f.measure not in MONEY_FACTORS:
            continue
        if row.code:
            out.setdefault("#" + row.code, f)
        if seen[row.key] == 1 and len(row.key) >= 2:
            out.setdefault(row.key, f)
    return out


def _last(column: str) -> str:
    return column.rsplit("/", 1)[-1]


def _comparable(column: str, rules: Rules) -> bool:
    return _last(column) not in ("", *rules.not_compared)


def _same_kind(c1: str, c2: str, rules: Rules) -> bool:
    a, b = _last(c1), _last(c2)
    return a == b or (a in rules.whole_columns and b in rules.whole_columns)


def _mismatch(t1: _Table, c1: str, a: Fact, t2: _Table, c2: str, b: Fact) -> Finding:
    diff = (_yuan(a) - _yuan(b)) / MONEY_FACTORS[a.measure]
    message = (f"“{a.row.strip()}”在{t1.title}（{c1}）中为{a.value.strip()}{a.measure}，在{t2.title}（{c2}）中为"
               f"{b.value.strip()}{b.measure}，两表其余各项一致，此项相差{_fmt(diff)}{a.measure}。")
    return Finding(a.doc, "跨表不一致", message, diff, a.measure, (a, b))


# --- narrative ----------------------------------------------------------------------------------

_CHANGE = re.compile(r"(增加|减少|增长|下降|增幅|降幅|持平|节约|节省)$")


def _narrative_vs_tables(text: Sequence[Fact], tables: Sequence[_Table]) -> list[Finding]:
    """A money figure the narrative gives an item that the tables print with other values only."""
    by_label: dict[str, list[Fact]] = defaultdict(list)
    for t in tables:
        for row in t.rows:
            for column, f in row.cells.items():
                if f.measure not in MONEY_FACTORS:
                    continue
                by_label[row.key].append(f)
                if row.key in ("合计", "总计") and column:
                    by_label[norm(column)].append(f)  # the 合计 row of the 基本支出 column is "基本支出"
    stated: dict[str, set[Decimal]] = defaultdict(set)
    for f in text:
        if f.measure in MONEY_FACTORS:
            stated[norm(f.row)].add(_yuan(f))
    out: list[Finding] = []
    for f in text:
        label = norm(f.row)
        if f.measure not in MONEY_FACTORS or len(label) < 4 or _CHANGE.search(label) or "上年" in label:
            continue
        if len(stated[label]) > 1:
            continue  # one item, several figures: the narrative speaks of several units or years
        candidates = [c for c in by_label.get(label, []) if _amount(c)]
        if not candidates or any(_same_money(f, c) for c in candidates):
            continue
        best = min(candidates, key=lambda c: abs(_yuan(c) - _yuan(f)))
        diff = (_yuan(f) - _yuan(best)) / MONEY_FACTORS[f.measure]
        message = (f"情况说明写“{f.row.strip()}”为{f.value.strip()}{f.measure}，而表格中该项为"
                   f"{best.value.strip()}{best.measure}（{best.table}），相差{_fmt(diff)}{f.measure}。")
        out.append(Finding(f.doc, "叙述与表格", message, diff, f.measure, (f, best)))
    return out


def _yuan(f: Fact) -> Decimal:
    return _amount(f) * MONEY_FACTORS.get(f.measure, Decimal(1))


def _same_money(a: Fact, b: Fact) -> bool:
    """Equal to one unit of the coarser printed digit: narratives round their own way."""
    tol = max(Decimal(1) / Decimal(10) ** _decimals(x) * MONEY_FACTORS[x.measure] for x in (a, b))
    return abs(_yuan(a) - _yuan(b)) <= tol


def _year_over_year(text: Sequence[Fact]) -> list[Finding]:
    """"X万元，比上年增加Y万元，增长Z%": Z must be Y over (X − Y), within the printed rounding."""
    out: list[Finding] = []
    by_quote: dict[str, list[Fact]] = defaultdict(list)
    for f in text:
        by_quote[f.quote].append(f)
    for facts in by_quote.values():
        for i, base in enumerate(facts):
            if base.measure not in MONEY_FACTORS or _CHANGE.search(norm(base.row)):
                continue
            rest = facts[i + 1:i + 3]
            amount = next((f for f in rest if f.measure == base.measure and re.search("增加|减少", f.row)), None)
            rate = next((f for f in rest if f.measure == "%" and re.search("增长|下降|增幅|降幅", f.row)), None)
            if amount is None or rate is None:
                continue
            finding = _rate_finding(base, amount, rate)
            if finding is not None:
                out.append(finding)
    return out


def _rate_finding(base: Fact, amount: Fact, rate: Fact) -> Finding | None:
    x, y, z = _amount(base), _amount(amount), _amount(rate)
    down = "减少" in amount.row
    if down != bool(re.search("下降|降幅", rate.row)) and z != 0:
        return None  # "减少…增长" mixes two subjects; not a statement about one figure
    hx, hy = (Decimal(5) / Decimal(10) ** (_decimals(f) + 1) for f in (base, amount))
    hz = Decimal(5) / Decimal(10) ** (_decimals(rate) + 1)
    # The stated figure is this year's ("X万元，比上年增加Y") or last year's ("较上年X万元减少Y").
    if abs(x + y if down else x - y) <= hx + hy:
        return None  # new this year: no rate to state (documents print 0% or nothing)
    candidates = [p for p in (x + y if down else x - y, x) if p > 0]
    for previous in candidates:
        low = (y - hy) / (previous + hx + hy) * 100
        high = (y + hy) / max(previous - hx - hy, Decimal("1e-9")) * 100
        if low - hz <= z <= high + hz:
            return None
    if not candidates:
        return None
    computed = y / candidates[0] * 100
    message = (f"“{base.row.strip()}”{base.value.strip()}{base.measure}、比上年{'减少' if down else '增加'}"
               f"{amount.value.strip()}{amount.measure}，应为{'下降' if down else '增长'}{_fmt(computed)}%，"
               f"文中写{rate.value.strip()}%。")
    return Finding(base.doc, "同比变动", message, z - computed, "%", (rate, base, amount))


def _fmt(d: Decimal) -> str:
    return f"{d.quantize(Decimal('0.01')):,}".replace(",", "")
