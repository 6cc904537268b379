"""Text extracted line by line without layout (pdfplumber extract_text): a table row is one line of
single-space-separated cells.

The extraction keeps no column positions, so rows are rebuilt from the kind of each cell: a row
starts at a 科目编码 or a label and takes the figures after it; a label wrapped onto the next lines
("行政事业单位养老" / "支出") is joined. Figures may be glued to each other or to the next label
("93.4283.42", "93.42一、一般公共服务支出"); two-decimal amounts split them apart. The column count
comes from the header names, or from the figure count when the header cannot be read. 收入 | 支出
tables print both sides on one line; each label goes to its side by its wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from budgetqa.index.read.blocks import Block, Grid, Paragraph
from budgetqa.index.read.raw import HEADING_RE, MEASURE_RE, NOTE_RE, SENTENCE_END, is_title
from budgetqa.index.read.text import page_lines, text_block

# An amount glued to what follows: two decimals end it ("93.4283.42" is 93.42 and 83.42).
_AMOUNT = re.compile(r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}%?")
_INT = re.compile(r"^\d+$")
_DASH = {"-", "—", "－", "——"}
ENUM_RE = re.compile(r"^(?:[一二三四五六七八九十廿]+、|（[一二三四五六七八九十廿]+）|\d+[、.．](?!\d))")
_ENDS = re.compile(r"^(?:附表|附件|第[一二三四五六七八九十]+部分)|为空表|^备\s*注\s*[：:]")
_PROSE = re.compile(r"[，。；]|万元|[:：]$")
_LABEL_WORD = re.compile(r"编码|代码|名称|单位$|项目$")
_CODE_HEAD = re.compile(r"编码|代码")
_LEAD_HEAD = re.compile(r"科目|^(?:项目|项目名称|单位名称|部门名称)$")
_RIGHT = re.compile(r"支\s*出|^年[终末]")
_GROUPS = {"收入", "支出"}
_TOTAL_SPLIT = re.compile(r"(?<=\S)(合计|小计)(?=\S)|(?<=[^合小])(?=(?:合计|小计)$)")
_WORD_END = tuple("出入费计数额款金资称码目类项表率值分人")
_COMPLETE = tuple("出入款余计费金数额")
_PUNCT = re.compile(r"[，。；、：（]")  # prose, not a form's cells
_MEASURE_LABEL = re.compile(r"^[^，。；\s]{1,10}[（(](?:万元|元|亿元)[）)]$")
_MEASURE_ONLY = re.compile(r"^[（(](?:万元|元|亿元)[）)]$")
_SPACED_WORDS = {"收入", "支出", "项目", "合计", "小计", "总计"}


@dataclass(frozen=True)
class Cell:
    kind: str  # fig (an amount, an integer after a label, a dash), code, text
    text: str


@dataclass
class _Row:
    code: str = ""
    label: str = ""
    values: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    page: int | None = None
    texts: list[str] = field(default_factory=list)  # the label cells as printed on the row's line


def looks_spaced(text: str) -> bool:
    """Table rows printed as one line: a label followed by two-decimal figures separated by single
    spaces, with no tabs, no multi-space gaps and few lines that hold a lone figure only."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or "\t" in text[:20000] or any("," in ln and ln.count('"') >= 2 for ln in lines[:200]):
        return False
    markup = sum(1 for ln in lines if ln.startswith(("|", "<")))  # markdown or html tables
    gaps = sum(1 for ln in lines if re.search(r"\S {3,}\S", ln)) + markup
    rows = sum(1 for ln in lines if re.match(r"^\S+ (?:\S+ )*" + _AMOUNT.pattern, ln) and len(_AMOUNT.findall(ln)) >= 2
               and not _PROSE.search(ln))
    return rows >= 10 and gaps * 10 < len(lines)


def cells(line: str, coded: bool = True) -> list[Cell]:
    """The cells of one printed line; glued amounts are split off the text around them."""
    out: list[Cell] = []
    for part in line.split():
        pos = 0
        while pos < len(part):
            m = _AMOUNT.match(part, pos)
            if m:
                out.append(Cell("fig", m.group()))
                pos = m.end()
                continue
            nxt = _AMOUNT.search(part, pos)
            end = nxt.start() if nxt and not part[nxt.start() - 1].isdigit() else len(part)
            out.append(_kind(part[pos:end], not out, coded))
            pos = end
    return out


def _kind(s: str, first: bool, coded: bool) -> Cell:
    if s in _DASH:
        return Cell("fig", s)
    if _INT.match(s):
        return Cell("code" if first and coded and len(s) >= 3 else "fig", s)
    return Cell("text", s)


def read_spaced(text: str) -> tuple[list[Block], int | None, str]:
    lines = [(ln.strip(), pg) for ln, pg in page_lines(text) if ln.strip()]
    pages = max((p for _, p in lines if p is not None), default=None)
    return _Reader(lines).run(), pages, "spaced"


class _Reader:
    def __init__(self, lines: list[tuple[str, int | None]]) -> None:
        self.lines = lines
        self.i = 0
        self.blocks: list[Block] = []
        lengths = sorted(len(t) for t, _ in lines if len(t) > 10 and not _AMOUNT.search(t))
        self.width = lengths[int(len(lengths) * 0.8)] if lengths else 40
        self.open = False  # the last block is a prose paragraph whose sentence may go on

    def run(self) -> list[Block]:
        while self.i < len(self.lines):
            s, page = self.lines[self.i]
            if self._opens_table():
                self._table()
                continue
            start = self.i
            if self._header_then_data():
                self._body(coded=False, lead=self._take_measure_label())
                if self.i > start:
                    continue
            self._prose(s, page)  # also a header line whose table stopped at once (never loop on it)
            self.i += 1
        return self.blocks

    def _prose(self, s: str, page: int | None) -> None:
        """Prose wrapped at the page width is one paragraph again; headings and titles stand alone."""
        last = self.blocks[-1] if self.blocks else None
        alone = bool(HEADING_RE.match(s) or _ENDS.search(s) or is_title(s))
        if self.open and not alone and isinstance(last, Paragraph) and (_PUNCT.search(s) or _PUNCT.search(last.text)):
            glue = " " if last.text[-1:].isdigit() and s[:1].isdigit() else ""  # 56 / 56 is not 5656
            self.blocks[-1] = Paragraph(last.text + glue + s, last.page)
        else:
            self.blocks.append(text_block(s, page))
        short_heading = bool(HEADING_RE.match(s)) and len(s) < 0.8 * self.width and not re.search(r"[，。；]", s)
        self.open = len(s) >= 0.8 * self.width and not s.endswith(SENTENCE_END) and not short_heading

    def _opens_table(self) -> bool:
        s = self.lines[self.i][0]
        ahead = [t for t, _ in self.lines[self.i + 1 : self.i + 3]]
        return bool(MEASURE_RE.search(s)) or (is_title(s) and any(MEASURE_RE.search(t) for t in ahead))

    def _header_then_data(self) -> bool:
        """A table without a title: a line of short header words, a data line within three lines."""
        first = self.lines[self.i][0]
        if not _header_line(first) or len(first.split()) < 2:
            return False
        for s, _ in self.lines[self.i + 1 : self.i + 4]:
            if _data_line(s):
                return True
            if not _header_line(s):
                return False
        return False

    def _take_measure_label(self) -> str:
        """"项目资金" / "（万元）" printed left of the header: the measure of the rows below."""
        tail = [b for b in self.blocks[-2:] if isinstance(b, Paragraph)]
        if tail and _MEASURE_LABEL.match(tail[-1].text):
            del self.blocks[-1]
            return tail[-1].text
        if len(tail) == 2 and _MEASURE_ONLY.match(tail[1].text) and len(tail[0].text) <= 8 and not _prose(tail[0].text):
            del self.blocks[-2:]
            return tail[0].text + tail[1].text
        return ""

    def _table(self) -> None:
        self.open = False
        """Title and unit lines as paragraphs, then header lines and data lines up to a note."""
        while self.i < len(self.lines) and (self._opens_table() or MEASURE_RE.search(self.lines[self.i][0])):
            s, page = self.lines[self.i]
            self.blocks.append(Paragraph(s, page))
            self.i += 1
        self._body(coded=True)

    def _body(self, coded: bool, lead: str = "") -> None:
        self.open = False
        header: list[tuple[str, int | None]] = []
        data: list[tuple[str, int | None]] = []
        while self.i < len(self.lines):
            s, page = self.lines[self.i]
            if _ends_table(s) or self._opens_table() or _prose(s) or (not coded and data and _heading(s)):
                break
            (data if data or _data_line(s) else header).append((s, page))
            self.i += 1
        grid = build_grid(header, _unwrap_figures(data), coded) if data else None
        if grid is not None and lead and len(grid.rows) > 1:
            # the merged cell left of the money rows; its measure holds for the rows it spans
            first = (lead + grid.rows[1][0], *grid.rows[1][1:])
            grid = Grid((grid.rows[0], first, *grid.rows[2:]), grid.page, grid.quotes, grid.pages)
        if grid is not None:
            self.blocks.append(grid)
        elif header + data:
            self.blocks.append(Paragraph(" ".join(s for s, _ in header + data), (header + data)[0][1]))


def _unwrap_figures(data: list[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
    """A figure wrapped inside a narrow cell ("0." / "00") is one figure again."""
    out: list[tuple[str, int | None]] = []
    for s, page in data:
        if out and re.fullmatch(r"\d+", s) and re.fullmatch(r"\d+\.\d?", out[-1][0]) \
                and len(out[-1][0].split(".")[1] + s) == 2:
            out[-1] = (out[-1][0] + s, out[-1][1])
        else:
            out.append((s, page))
    return out


def _ends_table(s: str) -> bool:
    return bool(NOTE_RE.match(s) or _ENDS.search(s))


def _heading(s: str) -> bool:
    """A numbered heading without figures ends a table that has no title (and so no 注 line)."""
    return bool(HEADING_RE.match(s)) and not any(c.kind == "fig" for c in cells(s))


def _prose(s: str) -> bool:
    return len(s) > 24 and bool(_PROSE.search(s)) and not _AMOUNT.search(s[-8:])


def _header_line(s: str) -> bool:
    return not _prose(s) and not re.search(r"\d", s) and len(s) <= 60


def _data_line(s: str) -> bool:
    cs = cells(s)
    return not _prose(s) and any(c.kind == "fig" for c in cs) and (
        any(c.kind == "fig" and "." in c.text for c in cs) or cs[-1].kind == "fig" and cs[0].kind == "text")


def build_grid(header: list[tuple[str, int | None]], data: list[tuple[str, int | None]], coded: bool) -> Grid | None:
    words = header_words([s for s, _ in header])
    squashed = [w.replace(" ", "") for w in words]
    if squashed.count("项目") >= 2 or (set(squashed) >= _GROUPS):
        return _paired_grid(squashed, header, data)
    has_code = coded and (any(_CODE_HEAD.search(w) for w in squashed) or _codes_in(data))
    rows = _rows(data, has_code)
    if not rows:
        return None
    lead = [w for w in squashed if _LEAD_HEAD.search(w)]
    names = [w for w in squashed if not _LEAD_HEAD.search(w) and w not in _GROUPS]
    nfig = max(len(r.values) for r in rows)
    if not has_code and _text_columns(rows, squashed, nfig):
        return _grid([*squashed], [[*r.texts, *r.values] for r in rows], header, rows)
    at = names.index("合计") if "合计" in names else 0
    if all(_LABEL_WORD.search(w) for w in names[:at]):
        names = names[at:]  # 项目编码 / 项目单位 before 合计 name label columns
    names = _value_names(names, nfig)
    width = max(nfig, len(names))
    labelled = any(r.label or r.code for r in rows)  # else a header-only table (三公): no label column
    lead_names = (["科目编码", "科目名称"] if has_code else (lead[:1] or ["项目"])) if labelled else []
    head = lead_names + names + [""] * (width - len(names))
    body = [(([r.code, r.label] if has_code else [r.label]) if labelled else []) + r.values for r in rows]
    return _grid(head, body, header, rows)


def _text_columns(rows: list[_Row], words: list[str], nfig: int) -> bool:
    """Rows print several label cells on one line (单位名称 单位性质 在职人数) and the header names them all."""
    m = len(rows[0].texts)
    return m >= 2 and all(len(r.texts) == m for r in rows) and len(words) == m + nfig


def _grid(head: list[str], body: list[list[str]], header: list[tuple[str, int | None]], rows: list[_Row]) -> Grid:
    width = max(len(head), *(len(b) for b in body))
    out = [tuple(x + [""] * (width - len(x))) for x in [head, *body]]
    quotes = (" ".join(s for s, _ in header), *(" ".join(r.lines) for r in rows))
    pages = (header[0][1] if header else rows[0].page, *(r.page for r in rows))
    return Grid(tuple(out), pages[0], quotes, pages)


def _value_names(names: list[str], nfig: int) -> list[str]:
    if len(names) <= nfig:
        return names if len(names) == nfig else names + [f"第{k}栏" for k in range(len(names) + 1, nfig + 1)]
    from budgetqa.index.read.header_tree import leaf_names

    return leaf_names(names, nfig) or names  # more names than figures: empty trailing columns


def _codes_in(data: list[tuple[str, int | None]]) -> bool:
    return sum(1 for s, _ in data if cells(s)[0].kind == "code") >= 2


def header_words(lines: list[str]) -> list[str]:
    """Header cells: letter-spaced words re-joined ("项 目"), fragments of a wrapped cell joined
    ("基本支" + "出"), totals glued to their neighbour split off ("公务接待" "费小计")."""
    words: list[str] = []
    alone = False  # the previous line held one word: a wrapped cell may go on
    for line in lines:
        parts = [p for w in _spaced_words(line) for p in _TOTAL_SPLIT.sub(r" \1 ", w).split()]
        for k, w in enumerate(parts):
            if k == 0 and alone and not words[-1].endswith(_WORD_END) and w not in ("合计", "小计") \
                    and not _LEAD_HEAD.search(words[-1]):
                words[-1] += w
            else:
                words.append(w)
        alone = len(parts) == 1 or alone and not parts
    return words


def _spaced_words(line: str) -> list[str]:
    """Letter-spaced header words ("项 目", "收 入 支 出") re-joined."""
    out: list[str] = []
    run = ""
    for part in [*line.split(), ""]:
        if len(part) == 1:
            run += part
            continue
        if run:
            pairs = [run[k : k + 2] for k in range(0, len(run), 2)]
            split = len(run) % 2 == 0 and all(p in _SPACED_WORDS for p in pairs)
            # a longer run that is no word is vertical text read across (" 算 金 入 入"): noise
            out.extend(pairs if split else [run] if len(run) <= 2 else [])
            run = ""
        if part:
            out.append(part)
    return out


def _rows(data: list[tuple[str, int | None]], has_code: bool) -> list[_Row]:
    rows: list[_Row] = []
    for s, page in data:
        cs = cells(s, has_code)
        first_fig = next((k for k, c in enumerate(cs) if c.kind == "fig"), len(cs))
        lead, vals = cs[:first_fig], cs[first_fig:]
        cur = rows[-1] if rows else None
        code = lead[0].text if lead and lead[0].kind == "code" else ""
        text = "".join(c.text for c in lead if c.kind != "code")
        lone = not lead and len(vals) == 1  # a figure wrapped alone onto its line goes on the row
        if cur is None or code and (cur.label or cur.values) or (text or not lead and not lone) and cur.values:
            cur = _Row(page=page)
            rows.append(cur)
        cur.code = cur.code + code if cur.code and not cur.label else cur.code or code  # "032" / "004"
        cur.label += text
        labels = [c.text for c in lead if c.kind != "code"]
        if cur.texts and labels:
            cur.texts[-1] += labels[0]
            labels = labels[1:]
        cur.texts += labels
        cur.values += ["" if c.text in _DASH else c.text for c in vals if c.kind != "text"]
        cur.lines.append(s)
    return [r for r in rows if r.values or r.label]


def _paired_grid(words: list[str], header: list[tuple[str, int | None]],
                 data: list[tuple[str, int | None]]) -> Grid | None:
    """收入 | 支出 side by side: each label and its figures is one half; a line with two halves is one
    row, a lone half goes to its side by its wording (…支出 on the right)."""
    halves = _halves(data)
    if not halves:
        return None
    values = [w for w in words if w not in _GROUPS and w != "项目"]
    nv = max(1, max(len(h.values) for h, _ in halves))
    side_names = (values[:nv] if len(values) >= 2 * nv else ["金额"] * nv)
    groups = [w for w in words if w in _GROUPS]
    out: list[tuple[str, ...]] = []
    if len(groups) == 2:
        out.append(tuple([groups[0]] + [""] * nv + [groups[1]] + [""] * nv))
    out.append(tuple(["项目", *side_names] * 2))
    nhead = len(out)
    rows: list[tuple[_Row | None, _Row | None]] = []
    for h, pos in halves:
        right = pos == 1 or pos == 0 and bool(_RIGHT.search(h.label))
        if right and rows and rows[-1][1] is None:
            rows[-1] = (rows[-1][0], h)
        else:
            rows.append((None, h) if right else (h, None))
    for left, rgt in rows:
        out.append(tuple(_side(left, nv) + _side(rgt, nv)))
    quotes = [" ".join(s for s, _ in header)] * nhead
    pages = [header[0][1] if header else data[0][1]] * nhead
    for left, rgt in rows:
        lines = list(dict.fromkeys((left.lines if left else []) + (rgt.lines if rgt else [])))
        quotes.append(" ".join(lines))
        either = left or rgt
        pages.append(either.page if either else None)
    return Grid(tuple(out), pages[0], tuple(quotes), tuple(pages))


def _side(h: _Row | None, nv: int) -> list[str]:
    if h is None:
        return [""] * (nv + 1)
    return [h.label, *h.values[:nv], *[""] * (nv - len(h.values[:nv]))]


def _halves(data: list[tuple[str, int | None]]) -> list[tuple[_Row, int]]:
    """Halves in reading order with their place on the line: 0 alone, 1 second of two (the right
    side). A label continues on the next line when that line starts without a numbering."""
    out: list[tuple[_Row, int]] = []
    pending: _Row | None = None
    for s, page in data:
        groups: list[_Row] = []
        for c in cells(s, coded=False):
            if c.kind == "text":
                if groups and not groups[-1].values and not ENUM_RE.match(c.text):
                    groups[-1].label += c.text
                else:
                    groups.append(_Row(label=c.text, page=page))
            elif groups:
                groups[-1].values.append("" if c.text in _DASH else c.text)
            elif pending is not None:
                pending.values.append(c.text)
                pending.lines.append(s)
        if groups and pending is not None and not pending.values and not ENUM_RE.match(groups[0].label) \
                and not pending.label.endswith(_COMPLETE):
            pending.label += groups[0].label
            pending.values += groups[0].values
            pending.lines.append(s)
            groups = groups[1:]
        for k, g in enumerate(groups):
            g.lines.append(s)
            out.append((g, k if len(groups) == 2 else 0))
        if groups:
            pending = groups[-1]
    return [(h, pos) for h, pos in out if h.label.strip()]
