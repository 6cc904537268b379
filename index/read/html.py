"""HTML renderings: <table> -> Grid (colspan/rowspan expanded as empty cells), <h1>-<h6> -> Heading,
other block text (<p>, <div>, <li>) -> Paragraph. Page markers are comments `<!-- 第N页 -->`.
"""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from budgetqa.index.read.blocks import Block, Grid, Heading, Paragraph
from budgetqa.index.read.text import clean_cell

_PAGE = re.compile(r"第\s*(\d+)\s*页")
_BLOCK_TAGS = {"p", "div", "li", "td", "th", "caption", "span", "pre"}


def read_html(text: str) -> tuple[list[Block], int | None, str]:
    soup = BeautifulSoup(text, "lxml")
    root = soup.body or soup
    state = {"page": None, "max": None}
    blocks: list[Block] = []
    _walk(root, blocks, state)
    return blocks, state["max"], "html"


def _walk(node: Tag, blocks: list[Block], state: dict) -> None:
    for child in node.children:
        if isinstance(child, Comment):
            m = _PAGE.search(str(child))
            if m:
                state["page"] = int(m.group(1))
                state["max"] = max(state["max"] or 0, state["page"])
            continue
        if isinstance(child, NavigableString):
            text = clean_cell(str(child))
            if text:
                blocks.append(Paragraph(text, state["page"]))
            continue
        if not isinstance(child, Tag) or child.name in ("script", "style", "head", "title"):
            continue
        if child.name == "table":
            grid = _table(child, state["page"])
            if grid is not None:
                blocks.append(grid)
        elif re.fullmatch(r"h[1-6]", child.name):
            blocks.append(Heading(_text(child), int(child.name[1]), state["page"]))
        elif child.name == "br":
            continue
        elif child.find(["table", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li"]) is not None:
            _walk(child, blocks, state)
        else:
            text = _text(child)
            if text:
                blocks.append(Paragraph(text, state["page"]))


def _text(tag: Tag) -> str:
    return clean_cell(re.sub(r"\s*\n\s*", "", tag.get_text("")))


def _table(table: Tag, page: int | None) -> Grid | None:
    rows: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}  # (row, col) cells covered by a rowspan from above
    for r, tr in enumerate(table.find_all("tr")):
        row: list[str] = []
        col = 0
        for cell in tr.find_all(["td", "th"], recursive=False):
            while (r, col) in pending:
                row.append(pending.pop((r, col)))
                col += 1
            span = _int(cell.get("colspan"))
            down = _int(cell.get("rowspan"))
            row.append(_text(cell))
            row.extend([""] * (span - 1))
            for k in range(1, down):
                for j in range(span):
                    pending[(r + k, col + j)] = ""
            col += span
        while (r, col) in pending:
            row.append(pending.pop((r, col)))
            col += 1
        rows.append(row)
    rows = [r for r in rows if any(c for c in r)]
    if not rows:
        return None
    width = max(len(r) for r in rows)
    cells = tuple(tuple(r + [""] * (width - len(r))) for r in rows)
    return Grid(cells, page, tuple("\t".join(c for c in r if c) for r in cells))


def _int(value: object) -> int:
    try:
        return max(1, int(str(value)))
    except (TypeError, ValueError):
        return 1
