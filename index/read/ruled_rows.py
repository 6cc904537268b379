"""Table rows as the PDF draws them: the lines printed between two horizontal rules are one row.

A spreadsheet exported to PDF wraps a long label over two or three lines inside its cell and centres
the row's figures vertically, so a figure sits on a line of its own between the label's lines
("其中：专项资金列入部门" / "182.88" / "预算的项目"). Read line by line, the figure becomes a row without
a label and the label's second half a row without figures. The drawn rules say where each row starts
and ends: lines with no rule between them, enclosed by a rule above and one below that run the width
of the row, are one row, each cell's wrapped text joined top to bottom.

Rowspan cells (a project name beside its several indicator rows) are not joined: the rules around
them do not run the whole width of the lines beside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from budgetqa.index.read.layout import Chunk

Rule = tuple[float, float, float]  # y, x0, x1 (points, in the page's reading frame)
NEAR = 1.6  # lines of one cell are at most this many font sizes apart
ENCLOSED = 2.2  # the rules around a row lie within this many font sizes of its first and last line
SPAN = 0.9  # a row's enclosing rules cover this share of its width


@dataclass(frozen=True)
class PdfLine:
    text: str
    cells: list[Chunk]
    y: float  # baseline, points
    size: float  # font size, points

    @property
    def middle(self) -> float:
        """The middle of its CJK glyphs, which stand about 0.8 of the font size above the baseline."""
        return self.y - 0.35 * self.size


def horizontal_rules(drawings: list[dict[str, Any]], turn: Any) -> list[Rule]:
    """Horizontal rules (y, x0, x1): lines, thin rectangles and the top and bottom of outlined
    rectangles; `turn` maps a page rectangle into the reading frame."""
    out: list[Rule] = []
    for path in drawings:
        for item in path["items"]:
            if item[0] == "l":
                x0, y0, x1, y1 = turn(*item[1], *item[2])
                if y1 - y0 < 1 and x1 - x0 > 2:
                    out.append(((y0 + y1) / 2, x0, x1))
            elif item[0] == "re":
                x0, y0, x1, y1 = turn(*item[1])
                if y1 - y0 < 2 and x1 - x0 > 2:
                    out.append(((y0 + y1) / 2, x0, x1))
                elif y1 - y0 >= 2 and x1 - x0 > 2 and path.get("fill") is None:
                    out.extend([(y0, x0, x1), (y1, x0, x1)])
    return out


def join_ruled_rows(lines: list[PdfLine], rules: list[Rule], unit: float) -> list[PdfLine]:
    """Consecutive ruled lines with no rule between them, enclosed by rules across their width, as one line."""
    if not rules:
        return lines
    out: list[PdfLine] = []
    group: list[PdfLine] = []
    for line in lines:
        if group and _continues(group, line, rules, unit):
            group.append(line)
            continue
        out.extend(_closed(group, rules, unit))
        group = [line]
    out.extend(_closed(group, rules, unit))
    return out


def _span(lines: list[PdfLine], unit: float) -> tuple[float, float]:
    return (min(c.start for ln in lines for c in ln.cells) * unit, max(c.end for ln in lines for c in ln.cells) * unit)


def _ruled(line: PdfLine) -> bool:
    return bool(line.cells) and all(c.cell_lo is not None for c in line.cells)


def _continues(group: list[PdfLine], line: PdfLine, rules: list[Rule], unit: float) -> bool:
    last = group[-1]
    if not (_ruled(last) and _ruled(line)) or line.y - last.y > NEAR * max(last.size, line.size):
        return False
    x0, x1 = _span([last, line], unit)
    top, bottom = last.middle + 0.2 * last.size, line.middle - 0.2 * line.size
    if any(top <= y <= bottom and min(rx1, x1) - max(rx0, x0) > unit for y, rx0, rx1 in rules):
        return False
    # one figure a cell, and never a figure and words in one cell: a header glyph that overflows into the
    # first row's band (clipped in print) is no part of that row
    filled = {(c.cell_lo, c.cell_hi) for ln in group for c in ln.cells if c.kind != "text"}
    worded = {(c.cell_lo, c.cell_hi) for ln in group for c in ln.cells if c.kind == "text"}
    return not any((c.cell_lo, c.cell_hi) in (filled if c.kind == "text" else filled | worded) for c in line.cells)


def _closed(group: list[PdfLine], rules: list[Rule], unit: float) -> list[PdfLine]:
    """The group as one line when rules across its width close it above and below; else its lines."""
    if len(group) < 2:
        return group
    x0, x1 = _span(group, unit)
    size = max(ln.size for ln in group)

    def across(lo: float, hi: float) -> bool:
        return any(lo <= y <= hi and min(rx1, x1) - max(rx0, x0) >= SPAN * (x1 - x0) for y, rx0, rx1 in rules)

    first, last = group[0], group[-1]
    if not (across(first.middle - ENCLOSED * size, first.middle - 0.2 * size)
            and across(last.middle + 0.2 * size, last.middle + ENCLOSED * size)):
        return group
    return [_joined(group)]


def _joined(group: list[PdfLine]) -> PdfLine:
    """Cells of the group's lines merged per drawn cell: wrapped text joined top to bottom."""
    by_cell: dict[tuple[int | None, int | None, str], Chunk] = {}
    order: list[tuple[int | None, int | None, str]] = []
    for ln in group:
        for c in ln.cells:
            key = (c.cell_lo, c.cell_hi, "text" if c.kind == "text" else f"{c.kind}{c.start}")
            old = by_cell.get(key)
            if old is None:
                by_cell[key] = c
                order.append(key)
            else:
                # the first line's extent: the wrapped rest must not widen the column towards its neighbour
                by_cell[key] = Chunk(old.start, old.end, old.text + c.text, "text", c.cell_lo, c.cell_hi)
    cells = sorted((by_cell[k] for k in order), key=lambda c: (c.start, c.end))
    text = " ".join(c.text for c in cells)
    return PdfLine(text, cells, sum(ln.y for ln in group) / len(group), max(ln.size for ln in group))
