"""Small budget PDFs drawn with PyMuPDF's built-in CJK font, for reader and page-image tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

FONT = "china-s"  # PyMuPDF's built-in CJK font
SIZE = 10


def text(page: Any, x: float, y: float, words: str, size: int = SIZE) -> None:
    page.insert_text((x, y), words, fontname=FONT, fontsize=size)


def rows(page: Any, table: Sequence[Sequence[str]], *, top: float, labels: Sequence[float] = (72,),
         first_right: float = 340, step: float = 90) -> None:
    """A table as a PDF prints one: label columns left-aligned at `labels`, figures right-aligned
    from `first_right` every `step` points, a row every 20 points from `top`."""
    import pymupdf

    for k, row in enumerate(table):
        y = top + 20 * k
        for x, cell in zip(labels, row, strict=False):
            text(page, x, y, cell)
        for j, cell in enumerate(row[len(labels):]):
            right = first_right + step * j
            text(page, right - pymupdf.get_text_length(cell, fontname=FONT, fontsize=SIZE), y, cell)
