"""Space-aligned layout text (pdftotext -layout): table columns are character positions.

A table runs from its title/unit line to a 注 line. Cells are runs of text separated by two or
more spaces. Figures are right-aligned, so value columns are clustered on their right end; labels
and codes on their left start. Header cells above the first data line are attached to the
columns they overlap, stacked top to bottom ("本级财政拨款" over "金额" gives "本级财政拨款/金额").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import reduce

from budgetqa.index.read.blocks import Block, Grid, Paragraph
from budgetqa.index.read.perf_layout import perf_blocks, tokens
from budgetqa.index.read.raw import (
    MEASURE_RE,
    NOTE_RE,
    LineReader,
    is_title,
    merge_grids,
    split_pages,
    strip_page_numbers,
)

CHUNK_RE = re.compile(r"\S+(?: \S+)*")
VALUE_RE = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d+%?$|^[-+]?\d{1,3}(?:,\d{3})+$")
CODE_RE = re.compile(r"^\d{1,7}$")  # 科目编码 parts and 行次 numbers
NUMBERING_RE = re.compile(r"^[\s*\d栏次]+$")
ENUM_RE = re.compile(r"^(?:[一二三四五六七八九十]+、|\d+[、.．]|（[一二三四五六七八九十\d]+）)")
PERF_WORDS = ("绩效指标", "一级指标", "指标值", "绩效目标")
GAP = 3


@dataclass(frozen=True, order=True)
class Chunk:
    start: int
    end: int
    text: str
    kind: str  # value, code, text
    # the ruled cell around it, when the source draws cell borders (PDF): a header cell whose
    # borders take in several columns is a group heading over them
    cell_lo: int | None = field(default=None, compare=False)
    cell_hi: int | None = field(default=None, compare=False)


Line = tuple[int | None, str, list[Chunk], list[Chunk], float]  # page, text, data cells, header cells, y


@dataclass
class Column:
    kind: str  # value, code, text
    lo: int
    hi: int
    name: str = ""
    mid: float | None = None  # position of its number on the "** 1 2 3" line
    ruled: tuple[int, int] | None = None  # the drawn cell borders its chunks sit in, when the source draws them


def looks_layout(text: str) -> bool:
    """Wide lines whose cells are separated by runs of spaces."""
    lines = [ln for ln in text.splitlines()[:3000] if ln.strip()]
    if not lines or "\t" in text[:20000]:
        return False
    spaced = sum(1 for ln in lines if re.search(r"\S {3,}\S", ln.strip()))
    return spaced / len(lines) > 0.25 and max(len(ln) for ln in lines) > 80


def read_layout(text: str) -> tuple[list[Block], int | None, str]:
    pages = split_pages(text)
    lines = [(page, ln) for page, page_lines in pages for ln in strip_page_numbers(page, page_lines)]
    # prose lines lose letter-spacing ("一 般 公 共"); their indentation stays for table headers
    lines = [(page, ln if _has_gap(ln.strip()) else ln[: len(ln) - len(ln.lstrip())] + _squash(ln)) for page, ln in lines]
    blocks = LayoutReader(lines).run()
    numbers = [p for p, _ in pages if p is not None]
    return blocks, (max(numbers) if numbers else None), "layout"


class LayoutReader(LineReader):
    """Prose handling from the raw reader; tables by character positions."""

    def _table(self) -> None:
        """Title/unit lines, then table lines up to a 注 line; a table goes on over a page break
        when the new page opens with table lines rather than a title or prose."""
        pre: list[tuple[int | None, str]] = []
        segments: list[list[Line]] = [[]]
        while self.i < len(self.lines):
            page, line = self.lines[self.i]
            s = line.strip()
            body = segments[-1]
            if NOTE_RE.match(s) or (body and self._leaves_table(self.i, body)):
                break
            if self.i > 0 and page != self.lines[self.i - 1][0] and (body or pre):
                if not (body and self._table_goes_on()):
                    break
                segments.append(body := [])
            if not any(segments) and (MEASURE_RE.search(s) or (is_title(s) and not _has_gap(s))):
                pre.append((page, re.sub(r"\s{2,}", " ", s)))
            elif s:
                body.append((page, line, *self.cells(self.i)))
            self.i += 1
        title = next((s for _, s in reversed(pre) if is_title(s)), "")
        lines = [ln for seg in segments for ln in seg]
        if (_is_performance(lines) or "绩效目标" in title) and self._performance(title, pre, lines):
            return
        grids = [] if _is_performance(lines) else build_grids(segments)
        last = self.blocks[-1] if self.blocks else None
        if grids and isinstance(last, Grid) and self._same_table(title):
            self.blocks.pop()
            grids.insert(0, last)
        else:
            self.blocks.extend(Paragraph(s, p) for p, s in pre)
        if title:
            self.last_title = title
        if grids:
            self.blocks.append(reduce(merge_grids, grids))
        else:
            self.blocks.extend(Paragraph(" ".join(c.text for c in cs), p) for p, _, cs, _, _ in lines)

    def _performance(self, title: str, pre: list[tuple[int | None, str]], lines: list[Line]) -> bool:
        """A 项目支出绩效目标表 as one key-value grid per project; False when it does not read so."""
        m = re.search(r"单位\s*[：:]\s*(万元|元|亿元|千元)", " ".join(s for _, s in pre))
        cells = [(p, text, tokens([(c.start, c.end, c.text) for c in cs]), y) for p, text, cs, _, y in lines]
        from budgetqa.index.read.perf_form import form_blocks  # it reads this module's Chunk and Line

        blocks = perf_blocks(title, m.group(1) if m else "", cells) or form_blocks(title, m.group(1) if m else "", lines)
        if not blocks:
            return False
        self.blocks.extend(blocks)
        if title:
            self.last_title = title
        return True

    def _table_follows(self) -> bool:
        """Also a 绩效目标表 printed as a form (项目名称 … 三级指标 | 指标值), which states no unit line."""
        if super()._table_follows():
            return True
        if "绩效目标" not in self.lines[self.i][1]:
            return False
        ahead = [ln.replace(" ", "") for _, ln in self.lines[self.i + 1 : self.i + 30]]
        return any(t.startswith("项目名称") for t in ahead) and any("三级指标" in t for t in ahead)

    def _leaves_table(self, i: int, body: list[Line]) -> bool:
        """Line i is prose after the table, not one of its rows: text lines give no sign of it."""
        return False

    def _line_cells(self, k: int) -> list[str]:
        return [c.text for c in self.cells(k)[0]]

    def _table_goes_on(self) -> bool:
        for _, line in self.lines[self.i : self.i + 4]:
            s = line.strip()
            if s:
                return _has_gap(s) and not (MEASURE_RE.search(s) or is_title(s))
        return False

    def cells(self, i: int) -> tuple[list[Chunk], list[Chunk], float]:
        """Cells of line i, as data and as header (header cells may touch with one space), and
        its vertical position (the line number: blank lines keep rows apart)."""
        line = self.lines[i][1]
        return chunks(line), _header_chunks(line), float(i)


def _has_gap(s: str) -> bool:
    return bool(re.search(r"\S {2,}\S", s))


def _is_performance(body: list[Line]) -> bool:
    head = " ".join(ln for _, ln, _, _, _ in body[:8])
    return any(w in head for w in PERF_WORDS)


def chunks(line: str) -> list[Chunk]:
    """Cells on a line; a figure glued to a label by one space is split off."""
    out: list[Chunk] = []
    for m in CHUNK_RE.finditer(line):
        pos = m.start()
        for part in _split_mixed(m.group()):
            k = m.group().index(part, pos - m.start()) + m.start()
            out.append(Chunk(k, k + len(part), part, _kind(part)))
            pos = k + len(part)
    return retype(out)


def retype(cells: list[Chunk]) -> list[Chunk]:
    """Digits after the row's first label are figures (integer amounts, 行次), not 科目编码."""
    first_text = next((k for k, c in enumerate(cells) if c.kind == "text"), len(cells))
    return [Chunk(c.start, c.end, c.text, "value") if c.kind == "code" and k > first_text else c
            for k, c in enumerate(cells)]


def _split_mixed(text: str) -> list[str]:
    parts = text.split(" ")
    groups: list[list[str]] = []
    for p in parts:
        is_num = bool(VALUE_RE.match(p))
        if groups and (bool(VALUE_RE.match(groups[-1][-1])) == is_num) and not is_num:
            groups[-1].append(p)
        else:
            groups.append([p])
    return [" ".join(g) for g in groups]


def _kind(text: str) -> str:
    if VALUE_RE.match(text) or text in ("-", "—"):
        return "value"
    if CODE_RE.match(text):
        return "code"
    if text.isdigit() or re.match(r"^-\d+(?:\.\d+)?$", text):
        return "value"  # a long integer amount ("457432345" 元) or a negative figure
    return "text"


def _squash(text: str) -> str:
    """Letter-spaced CJK ("本 年 收 入 合 计") loses its spaces; Latin/number spacing stays."""
    return re.sub(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])", "", text).strip()


def build_grids(segments: list[list[Line]]) -> list[Grid]:
    """One grid per page of a table. A page that goes on without a header of its own is read in the
    first page's columns when its figures sit under them: a column empty on that page (规格型号 on
    the last page of a 政府采购表) must not shift every figure right of it one column left."""
    grids: list[Grid] = []
    template: list[Column] | None = None
    for seg in segments:
        built = _build_grid(seg, template)
        if built is not None:
            grids.append(built[0])
            template = template or built[1]
    return grids


def build_grid(body: list[Line]) -> Grid | None:
    built = _build_grid(body, None)
    return built[0] if built else None


def _fits(template: list[Column], data: list[list[Chunk]]) -> bool:
    values = [c for c in template if c.kind == "value"]
    return bool(values) and all(any(abs(col.hi - c.end) <= GAP for col in values)
                                for cs in data for c in cs if c.kind == "value")


def _build_grid(body: list[Line], template: list[Column] | None) -> tuple[Grid, list[Column]] | None:
    first = next((i for i, (_, ln, cs, _, _) in enumerate(body)
                  if (_is_data(cs) or (i and _enumerated(cs))) and not NUMBERING_RE.match(ln)), None)
    if first is None:
        return None
    header = [hs for _, ln, _, hs, _ in body[:first] if not NUMBERING_RE.match(ln)]
    numbering = next((_numbering(hs) for _, ln, _, hs, _ in body[:first] if NUMBERING_RE.match(ln) and _numbering(hs)), [])
    data = [line for line in body[first:] if not NUMBERING_RE.match(line[1])]
    rows_cs = [cs for _, _, cs, _, _ in data if _is_data(cs)]
    if template is not None and not header and _fits(template, rows_cs):
        cols = [replace(c) for c in template]  # the table's first page's columns, names included
    else:
        cols = _columns(rows_cs)
        if not any(c.kind == "value" for c in cols):
            return None
        cols = _add_numbered(cols, numbering)
        _name_columns(cols, header)
    rows = _rows(cols, data)
    header_row = tuple(c.name or ("科目编码" if c.kind == "code" else "项目" if c.kind == "text" else "金额") for c in cols)
    first_page = rows[0].page if rows else None
    return Grid(rows=(header_row, *(tuple(r.cells) for r in rows)), page=first_page,
                quotes=("\t".join(header_row), *(r.quote for r in rows)), pages=(first_page, *(r.page for r in rows))), cols


@dataclass
class _Row:
    cells: list[str]
    quote: str
    page: int | None
    y: float


def _rows(cols: list[Column], data: list[Line]) -> list[_Row]:
    """One row per line with figures. A line of label text alone is a wrapped label: it joins the
    row whose figures sit nearest to it vertically (a label of two lines has its figures between
    them), unless it starts with an item number (一、 1、), which makes it a row of its own."""
    rows: list[_Row] = []
    loose: list[tuple[int, Line, list[str]]] = []
    for p, ln, cs, _, y in data:
        cells = _place(cols, cs)
        if _is_data(cs) or any(ENUM_RE.match(c) for c in cells if c):
            rows.append(_Row(cells, re.sub(r"\s{2,}", "\t", ln.strip()), p, y))
        else:
            loose.append((len(rows), (p, ln, cs, [], y), cells))
    for after, (_, ln, _, _, y), cells in loose:
        prev = rows[after - 1] if after > 0 else None
        nxt = rows[after] if after < len(rows) else None
        below = prev is not None and (nxt is None or abs(y - prev.y) <= abs(nxt.y - y))
        target = prev if below else nxt
        if target is None:
            continue
        for k, part in enumerate(cells):
            if part and cols[k].kind != "value":
                target.cells[k] = target.cells[k] + part if below else part + target.cells[k]
        target.quote = target.quote + " " + ln.strip() if below else ln.strip() + " " + target.quote
    return rows


def _header_chunks(line: str) -> list[Chunk]:
    """Header cells can touch with one space between them ("财政专户管理 事业单位经营")."""
    return [Chunk(m.start(), m.end(), m.group(), "text") for m in re.finditer(r"\S+", line)]


def _numbering(cells: list[Chunk]) -> list[float]:
    """Centres of the column numbers 1 2 3 … N on a "** ** 1 2 3" line."""
    nums = [((c.start + c.end) / 2, int(c.text)) for c in cells if c.text.isdigit()]
    ok = len(nums) >= 2 and [n for _, n in nums] == list(range(1, len(nums) + 1))
    return [pos for pos, _ in nums] if ok else []


def _add_numbered(cols: list[Column], numbering: list[float]) -> list[Column]:
    """Columns that are empty in every row still exist when the header numbers them."""
    values = [c for c in cols if c.kind == "value"]
    if len(numbering) < len(values) or not numbering:
        return cols
    taken: dict[int, Column] = {}
    k = 0
    for col in values:
        if len(numbering) == len(values):
            best: int | None = k  # one number per figure column: match in order
        else:
            best = min(range(k, len(numbering)), key=lambda j: _gap_to(numbering[j], col), default=None)
        if best is None:
            return cols
        taken[best] = col
        col.mid = numbering[best]
        k = best + 1
    out = [c for c in cols if c.kind != "value"]
    out += [taken.get(j) or Column("value", int(pos) - 2, int(pos) + 2, mid=pos) for j, pos in enumerate(numbering)]
    return sorted(out, key=lambda c: c.mid if c.mid is not None else (c.lo + c.hi) / 2)


def _gap_to(pos: float, col: Column) -> float:
    """pdftotext puts a column number near the left of the figures; a PDF cell centres it."""
    return min(abs(pos - col.lo), abs(pos - (col.lo + col.hi) / 2))


def _enumerated(cs: list[Chunk]) -> bool:
    """"一、部门预算" in every label column: a row without figures (a heading row of the body), not a
    header line, which never opens with an item number."""
    return bool(cs) and all(c.kind == "text" and ENUM_RE.match(c.text) for c in cs)


def _is_data(cs: list[Chunk]) -> bool:
    return any(c.kind == "value" for c in cs) or (len(cs) >= 2 and cs[0].kind == "code" and cs[-1].kind == "text")


def _columns(lines: list[list[Chunk]]) -> list[Column]:
    """Cluster value chunks on their right end, codes and labels on their left start; runs of
    label (or code) clusters with no value column between them are one column (indentation)."""
    anchors = sorted(((c.end if c.kind == "value" else c.start), c.kind, c) for cs in lines for c in cs)
    cols: list[Column] = []
    for anchor, kind, c in anchors:
        same = [col for col in cols if col.kind == kind and (
            abs((col.hi if kind == "value" else col.lo) - anchor) <= GAP)]
        if same:
            same[0].lo, same[0].hi = min(same[0].lo, c.start), max(same[0].hi, c.end)
            same[0].ruled = _cell_union(same[0].ruled, c)
        else:
            cols.append(Column(kind, c.start, c.end, ruled=_cell_union(None, c)))
    values = [c for c in cols if c.kind == "value"]
    # a number before the label in a row whose label is empty (行次 "8") sits in a figure column
    cols = [c for c in cols if c.kind != "code" or not any(min(c.hi, v.hi) > max(c.lo, v.lo) for v in values)]
    cols.sort(key=lambda col: (col.lo + col.hi) / 2)
    merged: list[Column] = []
    for col in cols:
        near = col.kind == "code" or col.lo <= merged[-1].hi + GAP if merged else False
        if merged and col.kind == "text" and _other_cell(merged[-1], col):
            near = False  # two drawn cells side by side are two columns however close their texts come
        if merged and col.kind != "value" and merged[-1].kind == col.kind and near:
            merged[-1].lo, merged[-1].hi = min(merged[-1].lo, col.lo), max(merged[-1].hi, col.hi)
        else:
            merged.append(col)
    return merged


def _cell_union(ruled: tuple[int, int] | None, c: Chunk) -> tuple[int, int] | None:
    if c.cell_lo is None or c.cell_hi is None:
        return ruled
    return (c.cell_lo, c.cell_hi) if ruled is None else (min(ruled[0], c.cell_lo), max(ruled[1], c.cell_hi))


def _other_cell(a: Column, b: Column) -> bool:
    return a.ruled is not None and b.ruled is not None and b.ruled[0] >= a.ruled[1]


def _place(cols: list[Column], cs: list[Chunk]) -> list[str]:
    cells = [""] * len(cols)
    for c in cs:
        k = _nearest(cols, c)
        text = c.text if c.kind != "text" else _squash(c.text)
        if cols[k].kind == "code":
            cells[k] += c.text
        else:
            cells[k] = (cells[k] + " " + text).strip() if cells[k] else text
    return cells


def _nearest(cols: list[Column], c: Chunk) -> int:
    def dist(col: Column) -> float:
        if col.kind == "value" and c.kind == "value":
            return abs(col.hi - c.end)
        if col.kind == "value" and c.kind == "code" and min(col.hi, c.end) > max(col.lo, c.start):
            return 0
        if col.kind == c.kind or (col.kind == "text" and c.kind == "code"):
            return 0 if col.lo - GAP <= c.start <= col.hi else min(abs(col.lo - c.start), abs(col.hi - c.end)) + 1
        return 1000 + abs((col.lo + col.hi) / 2 - (c.start + c.end) / 2)

    return min(range(len(cols)), key=lambda k: dist(cols[k]))


def _name_columns(cols: list[Column], header: list[list[Chunk]]) -> None:
    """Each header cell names the columns it overlaps; one spanning several is a group prefix."""
    parts: list[list[tuple[str, bool]]] = [[] for _ in cols]
    for cs in header:
        for c in cs:
            ruled = _ruled_hits(cols, c)
            if ruled:
                for k in ruled:
                    parts[k].append((_squash(c.text).replace(" ", ""), len(ruled) > 1))
                continue
            if c.cell_lo is not None and c.cell_hi is not None:
                # a ruled cell over no figure column: it heads a column that is
                # empty in every row; naming the neighbour after it would glue two headings together
                continue
            hits = [k for k, col in enumerate(cols) if _overlap(col, c) > 0]
            group = len(hits) > 1 and _spans(cols, hits, c)
            plain = len(hits) == 1 and cols[hits[0]].mid is None
            if not (group or plain):
                hits = [min(range(len(cols)), key=lambda k: _distance(cols[k], c))]
            for k in hits:
                parts[k].append((_squash(c.text).replace(" ", ""), len(hits) > 1))
    for col, ps in zip(cols, parts, strict=True):
        col.name = _join_header(ps)


def _ruled_hits(cols: list[Column], c: Chunk) -> list[int]:
    """Columns whose centre lies inside the header cell's drawn borders."""
    if c.cell_lo is None or c.cell_hi is None:
        return []
    lo, hi = c.cell_lo, c.cell_hi
    return [k for k, col in enumerate(cols)
            if lo <= (col.mid if col.mid is not None else (col.lo + col.hi) / 2) <= hi]


def _distance(col: Column, c: Chunk) -> float:
    centre = (c.start + c.end) / 2
    return abs((col.mid if col.mid is not None else (col.lo + col.hi) / 2) - centre)


def _overlap(col: Column, c: Chunk) -> int:
    return min(col.hi, c.end) - max(col.lo, c.start)


def _spans(cols: list[Column], hits: list[int], c: Chunk) -> bool:
    """A group header covers most of each column under it, not just grazes a neighbour."""
    return all(_overlap(cols[k], c) >= 0.5 * (cols[k].hi - cols[k].lo) for k in hits)


def _join_header(parts: list[tuple[str, bool]]) -> str:
    """Stacked header pieces: a piece spanning several columns is a group ("本级财政拨款/金额");
    pieces over one column are the lines of one wrapped cell ("财政专户管理" + "事业收入")."""
    out = ""
    group = False
    for p, spans in parts:
        out = out + ("/" if out and (group or spans) else "") + p
        group = spans
    return out
