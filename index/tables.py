"""Grid -> table rows: header detection, header flattening, label/code columns, code completion.

Layout-agnostic: every reader produces Grids of cell strings; merged cells arrive as "".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from budgetqa.index.blocks import Grid
from budgetqa.index.model import Row, parse_number

NUMBER = re.compile(r"^[-－]?\d{1,3}(,\d{3})+(\.\d+)?$|^[-－]?\d+(\.\d+)?%?$")
CODE = re.compile(r"^\d{2,9}$")
TOTAL = re.compile(r"^(合\s*计|总\s*计|小\s*计|本年.{0,6}合计|收入总计|支出总计|收\s*入\s*总\s*计|支\s*出\s*总\s*计)$")
_COL_NO = re.compile(r"^(\*\*|\d{1,2}|栏次|行次|栏\s*次|行\s*次)$")
_CODE_HEAD = re.compile(r"编码|代码|^[类款项]$|^序号$|^编号$")
_LABEL_HEAD = re.compile(r"名称|项\s*目|科目|单位|内容|指标")
_SPLIT_CODE = ("类", "款", "项")


def norm(text: str) -> str:
    """Drop PDF spacing inside Chinese text ("收 入" -> "收入", "2024 年度" -> "2024年度")."""
    t = text.replace("\u3000", " ").strip()
    return re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", t)


def is_number(cell: str) -> bool:
    return bool(NUMBER.match(cell.strip().replace(" ", "")))


@dataclass(frozen=True)
class Layout:
    """How a table's grid columns map to code, label and value columns."""

    width: int
    header: tuple[tuple[str, ...], ...]
    code_cols: tuple[int, ...]
    segments: tuple[tuple[int, tuple[int, ...]], ...]  # (label column or -1, value columns)
    columns: tuple[str, ...]  # flattened name per value column, in segment order
    transpose: bool = False  # a header-only table with one row of figures (三公 in some layouts)
    value_names: tuple[str, ...] = ()  # flattened header names of the value columns (row labels when transposed)


def split_header(rows: list[tuple[str, ...]]) -> int:
    """Number of leading header rows: those before the first row holding a figure, a code or a total."""
    for i, row in enumerate(rows[:8]):
        if _is_data(row):
            return i
    return 1 if len(rows) > 1 else 0


def _is_data(row: tuple[str, ...]) -> bool:
    cells = [c.strip() for c in row]
    filled = [c for c in cells if c]
    if filled and TOTAL.match(norm(filled[0])) and all(is_number(c) for c in filled[1:]):
        return True
    if cells and CODE.match(cells[0]) and len([c for c in cells if c]) >= 2:
        return True
    values = [c for c in cells if c]
    return any(is_number(c) for c in values)


def is_column_numbers(row: tuple[str, ...]) -> bool:
    """The "栏次 1 2 3" / "** ** 1 2 3" rows under a header."""
    vals = [c.strip() for c in row if c.strip()]
    return len(vals) >= 2 and all(_COL_NO.match(v) for v in vals) and any(not v.isdigit() for v in vals) \
        or (len(vals) >= 3 and all(v.isdigit() for v in vals) and [int(v) for v in vals] == list(
            range(int(vals[0]), int(vals[0]) + len(vals))))


def flatten(header: list[tuple[str, ...]], width: int) -> list[str]:
    """One name per column: merged (empty) cells inherit from the left within the parent's span."""
    filled: list[list[str]] = []
    for r, row in enumerate(header):
        cur = [norm(c) for c in row] + [""] * (width - len(row))
        if r < len(header) - 1:
            for c in range(1, width):
                same_parent = all(filled[p][c] == filled[p][c - 1] for p in range(r))
                if not cur[c] and cur[c - 1] and same_parent:
                    cur[c] = cur[c - 1]
        filled.append(cur)
    names = []
    for c in range(width):
        levels: list[str] = []
        for r in range(len(filled)):
            v = re.sub(r"^其中\s*[：:]", "", filled[r][c]).strip()
            if v and (not levels or levels[-1] != v):
                levels.append(v)
        names.append("/".join(levels))
    return names


def plan(header: list[tuple[str, ...]], data: list[tuple[str, ...]], width: int) -> Layout:
    names = flatten(header, width)
    kinds = [_kind(names[c], [r[c] for r in data if c < len(r)], c) for c in range(width)]
    code_cols = tuple(c for c in range(width) if kinds[c] == "code")
    segments: list[tuple[int, list[int]]] = []
    for c in range(width):
        if kinds[c] == "label":
            if segments and not segments[-1][1]:
                segments[-1][1].append(c)  # a second text column before any value: a value column
                continue
            segments.append((c, []))
        elif kinds[c] == "value":
            if not segments:
                segments.append((-1, []))
            segments[-1][1].append(c)
    segs = [(lab, vals) for lab, vals in segments if vals or lab >= 0]
    if len(segs) > 1 and not _paired(names, segs):
        segs = [(segs[0][0], [c for c in range(width) if c not in code_cols and c != segs[0][0]])]
    columns = tuple(_column_name(names, lab, v, len(segs) > 1) for lab, vals in segs for v in vals)
    frozen = tuple((lab, tuple(vals)) for lab, vals in segs)
    transpose = len(segs) == 1 and segs[0][0] < 0 and not code_cols and len(data) <= 2
    return Layout(width, tuple(header), code_cols, frozen, columns, transpose, columns)


def _paired(names: list[str], segs: list[tuple[int, list[int]]]) -> bool:
    """Side-by-side 收入 | 支出 blocks: every block is one label column followed by figures."""
    return all(lab >= 0 and vals for lab, vals in segs) and all(_LABEL_HEAD.search(names[lab]) or
                                                                  "收" in names[lab] or "支" in names[lab]
                                                                  for lab, _ in segs)


def _column_name(names: list[str], label: int, col: int, paired: bool) -> str:
    name = names[col]
    if paired and label >= 0:
        top = names[label].split("/")[0]
        leaf = names[label].split("/")[-1]
        if top and not name.startswith(top):
            name = f"{top}/{name}"
        if leaf and leaf != top and not re.fullmatch(r"项目", leaf):
            name = name.replace("/", f"/{leaf}/", 1) if "/" in name else f"{leaf}/{name}"
    return name


def _kind(name: str, cells: list[str], col: int) -> str:
    leaf = name.split("/")[-1]
    vals = [c.strip() for c in cells if c.strip()]
    if _CODE_HEAD.search(leaf) and not re.search(r"名称", leaf):
        return "code"
    if not vals:
        return "label" if _LABEL_HEAD.search(leaf) and not re.search(r"数|额|计|费|支出$|收入$", leaf) else "value"
    numeric = sum(1 for v in vals if is_number(v))
    codes = sum(1 for v in vals if CODE.match(v))
    if col <= 1 and codes and codes + sum(1 for v in vals if TOTAL.match(norm(v))) >= len(vals) * 0.8 \
            and not any("." in v for v in vals):
        return "code"
    if numeric * 2 > len(vals):
        return "value"
    return "label"


def make_rows(layout: Layout, grid_rows: list[tuple[int, tuple[str, ...]]], grid: Grid,
              codes: CodeCompleter) -> list[Row]:
    """Rows of one grid under a layout; for paired blocks one Row per block per printed line."""
    rows: list[Row] = []
    total = len(layout.columns)
    for i, cells in grid_rows:
        cells = cells + ("",) * (layout.width - len(cells))
        if layout.transpose:
            rows.extend(_transposed(layout, cells, grid, i))
            continue
        code = codes.complete(_code(layout, cells), _first_amount(layout, cells))
        offset = 0
        for label_col, vals in layout.segments:
            label = norm(cells[label_col]) if label_col >= 0 else ""
            values = [cells[v].strip() for v in vals]
            if len(layout.segments) > 1 and not label and not any(values):
                offset += len(vals)
                continue
            if not label and code and not CODE.match(code):
                label, code = norm(code), None
            row_cells = [""] * total
            row_cells[offset:offset + len(vals)] = values
            rows.append(Row(label, code if offset == 0 else None, tuple(row_cells), grid.page_of(i),
                            grid.quote(i)))
            offset += len(vals)
    return rows


def _transposed(layout: Layout, cells: tuple[str, ...], grid: Grid, i: int) -> list[Row]:
    out = []
    for _, vals in layout.segments:
        for k, v in enumerate(vals):
            parts = layout.value_names[k].split("/")
            label = parts[-1]
            if re.fullmatch(r"小计|合计", label) and len(parts) > 1:
                label = parts[-2]
            out.append(Row(label, None, (cells[v].strip(),), grid.page_of(i), grid.quote(i)))
    return out


def _first_amount(layout: Layout, cells: tuple[str, ...]) -> Decimal | None:
    vals = layout.segments[0][1] if layout.segments else ()
    return parse_number(cells[vals[0]]) if vals else None


def _code(layout: Layout, cells: tuple[str, ...]) -> str | None:
    parts = [cells[c].strip().replace(" ", "") for c in layout.code_cols]
    parts = [p for p in parts if p]
    if not parts:
        return None
    if all(CODE.match(p) for p in parts):
        return "".join(parts)
    squashed = "".join(parts)
    return squashed if CODE.match(squashed) else norm(parts[0])


class CodeCompleter:
    """Completes codes printed without their parents: "15" under "210" -> "21015", "01" -> "2101501".

    A short code is a child of the deepest open code unless that code is a leaf (项) or its
    children already add up to its amount, in which case it is a sibling one level up.
    """

    def __init__(self) -> None:
        self.stack: list[list] = []  # [code, amount, children_sum]

    def complete(self, code: str | None, amount: Decimal | None = None) -> str | None:
        if code is None or not CODE.match(code):
            return code
        full = code if len(code) >= 3 else self._with_parent(code)
        if full is None:
            return code
        self.stack = [e for e in self.stack if full.startswith(e[0]) and len(e[0]) < len(full)]
        if self.stack and amount is not None:
            self.stack[-1][2] += amount
        self.stack.append([full, amount, Decimal(0)])
        return full

    def _with_parent(self, short: str) -> str | None:
        for code, amount, children in reversed(self.stack):
            leaf = len(code) >= (7 if code.startswith("2") else 5)
            complete = amount is not None and amount != 0 and children >= amount
            if not leaf and not complete:
                return code + short
        return None
