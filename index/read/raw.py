"""Raw PDF text (PyMuPDF get_text): one table cell per line, `===== 第N页 =====` page markers.

Rows are rebuilt from the cell stream: a row starts at a 科目编码 or a label, and takes the
numbers after it. The column count comes from the 栏次 numbering (1 2 3 …) when the header has
one. PyMuPDF drops empty cells, so a row with fewer figures than columns is left-aligned: its
first figure (the 合计 column in budget tables) is right, later ones may shift left.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

from budgetqa.index.read.blocks import Block, Grid, Heading, Paragraph
from budgetqa.index.read.raw_perf import (
    SCORE_LIST_TITLE,
    is_self_evaluation,
    score_list,
    self_evaluation_blocks,
    self_evaluation_end,
)

PAGE_RE = re.compile(r"^=====\s*第\s*(\d+)\s*页\s*=====\s*$")
NUM_RE = re.compile(r"^[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?%?$")
CODE_RE = re.compile(r"^\d{3}(?:\d{2}){0,3}$")
ROWNO_RE = re.compile(r"^\d{1,3}$")
MIXED_RE = re.compile(r"^([-+]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d+)\s+(\S.*)$")
DASH = {"-", "—", "－", "——", "/"}
TITLE_RE = re.compile(r"^(?:.{0,40}(?:表|情况表|明细表)|表\s*\d+|公开\s*\d+\s*表|[^，。；]{2,40}表[（(][^）)]*[）)])$")
MEASURE_RE = re.compile(r"(?:金额)?单位\s*[：:]\s*(?:万元|元|亿元|千元)")
NOTE_RE = re.compile(r"^\s*(?:注|说明)\s*[：:]")
HEADING_RE = re.compile(
    r"^(?:第[一二三四五六七八九十]+部分|[一二三四五六七八九十]+、|（[一二三四五六七八九十]+）|\d{1,2}[.．、](?!\d))"
)
SENTENCE_END = ("。", "：", ":", "；", "！", "？")
TITLE_ENDS = ("说明", "情况", "概况")  # how a numbered heading ends ("（二）关于…2026年收入预算情况说明")
LABEL_WORDS = {"项目", "科目编码", "科目代码", "功能分类", "经济分类", "科目名称", "项目名称", "类", "款", "项",
               "功能分类科目编码", "经济分类科目编码", "单位名称", "部门名称", "收入", "支出"}
STANDALONE = {"合计", "小计", "项目", "行次", "金额", "栏次", "决算数", "预算数"}


@dataclass(frozen=True)
class Tok:
    kind: str  # NUM, TEXT, BLANK
    text: str
    page: int | None


@dataclass
class Half:
    """One table row (or one side of a side-by-side 收入/支出 row) while it is being read."""

    code: str = ""
    label: str = ""
    values: list[str] = field(default_factory=list)
    page: int | None = None
    raw: list[str] = field(default_factory=list)


def looks_raw(text: str) -> bool:
    """One short cell per line: many lines hold a bare figure, few hold two figures or more
    (text that keeps a table row on one line, "收入 93.42 支出 0.00", is not raw)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or "\t" in text[:20000]:
        return False
    bare = sum(1 for ln in lines if NUM_RE.match(ln))
    multi = sum(1 for ln in lines if len(re.findall(r"\d\.\d", ln)) >= 2)
    short = sum(1 for ln in lines if len(ln) <= 40)
    return (bare >= 20 or bare >= 0.1 * len(lines)) and multi < bare / 2 and short / len(lines) > 0.5


def read_raw(text: str) -> tuple[list[Block], int | None, str]:
    pages = split_pages(text)
    lines = [(page, ln) for page, page_lines in pages for ln in strip_page_numbers(page, page_lines)]
    blocks = LineReader(lines).run()
    numbers = [p for p, _ in pages if p is not None]
    return blocks, (max(numbers) if numbers else None), "raw"


def split_pages(text: str) -> list[tuple[int | None, list[str]]]:
    pages: list[tuple[int | None, list[str]]] = [(None, [])]
    for line in text.splitlines():
        m = PAGE_RE.match(line.strip())
        if m:
            pages.append((int(m.group(1)), []))
        else:
            pages[-1][1].append(line.rstrip())
    return [p for p in pages if p[0] is not None or any(ln.strip() for ln in p[1])]


def strip_page_numbers(page: int | None, lines: list[str]) -> list[str]:
    """Drop printed page numbers ("3", "- 3 -", "第3页") among the first and last two lines."""
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    edge = set(nonblank[:2] + nonblank[-1:])
    return [ln for i, ln in enumerate(lines) if not (i in edge and _is_page_number(ln, page))]


def _is_page_number(line: str, page: int | None) -> bool:
    t = re.sub(r"[-－—\s第页]", "", line)
    return t.isdigit() and (page is None or abs(int(t) - page) <= 3 or len(t) <= 2) and len(line.strip()) < 12


def tokenize(page: int | None, line: str) -> list[Tok]:
    s = line.strip().replace("\u3000", " ").strip()
    if not s:
        return [Tok("BLANK", "", page)]
    m = MIXED_RE.match(s)
    if m and not NUM_RE.match(m.group(2).split()[0]):
        return [Tok("NUM", m.group(1), page), Tok("TEXT", m.group(2).strip(), page)]
    parts = s.split()
    if len(parts) > 1 and all(NUM_RE.match(p) for p in parts):
        return [Tok("NUM", p, page) for p in parts]
    if NUM_RE.match(s) or s in DASH:
        return [Tok("NUM", s, page)]
    return [Tok("TEXT", s, page)]


def is_title(s: str) -> bool:
    s = re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", s.strip())  # "明细表 （按…）"
    return bool(TITLE_RE.match(s)) and not s.endswith(SENTENCE_END) and "，" not in s and len(s) <= 60


class LineReader:
    """Walks the lines once: prose becomes paragraphs, a title/unit line opens a table."""

    def __init__(self, lines: list[tuple[int | None, str]]) -> None:
        self.lines = lines
        self.i = 0
        self.blocks: list[Block] = []
        self.para: list[str] = []
        self.para_page: int | None = None
        self.last_title = ""
        self.width = _wrap_width([ln for _, ln in lines])

    def run(self) -> list[Block]:
        while self.i < len(self.lines):
            page, line = self.lines[self.i]
            s = line.strip()
            if s and is_self_evaluation(s) and self._self_evaluation():
                continue
            if s.startswith("项目名称") and self._score_list():
                continue
            if s and (MEASURE_RE.search(s) or (is_title(s) and self._table_follows())):
                self._flush()
                self._table()
                continue
            self._prose(page, s)
            self.i += 1
        self._flush()
        return self.blocks

    def _self_evaluation(self) -> bool:
        """A 项目绩效自评表 printed one cell per line, as key-value grids; False when not so laid out."""
        end = self_evaluation_end(self.lines, self.i)
        form = [(self.lines[k][0], cell) for k in range(self.i, end) for cell in self._line_cells(k)]
        if not form:
            return False
        page, title = form[0]
        prev = self.lines[self.i - 1] if self.i else (None, "")
        if self.para and self.para[-1].strip() == prev[1].strip() and prev[0] == page \
                and (self.i < 2 or self.lines[self.i - 2][0] != page):
            form[0] = (page, prev[1].strip() + title)  # a long title wrapped at the page top
        blocks = self_evaluation_blocks(form)
        if not blocks:
            return False
        if form[0][1] != title.strip():
            self.para.pop()
        self._flush()
        self.blocks.extend(blocks)
        self.i = end
        return True

    def _score_list(self) -> bool:
        """项目名称 / 自评分数 pairs printed as text lines, as a two-column grid."""
        cells = [(self.lines[k][0], cell, k) for k in range(self.i, min(self.i + 200, len(self.lines)))
                 for cell in self._line_cells(k)]
        found = score_list([(page, cell) for page, cell, _ in cells])
        if found is None:
            return False
        self._flush()
        self.blocks += [Paragraph(SCORE_LIST_TITLE, found[0].page), found[0]]
        used = found[1]
        self.i = cells[used][2] if used < len(cells) else cells[-1][2] + 1
        return True

    def _line_cells(self, k: int) -> list[str]:
        """The cells of line k: one a line in raw text."""
        s = self.lines[k][1].strip()
        return [s] if s else []

    def _table_follows(self) -> bool:
        """A title opens a table only when a unit line or a 栏次 row comes soon after it."""
        ahead = [ln.strip() for _, ln in self.lines[self.i + 1 : self.i + 30]]
        return any(MEASURE_RE.search(t) or t.replace(" ", "") == "栏次" for t in ahead)

    def _same_table(self, title: str) -> bool:
        """The previous block is a grid under the same title: a table continued on a new page."""
        return bool(title) and title == self.last_title and bool(self.blocks) and isinstance(self.blocks[-1], Grid)

    def _data_continues(self) -> bool:
        """At a page break: the table goes on unless the new page opens with a title or prose."""
        for _, line in self.lines[self.i : self.i + 4]:
            s = line.strip()
            if s:
                return not (MEASURE_RE.search(s) or is_title(s) or HEADING_RE.match(s) or _prose_line(s)
                            or s.startswith(("编制", "部门：", "单位名称")))
        return False

    def _prose(self, page: int | None, s: str) -> None:
        if not s:
            if self.para and self.para[-1].endswith(SENTENCE_END):
                self._flush()
            return
        numbered = HEADING_RE.match(s)
        # a numbered line as long as the wrap width is a sentence that goes on, not a heading
        heading = numbered and len(s) < 0.8 * self.width and not any(c in s for c in "，。；")
        if numbered and not heading:
            self._flush()  # a numbered sentence starts a new paragraph
        if heading or (self.para and self.para[-1].endswith(("。", "！", "？"))):
            self._flush()
        if heading:
            self.blocks.append(Heading(s, 0, page))
            return
        if is_title(s) and len(s) < 0.8 * self.width + 10:
            self._flush()  # a table title with no unit line (绩效自评表) stands alone
            self.blocks.append(Paragraph(s, page))
            return
        if not self.para:
            self.para_page = page
        # a short line is a cell of a table laid out as text: keep it apart from the next one
        # so figures do not run together ("56" + "56" must not read as 5656)
        short = bool(self.para) and len(self.para[-1]) < 0.6 * self.width
        self.para.append(" " + s if short else s)
        if self._wrapped_heading():
            self.blocks.append(Heading("".join(self.para), 0, self.para_page))
            self.para = []

    def _wrapped_heading(self) -> bool:
        """A numbered heading as long as the wrap width, its last characters on the next line ("（二）关于…
        收入预算情况说" + "明"): it titles what follows and is not the start of its first sentence."""
        if len(self.para) != 2:  # runs for every prose line: no join for a paragraph of any other length
            return False
        text = "".join(self.para)
        return (bool(HEADING_RE.match(text)) and text.endswith(TITLE_ENDS)
                and len(text) <= 48 and not any(c in text for c in "，。；") and not re.search(r"\d\s*(?:万元|元|%)", text))

    def _flush(self) -> None:
        if self.para:
            self.blocks.append(Paragraph("".join(self.para), self.para_page))
        self.para = []

    def _table(self) -> None:
        """Title and unit lines as paragraphs, then header tokens, then data rows up to a 注 line.

        A page that repeats the column header without a title starts a new segment of the same table.
        """
        from budgetqa.index.read.raw_table import build_table  # noqa: PLC0415 - keeps this module short

        pre: list[tuple[int | None, str]] = []
        segments: list[list[Tok]] = [[]]
        while self.i < len(self.lines):
            page, line = self.lines[self.i]
            s = line.strip()
            body = segments[-1]
            if NOTE_RE.match(s) or (body and _prose_line(s)):
                break
            if body and page != self.lines[self.i - 1][0]:
                if not self._data_continues():
                    break
                if self._header_repeats():
                    segments.append(body := [])
            if not s and not any(t.kind != "BLANK" for t in body):
                self.i += 1
                continue
            if len(segments) == 1 and not body and s and (MEASURE_RE.search(s) or is_title(s) or s.startswith(("编制", "部门：", "单位名称"))):
                pre.append((page, s))
            else:
                body.extend(tokenize(page, line))
            self.i += 1
        title = next((s for _, s in reversed(pre) if is_title(s) and not re.match(r"^(?:表\s*\d+|公开\s*\d+\s*表)$", s)), "")
        grids = [g for g in (build_table(seg) for seg in segments) if g is not None]
        if self._same_table(title) and grids:
            prev = self.blocks.pop()
            assert isinstance(prev, Grid)
            grids.insert(0, prev)
        else:
            for page, s in pre:
                heading = HEADING_RE.match(s) and s != title
                self.blocks.append(Heading(s, 0, page) if heading else Paragraph(s, page))
        if title:
            self.last_title = title
        if grids:
            self.blocks.append(reduce(merge_grids, grids))
        else:
            text = " ".join(t.text for seg in segments for t in seg if t.text)
            if text:
                self.blocks.append(Paragraph(text, self.lines[self.i - 1][0]))

    def _header_repeats(self) -> bool:
        """The new page opens with header cells: a 栏次 label before the first figure."""
        for _, line in self.lines[self.i : self.i + 60]:
            s = line.strip().replace(" ", "")
            if s == "栏次":
                return True
            if NUM_RE.match(s) and not s.isdigit():
                return False
        return False


def _wrap_width(lines: list[str]) -> int:
    """Typical length of a full prose line (the 80th percentile of lines longer than 10 chars)."""
    prose = [ln.strip() for ln in lines if not re.search(r"\S {3,}\S", ln.strip())]
    lengths = sorted(len(ln) for ln in prose if 10 < len(ln) < 120)
    return lengths[int(len(lengths) * 0.8)] if lengths else 40


def _prose_line(s: str) -> bool:
    """A long sentence line ends a table that had no 注 line."""
    return len(s) > 45 and s.endswith(SENTENCE_END) or bool(re.match(r"^第[一二三四五六七八九十]+部分", s))


def merge_grids(prev: Grid, new: Grid) -> Grid:
    """Append the data rows of a table continued on the next page, dropping its repeated header."""
    seen = set(prev.rows)
    # Word tables repeat the 合计 row under the header on every page: keep it once.
    keep = [i for i in range(_header_len(new), len(new.rows)) if new.rows[i] not in seen]
    moved = _realign(prev.rows[0], new.rows[0])
    return Grid(
        rows=prev.rows + tuple(moved(new.rows[i]) for i in keep),
        page=prev.page,
        quotes=tuple(prev.quote(i) for i in range(len(prev.rows))) + tuple(new.quote(i) for i in keep),
        pages=tuple(prev.page_of(i) for i in range(len(prev.rows))) + tuple(new.page_of(i) for i in keep),
    )


def _realign(head: tuple[str, ...], new_head: tuple[str, ...]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """Cells of a continuation page go under the first page's columns of the same name, when the
    two pages found different columns (a column empty on one page). Every column must find its
    own name (or a name ending in "/" + it that no other column has); else rows stay as found."""
    if head == new_head or len(set(head)) < len(head):
        return lambda row: row
    where: list[int] = []
    for name in new_head:
        exact = [k for k, h in enumerate(head) if h == name]
        tail = [k for k, h in enumerate(head) if h.endswith("/" + name)]
        found = exact or (tail if len(tail) == 1 else [])
        if not found or found[0] in where:
            return lambda row: row
        where.append(found[0])

    def move(row: tuple[str, ...]) -> tuple[str, ...]:
        cells = [""] * len(head)
        for k, cell in zip(where, row, strict=False):
            cells[k] = cell
        return tuple(cells)

    return move


def _header_len(grid: Grid) -> int:
    n = 0
    for row in grid.rows:
        if any(NUM_RE.match(c) and "." in c for c in row):
            break
        n += 1
    return min(n, 1)
