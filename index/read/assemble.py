"""Blocks -> Document: sections, tables (title, measure, flattened header, code/label split), metadata.

Shared by every layout reader, so it relies only on the printed text: section numbering
(第一部分 / 一、 / （一） / 1.), "xxx表" title lines, "单位：万元" lines, and the grids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from budgetqa.index.model import Document, Row, Section, Table
from budgetqa.index.read import meta
from budgetqa.index.read.blocks import Block, Grid, Heading, Paragraph
from budgetqa.index.read.tables import (
    CodeCompleter,
    Layout,
    is_column_numbers,
    make_rows,
    norm,
    plan,
    split_header,
)

_LEVELS = (
    (1, re.compile(r"^第[一二三四五六七八九十]+部分")),
    (2, re.compile(r"^[一二三四五六七八九十]+\s*[、.．]")),
    (3, re.compile(r"^[（(]\s*[一二三四五六七八九十]+\s*[）)]")),
    (4, re.compile(r"^\d{1,2}\s*[.．、](?!\d)")),
)
_TOC = re.compile(r"\.{4,}|…{2,}|·{4,}|\s\d{1,3}$")
_MEASURE = re.compile(r"单位\s*[：:]\s*(?:人民币)?\s*(万元|亿元|元)")
_MEASURE_PART = re.compile(r"[（(]?\s*(?:金额)?单位\s*[：:]\s*(?:人民币)?\s*(?:万元|亿元|元)\s*[）)]?")
_TITLE_LABEL = re.compile(r"^(公开\s*\d+\s*表|表\s*\d+(-\d+)?|附表\s*\d+(\s*-\s*\d+)?|预算\s*\d+\s*表)$")
_TITLE_END = re.compile(r"表\s*([（(][^）)]{0,30}[）)])?$")
_NOT_TITLE = re.compile(r"[。，；]|见下表|如下表|下表|详见|注\s*[：:]")
_HEADWORD = re.compile(r"(说明|情况|职能|职责|概况|机构设置|名词解释|主要任务)$")
_FIGURE = re.compile(r"\d+(\.\d+)?\s*(万元|元|亿元|%)")


@dataclass
class _Open:
    """A table being built; later grids may continue it across a page break."""

    title: str
    section: str
    measure: str
    layout: Layout
    rows: list[Row]
    page: int | None
    codes: list[CodeCompleter] = field(default_factory=list)  # one per side-by-side block


@dataclass
class _State:
    sections: list[Section] = field(default_factory=list)
    stack: list[tuple[int, str]] = field(default_factory=list)
    texts: list[list[str]] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    label: str = ""
    measure: str = ""
    tables: list[_Open] = field(default_factory=list)
    since_grid: int = 0  # text blocks seen since the last grid
    parts: bool = False  # the document numbers its parts 第一部分…


def assemble(name: str, sha256: str, blocks: list[Block], pages: int | None, layout: str) -> Document:
    info = meta.describe(name, blocks)
    st = _State()
    for block in blocks:
        if isinstance(block, Grid):
            _grid(st, block, info.kind)
        else:
            _text(st, block)
    sections = tuple(_finish_sections(st))
    tables = tuple(Table(t.title, t.section, t.measure, t.layout.columns, tuple(t.rows), t.page)
                   for t in st.tables)
    return Document(name, sha256, info.unit, info.aliases, info.year, info.kind, info.subunits,
                    sections, tables, pages, layout, info.title)


def section_level(text: str, marked: bool = False) -> int:
    """1..4 for numbered headings, 0 for plain prose; unmarked lines longer than a PDF line's
    usual wrap point are list items, not headings."""
    t = text.strip()
    if _TOC.search(t) or len(t) > (40 if marked else 28) or _NOT_TITLE.search(t) or _FIGURE.search(t) or t.endswith("："):
        return 0
    for level, pattern in _LEVELS:
        if pattern.match(t):
            return level
    return 0


def _text(st: _State, block: Heading | Paragraph) -> None:
    text = norm(block.text)
    if not text:
        return
    st.since_grid += 1
    m = _MEASURE.search(text)
    if m:
        st.measure = m.group(1)
        rest = _CAPTION_FIELD.sub("", _MEASURE_PART.sub("", text)).strip(" ：:（）()")
        if not rest or not _is_title(rest):
            if len(text) <= 40 or text.startswith(("单位", "金额单位")):
                return
        else:
            text = rest  # "收支总表（单位：万元）": the title without its measure
    if _TOC.search(text) or re.fullmatch(r"目\s*录", text):
        return
    if _TITLE_LABEL.match(text):
        st.label = re.sub(r"\s+", "", text)
        return
    level = section_level(text, isinstance(block, Heading))
    if level or "。" in text or len(text) > 60:
        st.titles.clear()  # a title belongs to the grid right after it, not one sections later
    if _is_title(text):
        st.titles.append(f"{st.label} {text}".strip() if st.label else text)
        st.label = ""
    if level == 0 and isinstance(block, Heading) and not _is_title(text) and st.stack \
            and st.stack[-1][0] == 1 and not st.texts[-1] and re.fullmatch(r"第[一二三四五六七八九十]+部分", st.stack[-1][1]):
        _retitle(st, f"{st.stack[-1][1]} {text}")  # "第一部分" + "部门概况" on the next line
        return
    if level == 1 and st.stack and re.fullmatch(r"第[一二三四五六七八九十]+部分", st.stack[-1][1]) \
            and not st.texts[-1] and st.stack[-1][1] == text:
        return
    if not level and _HEADWORD.search(text) and len(text) <= 30 and not st.parts \
            and not _NOT_TITLE.search(text) and not _is_title(text):
        level = 1  # "2025年部门预算编制说明": an unnumbered part title in documents without 第X部分
    if level:
        st.parts = st.parts or (level == 1 and text.startswith("第"))
        _open_section(st, level, text, block.page)
    elif st.texts:
        st.texts[-1].append(text)
    elif len(text) <= 30 and not _FIGURE.search(text):
        _open_section(st, 1, text, block.page)  # the document's first line(s): its cover title
    else:
        _open_section(st, 1, "", block.page)
        st.texts[-1].append(text)


def _is_title(text: str) -> bool:
    return bool(_TITLE_END.search(text)) and len(text) <= 70 and not _NOT_TITLE.search(text)


def _open_section(st: _State, level: int, title: str, page: int | None) -> None:
    while st.stack and st.stack[-1][0] >= level:
        st.stack.pop()
    st.stack.append((level, title))
    path = tuple(t for _, t in st.stack)
    st.sections.append(Section(title, level, "", page, path))
    st.texts.append([])


def _retitle(st: _State, title: str) -> None:
    level, _ = st.stack.pop()
    st.stack.append((level, title))
    old = st.sections.pop()
    st.sections.append(Section(title, level, "", old.page, tuple(t for _, t in st.stack)))


def _finish_sections(st: _State) -> list[Section]:
    """Sections with their text; an empty section whose title comes again later was a 目录 entry."""
    out = []
    for i, (s, text) in enumerate(zip(st.sections, st.texts, strict=True)):
        later = {norm(x.title) for x in st.sections[i + 1:]}
        if not text and norm(s.title) in later:
            continue
        out.append(Section(s.title, s.level, "\n".join(text), s.page, s.path))
    return out


def _grid(st: _State, grid: Grid, kind: str | None) -> None:
    """Split off caption rows a reader left inside the grid (titles, "单位：万元"), then build tables."""
    start = 0
    for i, row in enumerate(grid.rows):
        caption = _caption(row)
        if caption is None:
            continue
        if i > start:
            _table_grid(st, _slice(grid, start, i), kind)
        _text(st, Paragraph(caption, grid.page_of(i)))
        start = i + 1
    if start < len(grid.rows):
        _table_grid(st, _slice(grid, start, len(grid.rows)) if start else grid, kind)


_CAPTION_FIELD = re.compile(r"^(部门|单位|编制部门|填报单位|部门/单位|预算主管部门)\s*[：:]")


def _caption(row: tuple[str, ...]) -> str | None:
    filled = [c.strip() for c in row if c.strip()]
    if not filled or len(filled) > 2:
        return None
    text = "  ".join(filled)
    flat = norm(text)
    if len(filled) == 1 and (_TITLE_LABEL.match(re.sub(r"\s+", "", flat)) or _is_title(flat)):
        return text
    if _CAPTION_FIELD.match(flat) or (_MEASURE.search(flat) and len(flat) <= 40):
        return text
    return None


def _slice(grid: Grid, a: int, b: int) -> Grid:
    return Grid(grid.rows[a:b], grid.page_of(a), tuple(grid.quote(i) for i in range(a, b)),
                tuple(grid.page_of(i) for i in range(a, b)))


def _header_measure(st: _State, header: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """A unit line printed into the header band ("单位：万元" over the last column, read with its header
    cell: "单位：万元预算金额"): the table's measure, and no part of the column's name."""
    found = [m.group(1) for r in header for c in r if (m := _MEASURE.search(norm(c)))]
    if not found:
        return header
    st.measure = st.measure or found[0]
    return [tuple(_MEASURE_PART.sub("", c).strip() if _MEASURE.search(norm(c)) else c for c in r) for r in header]


def _table_grid(st: _State, grid: Grid, kind: str | None) -> None:
    rows = [(i, r) for i, r in enumerate(grid.rows) if any(c.strip() for c in r)]
    rows = [(i, r) for i, r in rows if not is_column_numbers(r)]
    if not rows:
        return
    prev = st.tables[-1] if st.tables else None
    if prev and not st.titles and st.since_grid <= 1 and prev.layout.width == len(grid.rows[0]):
        body = _strip_repeated_header(prev.layout, rows)
        prev.rows.extend(make_rows(prev.layout, body, grid, prev.codes))
        st.since_grid = 0
        return
    cells = [r for _, r in rows]
    n_head = split_header(cells)
    header, data = cells[:n_head], cells[n_head:]
    header = _header_measure(st, header)
    header, data = _move_split_code_labels(header, data)
    width = max(len(r) for r in cells)
    layout = plan(header, data, width, "决算数" if kind == "决算" else "预算数")
    title = st.titles[-1] if st.titles else (st.sections[-1].title if st.sections else "")
    section = _table_section(st)
    table = _Open(title, section, st.measure, layout, [], grid.page_of(rows[0][0]),
                  [CodeCompleter() for _ in layout.segments])
    heads = {tuple(norm(c) for c in r) for r in header}
    body = [(i, r) for (i, _), r in zip(rows[n_head:], data, strict=True)
            if tuple(norm(c) for c in r) not in heads]  # header printed again after a page break
    table.rows.extend(make_rows(layout, body, grid, table.codes))
    st.tables.append(table)
    st.titles.clear()
    st.label, st.measure, st.since_grid = "", "", 0


def _table_section(st: _State) -> str:
    return st.stack[-1][1] if st.stack else ""


def _strip_repeated_header(layout: Layout, rows: list[tuple[int, tuple[str, ...]]]) -> list[tuple[int, tuple[str, ...]]]:
    """A table continued on the next page may print its header again."""
    head = [tuple(norm(c) for c in r) for r in layout.header]
    out = list(rows)
    while out and tuple(norm(c) for c in out[0][1]) in head:
        out.pop(0)
    return out


def _move_split_code_labels(header: list[tuple[str, ...]], data: list[tuple[str, ...]]
                            ) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """"类 款 项 合计 2,946.25 …": the last header line merged into the first data row."""
    if not data or not header:
        return header, data
    first = data[0]
    marks = [c.strip() in ("类", "款", "项") for c in first]
    if sum(marks) < 2:
        return header, data
    head_row = tuple(c if m else "" for c, m in zip(first, marks, strict=True))
    data_row = tuple("" if m else c for c, m in zip(first, marks, strict=True))
    return [*header, head_row], [data_row, *data[1:]]
