"""项目支出绩效自评表 printed one cell per line (raw PDF text) -> key-value Grids.

The form is fixed: 项目名称 …, then "年度资金总额" followed by 年初预算数, 全年预算数, 全年执行数,
分值, 执行率, 得分; then indicator rows "指标1：name" (the name may wrap) followed by 年度指标值,
实际完成值, 分值, 得分. Category cells (产出指标, 数量/指标) sit between the rows. We keep the money
and the indicator values; 分值/得分 are the evaluation's scores, not the project's figures.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from budgetqa.index.read.blocks import Block, Grid, Paragraph

RawLine = tuple[int | None, str]

_TOTAL = "年度资金总额"
_INDICATOR = re.compile(r"指标\s*\d+\s*[：:]\s*")
_SCORE = re.compile(r"^\d+(?:\.\d+)?$")
_VALUE = re.compile(r"^(?:[-+]?[\d,]+(?:\.\d+)?%?|—|-)$")
_END = ("总分", "合计")
MONEY_COLUMNS = ("年初预算数", "全年预算数", "全年执行数")


def is_self_evaluation(title: str) -> bool:
    return "绩效自评表" in title and "整体" not in title


def self_evaluation_end(lines: list[RawLine], start: int) -> int:
    """Index after the form opened by the title at `start`: up to the next title of one."""
    for k in range(start + 1, len(lines)):
        if is_self_evaluation(lines[k][1].strip()):
            return k
        text = lines[k][1].strip()
        if text.startswith(_END):  # "总分" then its two figures, one a line or on the same line
            return min(k + (3 if text in _END else 1), len(lines))
    return len(lines)


def self_evaluation_blocks(lines: list[RawLine]) -> list[Block]:
    """Title, money grid and indicator grid of one form; [] when it is not laid out as expected."""
    texts = [s.strip() for _, s in lines]
    if _TOTAL not in texts:
        return []
    title_page, title = lines[0][0], texts[0]
    at = texts.index(_TOTAL)
    values = texts[at + 1: at + 7]
    rate = next((k for k, v in enumerate(values) if v.endswith("%")), None)
    if rate is None or rate < 3 or not all(_VALUE.match(v) for v in values[: rate + 1]):
        return []
    money_cells = _money(values[:rate], values[rate])
    # a 执行率 that 执行数 / 预算数 contradicts is a rendering slip ("10" 分值 run into "100%")
    shown = values[rate] if _ratio(money_cells[2], money_cells[1], values[rate], Decimal(1)) else ""
    money = Grid((("", "", *MONEY_COLUMNS, "执行率"), ("项目资金（万元）", _TOTAL, *money_cells, shown)),
                 lines[at][0], ("", " ".join([_TOTAL, *values])), (lines[at][0], lines[at][0]))
    out: list[Block] = [Paragraph(title, title_page), money]
    rows = _indicators(lines[at + 1:])
    # the assembler reads rows up to the first plain figure as header: lead with such a row
    rows.sort(key=lambda r: not (_VALUE.match(r[1]) or _VALUE.match(r[2])))
    if rows:
        grid_rows = (("三级指标", "年度指标值", "实际完成值"), *((label, target, actual) for label, target, actual, _, _ in rows))
        quotes = ("", *(q for *_, q, _ in rows))
        pages = (rows[0][4], *(p for *_, p in rows))
        out += [Paragraph(title, title_page), Grid(grid_rows, rows[0][4], quotes, pages)]
    return out


def _money(cells: list[str], rate: str) -> tuple[str, str, str]:
    """年初预算数, 全年预算数, 全年执行数 out of the cells before 执行率: the form prints 分值 between
    them, but some leave 分值 or 年初预算数 out; 执行率 = 执行数 / 全年预算数 tells which."""
    if len(cells) >= 4:
        return cells[0], cells[1], cells[2]
    if _ratio(cells[2], cells[1], rate):
        return cells[0], cells[1], cells[2]
    if _ratio(cells[1], cells[0], rate):
        return "", cells[0], cells[1]
    return cells[0], cells[1], cells[2]


def _ratio(done: str, budget: str, rate: str, within: Decimal = Decimal("0.1")) -> bool:
    try:
        a, b, r = (Decimal(x.replace(",", "").rstrip("%")) for x in (done, budget, rate))
    except InvalidOperation:
        return False
    return b != 0 and abs(a / b * 100 - r) < within


def _indicators(lines: list[RawLine]) -> list[tuple[str, str, str, str, int | None]]:
    """(name, 年度指标值, 实际完成值, printed text, page) per "指标N：" row."""
    starts = [k for k, (_, s) in enumerate(lines) if _INDICATOR.search(s)]
    out = []
    for n, k in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        cells = [s.strip() for _, s in lines[k:stop]]
        first = _INDICATOR.search(cells[0])
        cells[0] = cells[0][first.start():] if first else cells[0]  # "益指标指标1：…": a category cell ran in
        cells = cells[: next((i for i, c in enumerate(cells) if c in _END), len(cells))]
        # the row ends with 分值, 得分: the last two numbers in a row that have two cells before them
        j = max((i for i in range(3, len(cells) - 1) if _SCORE.match(cells[i]) and _SCORE.match(cells[i + 1])),
                default=None)
        if j is None:
            continue
        label = _INDICATOR.sub("", "".join(cells[: j - 2]), count=1)
        if label:
            out.append((label, cells[j - 2], cells[j - 1], " ".join(cells[: j + 2]), lines[k][0]))
    return out


_SCORE_HEAD = re.compile(r"^(?:自评)?(?:得分|分数|分值)$|^自评(?:得分|分数)$")


def score_list(lines: list[RawLine]) -> tuple[Grid, int] | None:
    """"项目名称" / "自评分数" then name and score lines in turn (a 项目自评 summary printed as
    text) -> a two-column Grid and the number of lines it took; None when the lines are not so."""
    texts = [s.strip() for _, s in lines]
    if len(texts) < 6 or texts[0] != "项目名称" or not _SCORE_HEAD.match(texts[1]):
        return None
    rows: list[tuple[str, str]] = []
    quotes: list[str] = []
    pages: list[int | None] = []
    name: list[str] = []
    k = 2
    while k < len(texts):
        t = texts[k]
        if _SCORE.match(t) and name:
            rows.append(("".join(name), t))
            quotes.append(" ".join([*name, t]))
            pages.append(lines[k][0])
            name = []
        elif t and not _SCORE.match(t) and len(t) <= 40 and not t.endswith(("。", "：", ":")) and len(name) < 3:
            name.append(t)
        else:
            break
        k += 1
    if len(rows) < 2:
        return None
    k -= len(name)  # a name without its score belongs to what follows
    grid = Grid(((texts[0], texts[1]), *rows), lines[0][0], (" ".join(texts[:2]), *quotes), (lines[0][0], *pages))
    return grid, k


SCORE_LIST_TITLE = "项目绩效自评表"  # printed without a title: name it by what it is, so it reads as a target table
