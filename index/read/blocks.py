"""What every layout reader produces: a flat, page-aware stream of headings, paragraphs and grids.

Readers know the file format and nothing about budgets; `assemble` turns blocks into a Document.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # markup level when the format has one (markdown #, <h2>), else 0 = unknown
    page: int | None


@dataclass(frozen=True)
class Paragraph:
    text: str
    page: int | None


@dataclass(frozen=True)
class Grid:
    """A table as the layout gives it: rows of cell strings (merged cells are ""), one quote per row."""

    rows: tuple[tuple[str, ...], ...]
    page: int | None
    quotes: tuple[str, ...] = ()  # the printed line of each row; defaults to tab-joined cells
    pages: tuple[int | None, ...] = ()  # page of each row when a grid spans pages

    def quote(self, i: int) -> str:
        return self.quotes[i] if i < len(self.quotes) else "\t".join(self.rows[i])

    def page_of(self, i: int) -> int | None:
        return self.pages[i] if i < len(self.pages) else self.page


Block = Heading | Paragraph | Grid
