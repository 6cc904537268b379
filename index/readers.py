"""Pick the layout reader for a file and turn it into a Document.

Readers (read_text, read_md, read_html, read_raw, read_layout, read_pdf) each map a file's
content to blocks; `assemble` does the budget-specific work once for all layouts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from budgetqa.errors import UnreadableDocument
from budgetqa.index.assemble import assemble
from budgetqa.index.blocks import Block
from budgetqa.index.model import Document

SUPPORTED = (".pdf", ".md", ".markdown", ".html", ".htm", ".txt", ".tsv", ".csv")


def read_document(path: Path) -> Document:
    """Parse one file; raises UnreadableDocument naming the file and the reason."""
    data = _read_bytes(path)
    blocks, pages, layout = read_blocks(path, data)
    return assemble(path.name, hashlib.sha256(data).hexdigest(), blocks, pages, layout)


def read_blocks(path: Path, data: bytes) -> tuple[list[Block], int | None, str]:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnreadableDocument(path.name, f"不支持的文件类型“{suffix or '无扩展名'}”，支持：{'、'.join(SUPPORTED)}")
    if suffix == ".pdf":
        from budgetqa.index.read_pdf import read_pdf

        return read_pdf(path.name, data)
    text = _decode(path.name, data)
    if suffix in (".md", ".markdown"):
        from budgetqa.index.read_md import read_md

        return read_md(text)
    if suffix in (".html", ".htm"):
        from budgetqa.index.read_html import read_html

        return read_html(text)
    return _read_plain(text, suffix)


def _read_plain(text: str, suffix: str) -> tuple[list[Block], int | None, str]:
    """A .txt may hold TSV, CSV, space-aligned layout text, raw PDF text (one cell per line) or rows as
    single-space-separated lines (spaced)."""
    from budgetqa.index import read_layout, read_raw, read_spaced, read_text

    if suffix == ".csv" or read_text.looks_csv(text):
        return read_text.read_csv_text(text)
    if suffix == ".tsv" or read_text.looks_tsv(text):
        return read_text.read_tsv_text(text)
    if read_layout.looks_layout(text):
        return read_layout.read_layout(text)
    if read_raw.looks_raw(text):
        return read_raw.read_raw(text)
    if read_spaced.looks_spaced(text):
        return read_spaced.read_spaced(text)
    return read_text.read_tsv_text(text)


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(path.name, f"无法读取文件（{exc.strerror or exc}）") from exc
    if not data.strip():
        raise UnreadableDocument(path.name, "文件为空")
    return data


def _decode(name: str, data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableDocument(name, "无法识别文本编码（需要 UTF-8 或 GB18030）")
