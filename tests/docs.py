"""Load a seed or corpus-extra document through its layout reader (for the parser tests)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytest
from budgetqa.index.model import Document
from budgetqa.index.read.blocks import Grid, Paragraph

from tests.paths import EXTRA

SEEDS = Path(__file__).resolve().parent.parent / "index" / "corpus"


@functools.cache
def load(name: str) -> Document:
    path = SEEDS / name if (SEEDS / name).is_file() else EXTRA / name
    if not path.is_file():
        pytest.skip(f"{name} not present")
    from budgetqa.index.read.readers import read_document

    try:
        return read_document(path)
    except ImportError:  # a sibling reader (read_layout) not written yet: dispatch the known layouts here
        return _fallback(path)


def _fallback(path: Path) -> Document:
    from budgetqa.index.read import html as read_html
    from budgetqa.index.read import read_md, read_raw, read_text
    from budgetqa.index.read.assemble import assemble

    text = path.read_text(encoding="utf-8-sig")
    if path.suffix == ".md":
        blocks = read_md.read_md(text)
    elif path.suffix == ".html":
        blocks = read_html.read_html(text)
    elif read_text.looks_csv(text):
        blocks = read_text.read_csv_text(text)
    elif read_text.looks_tsv(text):
        blocks = read_text.read_tsv_text(text)
    else:
        blocks = read_raw.read_raw(text)
    return assemble(path.name, sha(path), *blocks)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def grid_titled(blocks: list, title: str) -> Grid:
    """The first grid after the paragraph that prints `title`."""
    for i, b in enumerate(blocks):
        if isinstance(b, Paragraph) and b.text.strip() == title:
            return next(g for g in blocks[i:] if isinstance(g, Grid))
    raise AssertionError(title)
