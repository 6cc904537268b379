"""PDF files with a text layer, read with PyMuPDF character boxes and the layout reader's table logic.

Each page becomes visual lines (characters sharing a baseline, sorted left to right); a line's
cells are runs of characters separated by a gap wider than half an em. Cell positions are in
half-em units, so the layout reader clusters columns exactly as it does for pdftotext output.
This avoids `page.find_tables()` (about 1.5 s a page here) and its character-order mix-ups
in Word-made PDFs ("1668 14." for 1668.14).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from budgetqa.errors import NoTextLayer, UnreadableDocument
from budgetqa.index.read.blocks import Block
from budgetqa.index.read.layout import Chunk, LayoutReader, Line, _kind, _split_mixed, retype
from budgetqa.index.read.raw import strip_page_numbers
from budgetqa.index.read.ruled_rows import PdfLine, horizontal_rules, join_ruled_rows

Char = tuple[float, float, float, float, str, float]  # x0, y0, x1, y1, text, size
Direction = tuple[int, int]  # a text line's direction, rounded: (1, 0) upright, (0, -1) reads bottom to top
UPRIGHT: Direction = (1, 0)
SPLIT_EM = 0.5  # a gap wider than this (in em) separates two cells
WIDE_EM = 2.0  # a gap this wide is printed as a column gap ("   ") in the line text


def read_pdf(name: str, data: bytes) -> tuple[list[Block], int | None, str]:
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # PyMuPDF raises several types for broken files
        raise UnreadableDocument(name, f"文件已损坏或不是有效的 PDF（{exc}）") from exc
    with doc:
        if doc.needs_pass:
            raise UnreadableDocument(name, "PDF 已加密，需要密码才能读取")
        if doc.page_count == 0:
            raise UnreadableDocument(name, "PDF 没有任何页面")
        pages = doc.page_count
        lines: list[tuple[int | None, str]] = []
        cells: list[tuple[list[Chunk], float]] = []
        by_page: list[list[tuple[str, list[Chunk], float]]] = []
        for number in range(1, pages + 1):
            try:
                by_page.append(visual_lines(doc[number - 1]))
            except Exception as exc:  # a damaged content stream
                raise UnreadableDocument(name, f"第{number}页无法解析（{exc}）") from exc
        running = running_headers([[t for t, _, _ in pl] for pl in by_page])
        for number, page_lines in enumerate(by_page, 1):
            texts = strip_page_numbers(number, [t for t, _, _ in page_lines])
            kept = iter(texts)
            want = next(kept, None)
            edge = {0, 1, len(page_lines) - 2, len(page_lines) - 1}
            for k, (text, cs, y) in enumerate(page_lines):
                if text == want:
                    if not ((k == 0 and _squeeze(text) in running) or (k in edge and is_page_footer(text))):
                        lines.append((number, text))
                        cells.append((cs, y))
                    want = next(kept, None)
    if not any(t.strip() for _, t in lines):
        raise NoTextLayer(name, pages)
    return PdfReader(lines, cells).run(), pages, "pdf"


def _squeeze(text: str) -> str:
    return "".join(text.split())


PAGE_WORDS = "第页共，,/ -－—of"  # "第7页，共45页", "7/45", "- 7 -"


def is_page_footer(text: str) -> bool:
    """"第7页，共45页": a page number with the page count. A line of it after a ruled table would read as
    prose and end the table, which goes on over the page break."""
    core = "".join(ch for ch in text if ch not in PAGE_WORDS)
    return len(text) <= 16 and core.isdigit() and any(ch in text for ch in "页/")


def running_headers(pages: list[list[str]]) -> frozenset[str]:
    """A line that opens most pages ("无锡市水利局2026 年度部门预算公开"): a running header. A table that
    goes on over a page break opens the next page with it, and must not end there."""
    if len(pages) < 4:
        return frozenset()
    seen: dict[str, int] = {}
    for texts in pages:
        if texts:
            first = _squeeze(texts[0])
            seen[first] = seen.get(first, 0) + 1
    return frozenset(t for t, n in seen.items() if n >= 0.6 * len(pages) and len(t) >= 6)


class PdfReader(LayoutReader):
    """The layout reader over PDF lines whose cells come from character boxes."""

    def __init__(self, lines: list[tuple[int | None, str]], cells: list[tuple[list[Chunk], float]]) -> None:
        super().__init__(lines)
        self.chunked = cells

    def cells(self, i: int) -> tuple[list[Chunk], list[Chunk], float]:
        cs, y = self.chunked[i]
        return cs, cs, y

    def _leaves_table(self, i: int, body: list[Line]) -> bool:
        """Past a table drawn with cell borders, a line with none on the same page is prose (the
        next heading and its paragraph), not a row: a 培训费明细表 must not swallow "共有车辆7辆"."""
        cs, _ = self.chunked[i]
        page = self.lines[i][0]
        ruled = any(c.cell_lo is not None for ln in body if ln[0] == page for c in ln[2])
        return ruled and bool(cs) and all(c.cell_lo is None for c in cs)


def visual_lines(page: Any) -> list[tuple[str, list[Chunk], float]]:
    """(text, cells, vertical centre in points) for each line of the page, top to bottom.

    A landscape table printed rotated 90° on a portrait page has its text running up or down the
    page: the page is read in the frame of its main text direction, so its lines come out as on any
    upright page."""
    raw = page.get_text("rawdict")
    frame = reading_direction(raw)
    chars = _chars(raw, frame)
    if not chars:
        return []
    unit = statistics.median(c[5] for c in chars) / 2 or 5.0
    drawings = page.get_cdrawings()
    borders = _vertical_borders(drawings, frame)
    lines: list[PdfLine] = []
    for row in _rows(chars):
        base = _glyph_middle(row)
        cs = _ruled(_cells(row, unit, _borders_at(borders, base)), borders, base, unit)
        if cs:
            lines.append(PdfLine(_line_text(cs, unit), cs, statistics.fmean((c[1] + c[3]) / 2 for c in row),
                                 statistics.median(c[5] for c in row)))
    rules = horizontal_rules(drawings, lambda *xy: _turn_rect(frame, *xy))
    return [(_line_text(ln.cells, unit), ln.cells, ln.y) for ln in join_ruled_rows(lines, rules, unit)]


def reading_direction(raw: dict[str, Any]) -> Direction:
    """The page's main text direction, as one of the four right angles, weighted by characters."""
    weight: dict[Direction, int] = {}
    for block in raw["blocks"]:
        for line in block.get("lines", []):
            dx, dy = line["dir"]
            if abs(dx) > 0.9 or abs(dy) > 0.9:
                d = (round(dx), round(dy))
                weight[d] = weight.get(d, 0) + sum(len(span["chars"]) for span in line["spans"])
    return max(weight, key=lambda d: (weight[d], d == UPRIGHT)) if weight else UPRIGHT


def _turn(frame: Direction, x: float, y: float) -> tuple[float, float]:
    """A page point in the reading frame: x along the text direction, y down across the lines."""
    dx, dy = frame
    return x * dx + y * dy, -x * dy + y * dx


def _turn_rect(frame: Direction, x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
    xs, ys = zip(*(_turn(frame, x, y) for x, y in ((x0, y0), (x1, y1))), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def _vertical_borders(drawings: list[dict[str, Any]], frame: Direction = (1, 0)) -> list[tuple[float, float, float]]:
    """Vertical cell borders (x, top, bottom) drawn on the page, in the reading frame: lines and thin
    rectangles."""
    out: list[tuple[float, float, float]] = []
    for path in drawings:
        for item in path["items"]:
            if item[0] == "l":
                (x0, y0), (x1, y1) = _turn(frame, *item[1]), _turn(frame, *item[2])
                if abs(x1 - x0) < 1 and abs(y1 - y0) > 2:
                    out.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
            elif item[0] == "re":
                x0, y0, x1, y1 = _turn_rect(frame, *item[1])
                if abs(x1 - x0) < 2 and abs(y1 - y0) > 2:
                    out.append(((x0 + x1) / 2, min(y0, y1), max(y0, y1)))
                elif abs(y1 - y0) > 2 and abs(x1 - x0) >= 2 and path.get("fill") is None:
                    out.extend([(x0, min(y0, y1), max(y0, y1)), (x1, min(y0, y1), max(y0, y1))])
    return out


def _glyph_middle(row: list[Char]) -> float:
    """Half a font size above the baseline: a border counts at a line's height when it runs past the
    middle of its glyphs. The baseline itself can sit on the rule under the line, where the borders
    of the header row below start (上年 over 合计 … 培训费 would take the narrower cell below it)."""
    return statistics.fmean(c[1] for c in row) - statistics.median(c[5] for c in row) / 2


def _borders_at(borders: list[tuple[float, float, float]], y: float) -> list[float]:
    return sorted(x for x, top, bottom in borders if top - 1 <= y <= bottom + 1)


def _ruled(cells: list[Chunk], borders: list[tuple[float, float, float]], base: float, unit: float) -> list[Chunk]:
    """Attach to each cell the nearest borders left and right of it at its height."""
    if not borders:
        return cells
    out = []
    near = _borders_at(borders, base)
    for c in cells:
        x0, x1 = c.start * unit, c.end * unit
        left = max((x for x in near if x <= x0 + unit / 2), default=None)
        right = min((x for x in near if x >= x1 - unit / 2), default=None)
        if left is None or right is None:
            out.append(c)
            continue
        cell = Chunk(c.start, c.end, c.text, c.kind, round(left / unit), round(right / unit))
        prev = out[-1] if out else None
        if prev and prev.kind == c.kind == "text" and (prev.cell_lo, prev.cell_hi) == (cell.cell_lo, cell.cell_hi):
            # letter-spaced words ("项    目") are one cell
            out[-1] = Chunk(prev.start, c.end, prev.text + c.text, "text", prev.cell_lo, prev.cell_hi)
        else:
            out.append(cell)
    return out


def _chars(raw: dict[str, Any], frame: Direction = UPRIGHT) -> list[Char]:
    """The characters of lines running in the page's reading direction, in that frame; text at
    other angles (stamps, side notes) is left out."""
    out: list[Char] = []
    for block in raw["blocks"]:
        for line in block.get("lines", []):
            dx, dy = line["dir"]
            if abs(dx - frame[0]) > 0.1 or abs(dy - frame[1]) > 0.1:
                continue
            for span in line["spans"]:
                size = span["size"]
                for ch in span["chars"]:
                    # the baseline, not the box: some producers give CJK and Latin glyphs boxes of
                    # very different heights, so box centres of one printed line disagree
                    x0, _, x1, _ = _turn_rect(frame, *ch["bbox"])
                    base = _turn(frame, *ch["origin"])[1]
                    out.append((x0, base, x1, base, ch["c"], size))
    return out


def _rows(chars: list[Char]) -> list[list[Char]]:
    """Characters whose baselines are within a third of the font size share a line."""
    chars = sorted(chars, key=lambda c: (c[1] + c[3]) / 2)
    rows: list[list[Char]] = []
    centre = -1e9
    for c in chars:
        mid = (c[1] + c[3]) / 2
        if rows and abs(mid - centre) <= c[5] * 0.7:
            rows[-1].append(c)
        else:
            rows.append([c])
            centre = mid
    return [sorted(r, key=lambda c: c[0]) for r in rows]


def _cells(row: list[Char], unit: float, borders: Sequence[float] = ()) -> list[Chunk]:
    """Runs of characters; a gap wider than half an em, or a drawn border between two characters
    ("公务用车购置 公务用车运行": two header cells printed close together), starts a new cell."""
    groups: list[list[Char]] = []
    crossed: set[int] = set()  # groups opened by a border across their first glyph
    last_x1 = -1e9
    for c in row:
        if c[4].isspace():
            continue
        between = any(last_x1 - 0.5 <= b <= c[0] + 0.5 for b in borders)
        # text centred in a cell wider than the cell spills over its border: a border across a glyph
        # right of its middle opens the next cell ("预算数支出经济…"), and so does a glyph drawn over the
        # one before it
        across = any(c[0] + 0.5 < b < (c[0] + c[2]) / 2 for b in borders) and last_x1 > 0
        across = across or (bool(borders) and c[0] < last_x1 - 0.25 * c[5])
        if not groups or c[0] - last_x1 > SPLIT_EM * c[5] or between or across:
            if across and not between and groups:
                crossed.add(len(groups))
            groups.append([])
        elif c[0] - last_x1 > 0.15 * c[5] and groups[-1]:
            groups[-1].append((last_x1, c[1], c[0], c[3], " ", c[5]))  # a word space inside a cell
        groups[-1].append(c)
        last_x1 = max(last_x1, c[2])
    for k in sorted(crossed, reverse=True):
        if len(groups[k]) == 1:  # one glyph past the border ends its run ("补助", "（一）"): clipped, not a cell
            groups[k - 1].extend(groups.pop(k))
            continue
        first = groups[k][0]  # the cell clips the spilled glyph at its border: the text starts there
        edge = max((b for b in borders if b <= first[2]), default=first[0])
        groups[k][0] = (max(first[0], edge + 0.5), *first[1:])
    out: list[Chunk] = []
    for g in groups:
        out.extend(_typed(g, unit))
    return retype(out)


def _typed(group: list[Char], unit: float) -> list[Chunk]:
    """Split "1668.14 一、一般公共服务支出" style runs into a figure and a label."""
    text = "".join(c[4] for c in group)
    out: list[Chunk] = []
    pos = 0
    for part in _split_mixed(text):
        k = text.index(part, pos)
        first, last = group[k], group[k + len(part) - 1]
        out.append(Chunk(round(first[0] / unit), round(last[2] / unit), part.strip(), _kind(part.strip())))
        pos = k + len(part)
    return [c for c in out if c.text]


def _line_text(cs: list[Chunk], unit: float) -> str:
    parts = [cs[0].text]
    for a, b in zip(cs, cs[1:], strict=False):
        parts.append(("   " if b.start - a.end >= WIDE_EM * 2 else " ") + b.text)
    return "".join(parts)
