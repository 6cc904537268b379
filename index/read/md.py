"""Markdown renderings: pipe tables become Grids, `#` lines Headings, other lines Paragraphs.

Page markers are HTML comments `<!-- 第N页 -->`.
"""

from __future__ import annotations

import re

from budgetqa.index.read.blocks import Block, Grid
from budgetqa.index.read.text import clean_cell, page_lines, text_block

PAGE_COMMENT = re.compile(r"^\s*<!--\s*第\s*(\d+)\s*页\s*-->\s*$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def read_md(text: str) -> tuple[list[Block], int | None, str]:
    lines = list(page_lines(text, PAGE_COMMENT))
    pages = max((p for _, p in lines if p is not None), default=None)
    blocks: list[Block] = []
    grid: list[tuple[list[str], str, int | None]] = []

    def close() -> None:
        if grid:
            width = max(len(c) for c, _, _ in grid)
            rows = tuple(tuple(c + [""] * (width - len(c))) for c, _, _ in grid)
            blocks.append(Grid(rows, grid[0][2], tuple(q for _, q, _ in grid), tuple(p for _, _, p in grid)))
            grid.clear()

    for line, page in lines:
        stripped = line.strip()
        if stripped.startswith("|"):
            if not _SEPARATOR.match(stripped):
                cells = _pipe_cells(stripped)
                grid.append((cells, "\t".join(cells), page))
            continue
        if not stripped:
            continue  # a blank line between a table's page halves does not end it
        close()
        blocks.append(text_block(stripped, page))
    close()
    return blocks, pages, "md"


def _pipe_cells(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    parts = re.split(r"(?<!\\)\|", body)
    return [clean_cell(p.replace("\\|", "|")) for p in parts]
