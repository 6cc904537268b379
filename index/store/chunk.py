"""Retrieval chunks: one per table row, and section prose split on paragraph boundaries.

Every chunk's text starts with the unit, year and kind (and a row chunk names its table), so a
lexical or dense match on "福州市医疗保障局 公务接待费" lands on the right document's row, and two
units' identical rows never have identical text. Ids hash the document name, chunk kind and
position: re-indexing a document reproduces the same ids, so vector upserts overwrite in place.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from budgetqa.index.model import Document, Fact, Row, Section, Table

ChunkType = Literal["row", "text"]
TARGET_CHARS = 400  # a paragraph group stays under this unless one paragraph alone is longer
HARD_CHARS = 800
MIN_TEXT_CHARS = 8  # a single paragraph longer than this is cut at sentence ends


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    # doc, unit, year, kind, section, table, row, code, page, chunk_type, position; never None values
    metadata: dict[str, Any] = field(hash=False)

    @property
    def chunk_type(self) -> str:
        return str(self.metadata.get("chunk_type", ""))


def make_chunks(doc: Document, facts: list[Fact]) -> list[Chunk]:
    """Row chunks for every table row, then text chunks for every section with prose."""
    del facts  # rows are read from the document's tables; facts stay the checker's business
    head = _doc_head(doc)
    chunks: list[Chunk] = []
    for ti, table in enumerate(doc.tables):
        for ri, row in enumerate(table.rows):
            chunks.append(_row_chunk(doc, head, table, row, f"row:{ti}:{ri}"))
    for si, section in enumerate(doc.sections):
        for pi, piece in enumerate(split_text(section.text)):
            if len(piece) < MIN_TEXT_CHARS:
                continue  # a stray heading line: matches the unit name and nothing else
            chunks.append(_text_chunk(doc, head, section, piece, f"text:{si}:{pi}"))
    return chunks


def chunk_id(doc: str, position: str) -> str:
    return hashlib.sha256(f"{doc}\x1f{position}".encode()).hexdigest()[:32]


def row_text(head: str, table: Table, row: Row) -> str:
    """'福州市医疗保障局 2024年 预算 | 表名 | 30217 公务接待费 | 预算数 5.00 万元；…'."""
    label = f"{row.code} {row.label}" if row.code and not row.label.startswith(row.code) else row.label
    measure = f" {table.measure}" if table.measure else ""
    values = [f"{col} {cell}{measure}" if col else f"{cell}{measure}"
              for col, cell in zip(_columns(table, row), row.cells, strict=False) if cell.strip()]
    parts = [head, table.title, label.strip()]
    if values:
        parts.append("；".join(values))
    return " | ".join(p for p in parts if p)


def split_text(text: str, target: int = TARGET_CHARS) -> list[str]:
    """Group paragraphs into pieces of about `target` chars; cut over-long paragraphs at sentence ends."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
    pieces: list[str] = []
    current = ""
    for para in (s for p in paragraphs for s in _cut_long(p)):
        if current and len(current) + len(para) + 1 > target:
            pieces.append(current)
            current = para
        else:
            current = f"{current}\n{para}" if current else para
    if current:
        pieces.append(current)
    return pieces


def _cut_long(paragraph: str) -> list[str]:
    if len(paragraph) <= HARD_CHARS:
        return [paragraph]
    sentences = [s for s in re.split(r"(?<=[。；！？])", paragraph) if s]
    out: list[str] = []
    current = ""
    for sentence in sentences:
        if current and len(current) + len(sentence) > TARGET_CHARS:
            out.append(current)
            current = ""
        current += sentence
    if current:
        out.append(current)
    # a sentence with no stop at all is still cut, so no chunk exceeds what the embedder reads
    return [p[i:i + HARD_CHARS] for p in out for i in range(0, len(p), HARD_CHARS)]


def _columns(table: Table, row: Row) -> tuple[str, ...]:
    cols = table.columns
    return cols + ("",) * (len(row.cells) - len(cols)) if len(cols) < len(row.cells) else cols


def _doc_head(doc: Document) -> str:
    year = f"{doc.year}年" if doc.year else ""
    return " ".join(p for p in (doc.unit, year, doc.kind or "") if p)


def _base_meta(doc: Document) -> dict[str, Any]:
    meta: dict[str, Any] = {"doc": doc.name, "unit": doc.unit, "layout": doc.layout}
    if doc.year is not None:
        meta["year"] = doc.year
    if doc.kind:
        meta["kind"] = doc.kind
    return meta


def _row_chunk(doc: Document, head: str, table: Table, row: Row, position: str) -> Chunk:
    meta = _base_meta(doc) | {"chunk_type": "row", "section": table.section, "table": table.title,
                              "row": row.label, "quote": row.quote, "measure": table.measure,
                              "position": position}
    if row.code:
        meta["code"] = row.code
    if row.page is not None:
        meta["page"] = row.page
    return Chunk(chunk_id(doc.name, position), row_text(head, table, row), meta)


def _text_chunk(doc: Document, head: str, section: Section, piece: str, position: str) -> Chunk:
    path = " > ".join(section.path) if section.path else section.title
    meta = _base_meta(doc) | {"chunk_type": "text", "section": section.title, "table": "", "row": "",
                              "position": position}
    if section.page is not None:
        meta["page"] = section.page
    return Chunk(chunk_id(doc.name, position), f"{head} | {path}\n{piece}", meta)
