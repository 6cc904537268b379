"""Grid -> table rows: header detection, header flattening, label/code columns, code completion.

Layout-agnostic: every reader produces Grids of cell strings; merged cells arrive as "".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from budgetqa.index.model import Row, parse_number
from budgetqa.index.read.blocks import Grid

NUMBER = re.compile(r"^[-－]?\d{1,3}(,\d{3})+(\.\d+)?$|^[-－]?\d+(\.\d+)?%?$")
CODE = re.compile(r"^\d{2,9}$")
TOTAL = re.compile(r"^(合\s*计|总\s*计|小\s*计|本年.{0,6}合计|收入总计|支出总计|收\s*入\s*总\s*计|支\s*出\s*总\s*计)$")
_COL_NO = re.compile(r"^(\*\*|\d{1,2}|栏次|行次|栏\s*次|行\s*次)$")
_CODE_HEAD = re.compile(r"编码|代码|^[类款项]$|^编号$")
_SKIP_HEAD = re.compile(r"行\s*次|栏\s*次|序\s*号")  # row/column numbers: neither label nor figure
_LABEL_HEAD = re.compile(r"名称|项\s*目|科目|单位|内容|指标")
_MEASURE_LEAF = re.compile(r"预算数|决算数|执行数|金额|预算金额|决算金额")
_ENUM = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+[、.．](?!\d)|[（(][一二三四五六七八九十\d]+[)）])")
_HEAD_WORD = re.compile(r"项\s*目|预算数|决算数|合\s*计|科目|编码|名称|金额|小计|收\s*入|支\s*出")


def norm(text: str) -> str:
    """Drop PDF spacing inside Chinese text ("收 入" -> "收入", "2024 年度" -> "2024年度")."""
    t = text.replace("\u3000", " ").strip()
    return re.sub(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])", "", t)


def is_number(cell: str) -> bool:
    return bool(NUMBER.match(cell.strip().replace(" ", "")))


@dataclass(frozen=True)
class Segment:
    """One block of columns: code column(s), a label column, value columns.

    Most tables have one; 收入 | 支出 side-by-side tables have one per side."""

    codes: tuple[int, ...]
    label: int  # -1 when the block has no label column
    values: tuple[int, ...]


@dataclass(frozen=True)
class Layout:
    """How a table's grid columns map to code, label and value columns."""

    width: int
    header: tuple[tuple[str, ...], ...]
    segments: tuple[Segment, ...]
    columns: tuple[str, ...]  # Table.columns: flattened name per value column, in segment order
    # a header-only table with one row of figures (三公 in some layouts): (label, column index, grid column)
    transposed: tuple[tuple[str, int, int], ...] = ()


def split_header(rows: list[tuple[str, ...]]) -> int:
    """Number of leading header rows: those before the first row holding a figure, a code or a total."""
    for i, row in enumerate(rows[:8]):
        if _is_data(row) or (i and _enumerated(row)):
            return i
    n = 0  # an empty table: its header is the rows that read like column names
    while n < len(rows) - 1 and sum(1 for c in rows[n] if _HEAD_WORD.search(c)) >= 2:
        n += 1
    return max(n, 1) if len(rows) > 1 else 0


def _enumerated(row: tuple[str, ...]) -> bool:
    """"一、部门预算" in every label column and no figure: the body's first heading row; a header cell
    never opens with an item number."""
    filled = [c.strip() for c in row if c.strip()]
    return bool(filled) and all(_ENUM.match(c) for c in filled)


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


def plan(header: list[tuple[str, ...]], data: list[tuple[str, ...]], width: int,
         default_column: str = "金额") -> Layout:
    names = flatten(header, width)
    kinds = [_kind(names[c], [r[c] for r in data if c < len(r)], c) for c in range(width)]
    segs = _segments(names, kinds)
    if len(segs) > 1 and not _paired(names, segs, kinds):
        segs = [_single(names, kinds, segs)]
    paired = len(segs) > 1
    columns = tuple(_column_name(names, sg.label, v, paired) for sg in segs for v in sg.values)
    if len(segs) == 1 and segs[0].label < 0 and not segs[0].codes and 0 < len(data) <= 2:
        return _transpose(width, header, names, segs[0], default_column)
    return Layout(width, tuple(header), tuple(segs), columns)


def _segments(names: list[str], kinds: list[str]) -> list[Segment]:
    """Split columns into blocks; a code or label column after figures starts a new block."""
    raw: list[tuple[list[int], int, list[int]]] = []
    for c, kind in enumerate(kinds):
        cur = raw[-1] if raw else None
        if kind == "code":
            split_part = names[c].split("/")[-1] in ("款", "项")
            if cur and not cur[2] and cur[1] < 0 and (split_part or not cur[0]):
                cur[0].append(c)
            elif cur and cur[0] and cur[1] < 0:
                cur[2].append(c)  # another code after a complete one (单位编码 after 科目编码): a value column
            elif cur and not cur[2] and cur[1] >= 0:
                cur[2].append(c)  # a second code column after the label (e.g. 政府经济科目编码)
            else:
                raw.append(([c], -1, []))
        elif kind == "label":
            if cur and not cur[2] and cur[1] < 0:
                raw[-1] = (cur[0], c, cur[2])
            elif cur and not cur[2]:
                cur[2].append(c)  # a second text column before any figure: a value column
            else:
                raw.append(([], c, []))
        elif kind != "skip":
            if not cur:
                raw.append(([], -1, []))
            raw[-1][2].append(c)
    return [Segment(tuple(cs), lab, tuple(vs)) for cs, lab, vs in raw if vs or lab >= 0]


def _single(names: list[str], kinds: list[str], segs: list[Segment]) -> Segment:
    """Not side by side: the first code block and the best label; every other column is a value."""
    codes = next((sg.codes for sg in segs if sg.codes), ())
    labels = [sg.label for sg in segs if sg.label >= 0]
    label = labels[0] if labels else -1
    values = tuple(c for c in range(len(kinds)) if c not in codes and c != label and kinds[c] != "skip")
    return Segment(codes, label, values)


def _transpose(width: int, header: list[tuple[str, ...]], names: list[str], seg: Segment,
               default_column: str) -> Layout:
    """Header-only tables: each header path becomes a row; 预算数/决算数 leaves become the columns."""
    columns: list[str] = []
    mapping: list[tuple[str, int, int]] = []
    for c in seg.values:
        parts = [p for p in names[c].split("/") if p]
        column = default_column
        measure_at = [k for k, part in enumerate(parts) if _MEASURE_LEAF.fullmatch(part)]
        if len(parts) > 1 and measure_at:
            column = parts.pop(measure_at[-1])
        label = parts[-1] if parts else ""
        if re.fullmatch(r"小计|合计", label) and len(parts) > 1:
            label = parts[-2]
        if column not in columns:
            columns.append(column)
        mapping.append((label, columns.index(column), c))
    return Layout(width, tuple(header), (seg,), tuple(columns), tuple(mapping))


def _paired(names: list[str], segs: list[Segment], kinds: list[str]) -> bool:
    """Side-by-side 收入 | 支出 blocks: every block is one label column followed by figures."""
    if any(kinds[v] != "value" for sg in segs for v in sg.values):
        return False
    return all(sg.label >= 0 and sg.values for sg in segs) and all(
        _LABEL_HEAD.search(names[sg.label]) or "收" in names[sg.label] or "支" in names[sg.label] for sg in segs)


def _column_name(names: list[str], label: int, col: int, paired: bool) -> str:
    """Side-by-side blocks get their side (收入/支出) and, when it says more than 项目, the label header."""
    name = names[col]
    if not paired or label < 0:
        return name
    top, leaf = names[label].split("/")[0], names[label].split("/")[-1]
    prefix = [p for p in (top if re.search(r"收|支", top) else "",
                          leaf if leaf != top and not re.fullmatch(r"项目|科目名称|名称", leaf) else "") if p]
    prefix = [p for p in prefix if not name.startswith(p)]
    return "/".join([*prefix, name])


def _kind(name: str, cells: list[str], col: int) -> str:
    leaf = name.split("/")[-1]
    vals = [c.strip() for c in cells if c.strip()]
    if _SKIP_HEAD.fullmatch(leaf):
        return "skip"
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
              codes: list[CodeCompleter]) -> list[Row]:
    """Rows of one grid under a layout; for side-by-side blocks one Row per block per printed line."""
    rows: list[Row] = []
    total = len(layout.columns)
    for i, cells in grid_rows:
        cells = cells + ("",) * (layout.width - len(cells))
        if layout.transposed:
            rows.extend(_transposed(layout, cells, grid, i))
            continue
        if len(layout.segments) == 1:
            cells = _realign_squashed(layout.segments[0], cells)
        offset = 0
        for k, seg in enumerate(layout.segments):
            values = [cells[v].strip() for v in seg.values]
            label = norm(cells[seg.label]) if seg.label >= 0 else ""
            if not label and seg.label >= 0:  # label printed in a later text column (indented project rows)
                label = next((norm(v) for v in values if v and not is_number(v)), "")
            code = _code(seg, cells)
            if len(layout.segments) > 1 and not label and not code and not any(values):
                offset += len(values)
                continue
            if code and not CODE.match(code):
                label, code = label or code, None
            elif k == 0 or seg.codes:
                code = codes[k].complete(code, parse_number(values[0]) if values else None) \
                    if k < len(codes) else code
            row_cells = [""] * total
            row_cells[offset:offset + len(values)] = values
            rows.append(Row(label, code, tuple(row_cells), grid.page_of(i), grid.quote(i)))
            offset += len(values)
    return own_rows(rows)


OWN = "本级"
CLASS_CODE_LENGTHS = (3, 5, 7)  # 类/款/项 of the 功能分类 and 经济分类


def own_rows(rows: list[Row]) -> list[Row]:
    """A department's table by unit prints its name twice: the department line ("116 西安市财政局") and,
    under it, its own offices ("116001 西安市财政局"), whose code extends the department's. The second
    is the unit's 本级 row, not the department's total. 科目编码 (3, 5 or 7 digits: 功能分类 "20899" over
    "2089999", both 其他社会保障和就业支出) are items, not units."""
    out: list[Row] = []
    for r in rows:
        unit_code = r.code is not None and len(r.code) not in CLASS_CODE_LENGTHS
        parent = next((p for p in out if unit_code and r.code and p.code and p.label == r.label
                       and r.code.startswith(p.code) and len(r.code) > len(p.code)), None)
        out.append(replace(r, label=r.label + OWN) if parent is not None and not r.label.endswith(OWN) else r)
    return out


def _realign_squashed(seg: Segment, cells: tuple[str, ...]) -> tuple[str, ...]:
    """"合计,"189,767,551","101,341,746",…": a total row whose empty code columns were squashed away,
    so its figures sit in the code/label columns. Put them back under the value columns, right-aligned."""
    filled = [c.strip() for c in cells if c.strip()]
    if not filled or not TOTAL.match(norm(filled[0])):
        return cells
    heads = [*seg.codes, *([seg.label] if seg.label >= 0 else [])]
    if not any(is_number(cells[c]) and not CODE.match(cells[c].strip()) for c in heads):
        return cells
    numbers = [c for c in filled[1:] if is_number(c)]
    if len(numbers) > len(seg.values):
        return cells
    out = [""] * len(cells)
    out[heads[0]] = filled[0]
    for col, value in zip(seg.values[len(seg.values) - len(numbers):], numbers, strict=True):
        out[col] = value
    return tuple(out)


def _transposed(layout: Layout, cells: tuple[str, ...], grid: Grid, i: int) -> list[Row]:
    by_label: dict[str, list[str]] = {}
    for label, col, c in layout.transposed:
        by_label.setdefault(label, [""] * len(layout.columns))[col] = cells[c].strip()
    return [Row(label, None, tuple(vals), grid.page_of(i), grid.quote(i)) for label, vals in by_label.items()]


def _code(seg: Segment, cells: tuple[str, ...]) -> str | None:
    parts = [cells[c].strip().replace(" ", "") for c in seg.codes]
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
