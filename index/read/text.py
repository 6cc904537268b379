"""Text renderings whose tables are TSV (the seed format) or quoted CSV.

Lines become blocks: markdown-ish `#` headings, prose lines as Paragraphs, runs of table lines as
Grids. Page markers (`===== 第N页 =====`) set the page; running page headers and "- N -" footers
are dropped so a table split by a page break stays one grid.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator

from budgetqa.index.read.blocks import Block, Grid, Heading, Paragraph

PAGE_MARK = re.compile(r"^\s*=+\s*第\s*(\d+)\s*页\s*=+\s*$")
_FOOTER = re.compile(r"^\s*[-－—]\s*\d+\s*[-－—]\s*$|^\s*第\s*\d+\s*页\s*(共\s*\d+\s*页)?\s*$")
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|\*\*")
_TOC = re.compile(r"\.{4,}|…{3,}")
_THOUSANDS = re.compile(r"\d,\d{3}(?!\d)")
_RULE = re.compile(r"^[\s\-=:|+]*$")
# Caption lines that pdf table extractors put into the grid: they belong to the title, not the table.
_CAPTION = re.compile(r"^(部门|单位|编制部门|填报单位|预算主管部门|部门/单位|金额单位)\s*[：:]|^(公开|预算|附表)?\s*\d+(\s*-\s*\d+)?\s*表$|表$")

Splitter = Callable[[str], list[str] | None]


def looks_tsv(text: str) -> bool:
    """True when several lines hold two or more tab-separated non-empty cells."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    rows = sum(1 for ln in lines if "\t" in ln and len(_nonempty(ln.split("\t"))) >= 2)
    return rows >= 3 and rows * 20 >= len(lines)


def looks_csv(text: str) -> bool:
    """True when several lines are comma-separated rows with empty or quoted fields.

    Layout text also holds commas (thousands separators), but never ",," or ',"'.
    """
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if sum(1 for ln in lines if "\t" in ln) * 20 >= len(lines) > 0:
        return False
    rows = sum(1 for ln in lines if (",," in ln or ',"' in ln or '",' in ln) and _csv_cells(ln))
    return rows >= 3 and rows * 20 >= len(lines)


def read_tsv_text(text: str) -> tuple[list[Block], int | None, str]:
    return _read(text, _tsv_cells, "tsv")


def read_csv_text(text: str) -> tuple[list[Block], int | None, str]:
    return _read(text, _csv_cells, "csv")


def _tsv_cells(line: str) -> list[str] | None:
    if "\t" not in line:
        return None
    return [clean_cell(c) for c in line.split("\t")]


def _csv_cells(line: str) -> list[str] | None:
    if "," not in line or "。" in line or "，" in line:
        return None
    try:
        cells = next(csv.reader([line]))
    except (csv.Error, StopIteration):
        return None
    if len(cells) < 3 and '"' not in line and _THOUSANDS.search(line):
        return None  # "收入预算18,976.76万元": a figure's thousands separator, not a field separator
    return [clean_cell(c) for c in cells] if len(cells) >= 2 else None


def clean_cell(cell: str) -> str:
    return _MARKUP.sub("", cell).replace("\u3000", " ").strip()


def _nonempty(cells: list[str]) -> list[str]:
    return [c for c in cells if c.strip()]


def _read(text: str, split: Splitter, layout: str) -> tuple[list[Block], int | None, str]:
    lines = list(page_lines(text))
    pages = max((p for _, p in lines if p is not None), default=None)
    blocks: list[Block] = []
    grid: list[tuple[list[str], str, int | None]] = []

    def close() -> None:
        if grid:
            blocks.append(_grid(grid))
            grid.clear()

    for line, page in lines:
        cells = split(line) if line.strip() else None
        if cells is not None and not all(_RULE.match(c) for c in cells):
            filled = _nonempty(cells)
            caption = bool(filled) and all(_CAPTION.search(c) for c in filled) or bool(_TOC.search(line))
            if not caption and (grid or len(filled) >= 2):
                grid.append((cells, line.strip("\r\n"), page))
                continue
            line = "  ".join(filled)
        if not line.strip() or (cells is not None and not _nonempty(cells)):
            continue  # blank lines and rule lines do not break a table (page breaks render as blanks)
        close()
        blocks.append(text_block(line, page))
    close()
    return blocks, pages, layout


def text_block(line: str, page: int | None) -> Block:
    """A prose line: markdown `#` headings keep their level, bold and bullets are dropped."""
    stripped = line.strip()
    m = re.match(r"^(#{1,6})\s*(.*)$", stripped)
    if m:
        return Heading(clean_cell(m.group(2)), len(m.group(1)), page)
    stripped = re.sub(r"^[-*]\s+", "", stripped)
    return Paragraph(clean_cell(stripped), page)


def _grid(rows: list[tuple[list[str], str, int | None]]) -> Grid:
    width = max(len(c) for c, _, _ in rows)
    cells = tuple(tuple(c + [""] * (width - len(c))) for c, _, _ in rows)
    return Grid(cells, rows[0][2], tuple(q for _, q, _ in rows), tuple(p for _, _, p in rows))


def page_lines(text: str, mark: re.Pattern[str] = PAGE_MARK) -> Iterator[tuple[str, int | None]]:
    """Lines with their page, page markers consumed and running headers/footers dropped."""
    page: int | None = None
    per_page: list[tuple[int | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        m = mark.match(line)
        if m:
            page = int(m.group(1))
            per_page.append((page, []))
            continue
        per_page[-1][1].append(line)
    running = _running_headers(per_page)
    for pg, body in per_page:
        for line in body:
            key = line.strip()
            if _FOOTER.match(key) or key in running:
                continue
            yield line, pg


def _running_headers(per_page: list[tuple[int | None, list[str]]]) -> set[str]:
    """Lines printed at the top of most pages (e.g. "无锡市信访局2025 年度部门预算公开")."""
    firsts: Counter[str] = Counter()
    for _, body in per_page:
        top = [ln.strip() for ln in body if ln.strip()][:1]
        firsts.update(t for t in top if "\t" not in t and "," not in t)
    n = len(per_page)
    return {t for t, k in firsts.items() if k >= 3 and k * 3 >= n}
