"""Space-aligned 项目支出绩效目标表 (pdftotext -layout) -> one small key-value Grid per project.

These tables wrap every cell over several lines and print each project's merged cells (code,
name, 资金总额, 绩效目标) once per page, vertically centred on the project's rows. So instead of
columns we read records: an indicator is a run of adjacent lines right of the 一级指标 column
whose "anchor" line carries a comparator (≥ ≤ =); its 指标值 is the first bare number there, its
unit the short cell before the comparator (or right after the number when the comparator leads)
and its name the text wrapped just left of the number. A project owns the rows from where the
previous one ended down to twice its centre line's distance from there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from budgetqa.index.read.blocks import Block, Grid, Paragraph

Token = tuple[int, int, str]  # start, end, text
PerfLine = tuple[int | None, str, list[Token], float]  # page, text, cells split at spaces, y

_CMP = ("≥", "≤", "=", "＝", "<", ">", "＜", "＞")
_QUANTITATIVE = "定量"  # a 指标值类型 cell in place of a comparator: the value as printed
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_MONEY = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}$")
_UNIT = re.compile(r"^[^\d\s，。、]{1,3}(?:/[^\d\s，。、]{1,2}){0,2}$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CLOSING = "满意度"
_HEADER_WORDS = ("一级指标", "三级指标")
_LABEL_WIDTH = 13  # characters a wrapped 三级指标 cell reaches left of its 指标值, without a header


@dataclass(frozen=True)
class Project:
    name: str
    amount: str
    page: int | None
    y: float
    quote: str


@dataclass(frozen=True)
class Indicator:
    label: str
    figure: str
    page: int | None
    y: float
    quote: str
    closes: bool  # a 满意度 indicator: the last group of a project


def tokens(cells: list[Token]) -> list[Token]:
    """Cells split at single spaces too: a wrapped 二级指标 sits one space left of the 三级指标."""
    return [(start + m.start(), start + m.end(), m.group()) for start, _, text in cells
            for m in re.finditer(r"\S+", text)]


def perf_blocks(title: str, measure: str, lines: list[PerfLine]) -> list[Block]:
    """Title paragraph + Grid per project ([资金总额（万元）, amount], [指标, ≥90%] …); [] when the
    lines do not read as a project target table (no project line or no indicator)."""
    projects: list[Project] = []
    owned: dict[int, list[Indicator]] = {}
    for page in dict.fromkeys(ln[0] for ln in lines):
        on_page = _line_numbers([ln for ln in lines if ln[0] == page])
        split = _split_column(on_page)
        if split is None:
            continue
        label_lo = _label_column(on_page)
        body = _body(on_page)
        by_y = {y: toks for _, _, toks, y in on_page}
        found = [_project(ln, split, by_y) for ln in body]
        here = [p for p in found if p is not None]
        index: list[int] = []
        for p in here:
            if not projects or projects[-1].name != p.name:  # the same name on the next page goes on
                projects.append(p)
            index.append(len(projects) - 1)
        if projects:
            _assign(_indicators(body, split, label_lo), list(zip(here, index, strict=True)), len(projects) - 1,
                    body[0][3] if body else 0.0, owned)
    if not projects or not owned:
        return []
    return _emit(title, measure, projects, owned)


def _line_numbers(page_lines: list[PerfLine]) -> list[PerfLine]:
    """Positions as line numbers: a text rendering gives them already (blank lines counted), a PDF
    gives points, so divide by the usual distance between two lines of one wrapped cell."""
    ys = [ln[3] for ln in page_lines]
    steps = sorted(b - a for a, b in zip(ys, ys[1:], strict=False) if b > a)
    if not steps:
        return page_lines
    pitch = steps[len(steps) // 4]
    if pitch <= 0 or pitch == 1:
        return page_lines
    return [(p, text, toks, float(round((y - ys[0]) / pitch))) for p, text, toks, y in page_lines]


def _split_column(page_lines: list[PerfLine]) -> int | None:
    """Where the indicator columns start: the 一级指标 header cell."""
    for ln in page_lines[:10]:
        for start, _, tok in ln[2]:
            if tok.startswith("一级指标"):
                return start - 2
    return None


def _label_column(page_lines: list[PerfLine]) -> int | None:
    """Where 三级指标 cells start: past the 二级指标 cells, which the header centres over theirs."""
    for ln in page_lines[:10]:
        starts = {tok: start for start, _, tok in ln[2]}
        if "二级指标" in starts and "三级指标" in starts:
            a, b = starts["二级指标"], starts["三级指标"]
            return a + round(0.6 * (b - a))
    return None


def _body(page_lines: list[PerfLine]) -> list[PerfLine]:
    last = max((k for k, ln in enumerate(page_lines[:10]) if any(w in ln[1] for w in _HEADER_WORDS)), default=-1)
    return page_lines[last + 1:]


def _project(line: PerfLine, split: int, by_y: dict[float, list[Token]]) -> Project | None:
    """A line with a money figure left of the indicator columns: [code] name amount. A long name
    wraps onto the lines around the amount, left of it."""
    page, text, toks, y = line
    left = [t for t in toks if t[0] < split]
    k = next((k for k, t in enumerate(left) if _MONEY.match(t[2])), None)
    if k is None:
        return None
    amount = left[k]
    before = left[k - 1] if k > 0 else None
    if before is not None and _CJK.search(before[2]):
        name = before[2]
        below = [t for t in _column(by_y.get(y + 1, []), before[0] - 2, amount[0] + 1)]
        if below and below[0][2][0] in "）)":
            name += below[0][2]
    else:
        lo = before[1] if before is not None else 0
        name = "".join(t[2] for dy in (-1, 1) for t in _column(by_y.get(y + dy, []), lo, amount[0] + 1))
    if not name:
        return None
    return Project(name, amount[2], page, y, text.strip())


def _column(toks: list[Token], lo: int, hi: int) -> list[Token]:
    return [t for t in toks if t[0] >= lo and t[1] <= hi and not _MONEY.match(t[2])
            and not _NUMBER.match(t[2])]


def _indicators(body: list[PerfLine], split: int, label_lo: int | None) -> list[Indicator]:
    runs: list[list[tuple[PerfLine, list[Token]]]] = []
    prev_y = None
    for ln in body:
        right = [t for t in ln[2] if t[0] >= split]
        if not right:
            prev_y = None
            continue
        if prev_y is None or ln[3] - prev_y > 1:
            runs.append([])
        runs[-1].append((ln, right))
        prev_y = ln[3]
    out: list[Indicator] = []
    for run in runs:
        anchors = [k for k, (_, toks) in enumerate(run) if any(_is_cmp(t[2]) for t in toks)]
        for a in anchors:
            mine = [r for k, r in enumerate(run) if min(anchors, key=lambda b: abs(b - k)) == a]
            ind = _indicator(run[a], mine, label_lo)
            if ind is not None:
                out.append(ind)
    return out


def _indicator(anchor: tuple[PerfLine, list[Token]], group: list[tuple[PerfLine, list[Token]]],
               label_lo: int | None) -> Indicator | None:
    (page, text, _, y), toks = anchor
    k_cmp = next(k for k, t in enumerate(toks) if _is_cmp(t[2]))
    k_num = next((k for k, t in enumerate(toks[:-1]) if _NUMBER.match(t[2])), None)
    if k_num is None:
        return None
    num = toks[k_num]
    if k_cmp == k_num - 1:  # "≤ 28398.17 万元": comparator and unit around the number
        unit = toks[k_num + 1][2] if k_num + 1 < len(toks) and _UNIT.match(toks[k_num + 1][2]) else ""
        ref = toks[k_cmp][0]
    else:
        unit = toks[k_cmp - 1][2] if k_cmp > k_num + 1 and _UNIT.match(toks[k_cmp - 1][2]) else ""
        ref = num[0]
    label = "".join(t[2] for _, ts in group for t in ts
                    if t[0] >= (ref - _LABEL_WIDTH if label_lo is None else label_lo) and t[1] <= ref - 1 and not _NUMBER.match(t[2]))
    if not label:
        return None
    closes = any(_CLOSING in t[2] for _, ts in group for t in ts if t[0] < num[0])
    cmp = toks[k_cmp][2] if toks[k_cmp][2] in _CMP else ""
    return Indicator(label, f"{cmp}{num[2]}{unit}", page, y, text.strip(), closes)


def _is_cmp(text: str) -> bool:
    return text in _CMP or text == _QUANTITATIVE


def _assign(inds: list[Indicator], here: list[tuple[Project, int]], current: int, top: float,
            owned: dict[int, list[Indicator]]) -> None:
    """Each project printed on this page owns rows from where the previous one ended to twice its
    centre's distance from there, or down to the last 满意度 indicator before the next project's
    centre; a page without a project line goes on with the current one."""
    ends: list[tuple[float, int]] = []
    start = top
    for k, (p, idx) in enumerate(here):
        end = max(2 * p.y - start, p.y)
        if k + 1 < len(here):
            closing = [i.y for i in inds if i.closes and p.y < i.y < here[k + 1][0].y]
            end = closing[-1] + 0.5 if closing else min(end, here[k + 1][0].y)
        ends.append((end, idx))
        start = end
    for ind in inds:
        idx = next((i for end, i in ends if ind.y < end), ends[-1][1] if ends else current)
        owned.setdefault(idx, []).append(ind)


def _emit(title: str, measure: str, projects: list[Project], owned: dict[int, list[Indicator]]) -> list[Block]:
    out: list[Block] = []
    for i, p in enumerate(projects):
        rows = [(f"资金总额（{measure}）" if measure else "资金总额", p.amount)]
        quotes = [p.quote]
        pages = [p.page]
        for ind in owned.get(i, []):
            rows.append((ind.label, ind.figure))
            quotes.append(ind.quote)
            pages.append(ind.page)
        out.append(Paragraph(f"{p.name} {title}".strip(), p.page))
        out.append(Grid(tuple(rows), p.page, tuple(quotes), tuple(pages)))
    return out
