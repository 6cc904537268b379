"""A 绩效目标表 printed as a form, one project per table: 项目名称 / 主管部门 / 资金金额 lines, then a grid of
一级指标 | 二级指标 | 三级指标 | 指标值 | 分值权重 rows (西安 部门专项业务经费绩效目标表).

perf_layout reads the wide tables that list many projects, each with its amount left of the indicator
columns; a form has neither, so it reads as prose there. Here the project is the cell after 项目名称, its
amount the figure after 资金总额, and each indicator the 三级指标 cell with the 指标值 cell on its row, the
measure the 三级指标 cell states in brackets ("考务费（万元）" + "≤23.9" → 考务费, ≤23.9万元). The output
is perf_layout's: a title paragraph naming the project, then a key-value Grid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from budgetqa.index.read.blocks import Block, Grid, Paragraph
from budgetqa.index.read.layout import Chunk, Line

NAME_WORD = "项目名称"
AMOUNT_WORD = "资金总额"
LABEL_HEAD = "三级指标"
VALUE_HEAD = "指标值"
_FIGURE = re.compile(r"^(?P<cmp>[≥≤＞＜><=＝]?)\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>%|％)?$")
_BRACKET_UNIT = re.compile(r"[（(](?P<unit>[^（）()]{1,6})[)）]\s*$")
_MONEY = re.compile(r"^\d[\d,]*(?:\.\d+)?$")
_MEASURE = re.compile(r"[（(](万元|元|亿元)[)）]")


@dataclass
class _Row:
    label: str
    figure: str
    page: int | None
    y: float
    quote: str


def form_blocks(title: str, measure: str, lines: list[Line]) -> list[Block]:
    """Title paragraph + one key-value Grid for the form's project; [] when the lines are no such form."""
    name = _after(lines, NAME_WORD)
    head = next((k for k, ln in enumerate(lines) if _has(ln[2], LABEL_HEAD) and _has(ln[2], VALUE_HEAD)), None)
    if not name or head is None:
        return []
    label_col, value_col = _span(lines[head][2], LABEL_HEAD), _span(lines[head][2], VALUE_HEAD)
    rows = _rows(lines[head + 1:], label_col, value_col)
    if not rows:
        return []
    unit = measure or next((m.group(1) for _, t, _, _, _ in lines[:head] if (m := _MEASURE.search(t))), "")
    page = lines[0][0]
    out: list[tuple[str, str]] = []
    quotes: list[str] = []
    pages: list[int | None] = []
    amount = _amount(lines[:head])
    if amount is not None:
        out.append((f"资金总额（{unit}）" if unit else "资金总额", amount[0]))
        quotes.append(amount[1])
        pages.append(amount[2])
    for r in rows:
        out.append((r.label, r.figure))
        quotes.append(r.quote)
        pages.append(r.page)
    return [Paragraph(f"{name} {title}".strip(), page), Grid(tuple(out), page, tuple(quotes), tuple(pages))]


def _has(cs: list[Chunk], word: str) -> bool:
    return any(c.text.replace(" ", "").startswith(word) for c in cs)


def _after(lines: list[Line], word: str) -> str:
    """The text cells after the cell that says `word`, on its line."""
    for _, _, cs, _, _ in lines:
        k = next((k for k, c in enumerate(cs) if c.text.replace(" ", "").startswith(word)), None)
        if k is not None:
            rest = "".join(c.text for c in cs[k + 1:] if c.kind == "text").strip()
            if rest:
                return rest
    return ""


def _amount(lines: list[Line]) -> tuple[str, str, int | None] | None:
    """The figure after 资金总额 (实施期资金总额：360.77), with its line and page."""
    for page, text, cs, _, _ in lines:
        k = next((k for k, c in enumerate(cs) if AMOUNT_WORD in c.text), None)
        if k is None:
            continue
        figure = next((c.text for c in cs[k + 1:] if _MONEY.match(c.text)), None)
        if figure is not None:
            return figure, text.strip(), page
    return None


def _span(cs: list[Chunk], word: str) -> tuple[float, float]:
    """The header cell's extent: its drawn borders, else half way to its neighbours."""
    k = next(k for k, c in enumerate(cs) if c.text.replace(" ", "").startswith(word))
    c = cs[k]
    if c.cell_lo is not None and c.cell_hi is not None:
        return float(c.cell_lo), float(c.cell_hi)
    lo = (cs[k - 1].end + c.start) / 2 if k > 0 else float("-inf")
    hi = (c.end + cs[k + 1].start) / 2 if k + 1 < len(cs) else float("inf")
    return lo, hi


def _inside(c: Chunk, span: tuple[float, float]) -> bool:
    mid = (c.start + c.end) / 2
    return span[0] <= mid <= span[1]


def _rows(lines: list[Line], label_col: tuple[float, float], value_col: tuple[float, float]) -> list[_Row]:
    """Indicator rows: a line with a figure under 指标值; a 三级指标 line without one is a wrapped label
    and joins the figure row nearest to it."""
    rows: list[_Row] = []
    loose: list[tuple[int, str, float]] = []
    for page, text, cs, _, y in lines:
        label = "".join(c.text for c in cs if c.kind == "text" and _inside(c, label_col)).strip()
        figure = " ".join(c.text for c in cs if _inside(c, value_col)).strip()
        if figure:
            rows.append(_Row(label, figure, page, y, text.strip()))
        elif label:
            loose.append((len(rows), label, y))
    for after, label, y in loose:
        prev = rows[after - 1] if after > 0 else None
        nxt = rows[after] if after < len(rows) else None
        if prev is not None and (nxt is None or abs(y - prev.y) <= abs(nxt.y - y)):
            prev.label += label
        elif nxt is not None:
            nxt.label = label + nxt.label
    return [r for r in (_figure(r) for r in rows) if r is not None]


def _figure(r: _Row) -> _Row | None:
    """"考务费（万元）" + "≤23.9" -> 考务费, ≤23.9万元; a figure that is no number ("9月底") is left out."""
    m = _FIGURE.match(r.figure.replace(" ", ""))
    if m is None or not r.label:
        return None
    label, unit = r.label, m.group("unit") or ""
    b = _BRACKET_UNIT.search(label)
    if b is not None:
        label, unit = label[: b.start()].strip() or label, unit or b.group("unit")
    cmp = {"＝": "=", "=": "="}.get(m.group("cmp"), m.group("cmp"))
    return _Row(label, f"{cmp}{m.group('num')}{unit}", r.page, r.y, r.quote)
