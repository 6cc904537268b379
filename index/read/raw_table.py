"""Rebuild table rows from a one-cell-per-line token stream (raw PDF text).

Budget tables number their value columns in a 栏次 row ("栏次 1 2 3 …"), which gives the column
count; 收支总表 print two sides (收入 | 支出) with a 行次 column each. A row starts at a 科目编码 or
a label; a label wrapped over two lines comes as two text tokens in a row and is joined.
"""

from __future__ import annotations

import re

from budgetqa.index.read.blocks import Grid
from budgetqa.index.read.header_tree import place
from budgetqa.index.read.raw import CODE_RE, LABEL_WORDS, NUM_RE, ROWNO_RE, STANDALONE, Half, Tok

CODE_HEADER_RE = re.compile(r"编码|代码|功能分类|经济分类|^类$")
GROUP_WORDS = {"收入", "支出", "收入项目", "支出项目"}


def build_table(tokens: list[Tok]) -> Grid | None:
    start, widths, halves = _data_start(tokens)
    header = [t for t in tokens[:start] if t.kind == "TEXT"]
    data = tokens[start:]
    if not any(t.kind == "NUM" for t in data):
        return None
    words = [_squash(t.text) for t in header]
    has_rowno = "行次" in words
    has_code = any(CODE_HEADER_RE.search(w) for w in words) or _codes_in(data)
    rows = _halves(data, has_rowno, has_code)
    if widths == [0]:
        widths = [max((len(h.values) for h in rows), default=0)]
    elif has_rowno:
        widths = [w + 1 for w in widths]  # PyMuPDF drops the empty 行次 cell of the 栏次 row
    if not rows or max(widths) == 0:
        return None
    names = _header_names(header)
    if halves >= 2 and len(widths) >= 2:
        return _grid2(rows, names, widths[:2], has_rowno)
    return _grid(rows, names, max(widths), has_code)


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _data_start(tokens: list[Tok]) -> tuple[int, list[int], int]:
    """Index of the first data token, value columns per side (0 = unknown) and sides (1 or 2)."""
    marks = [i for i, t in enumerate(tokens) if t.kind == "TEXT" and _squash(t.text) == "栏次"]
    if marks:
        counts = []
        for k, m in enumerate(marks):
            end = marks[k + 1] if k + 1 < len(marks) else len(tokens)
            j = m + 1
            nums: list[int] = []
            while j < end and (tokens[j].kind == "BLANK" or _is_int(tokens[j].text)):
                if tokens[j].kind != "BLANK":
                    if nums and int(tokens[j].text) != nums[-1] + 1:
                        break
                    nums.append(int(tokens[j].text))
                j += 1
            counts.append(len(nums))
        return j, counts, len(marks)
    seq = _numbering(tokens)
    if seq is not None:
        return seq
    return _first_row(tokens), [0], 1


def _is_int(s: str) -> bool:
    return bool(ROWNO_RE.match(s))


def _numbering(tokens: list[Tok]) -> tuple[int, list[int], int] | None:
    """A bare 1 2 3 … N column numbering before the first figure (tables without a 栏次 label)."""
    for i, t in enumerate(tokens):
        if t.kind == "NUM" and not _is_int(t.text):
            return None
        if t.text == "1":
            j, want = i, 1
            while j < len(tokens) and (tokens[j].kind == "BLANK" or tokens[j].text == str(want)):
                want += tokens[j].kind != "BLANK"
                j += 1
            if want > 3:
                return j, [want - 1], 1
    return None


def _first_row(tokens: list[Tok]) -> int:
    """No numbering: the data starts at the label (and code) in front of the first figure."""
    first = next((i for i, t in enumerate(tokens) if t.kind == "NUM" and not _is_int(t.text)), len(tokens))
    i = first - 1
    while i >= 0 and tokens[i].kind == "BLANK":
        i -= 1
    if i >= 0 and tokens[i].kind == "TEXT":
        i -= 1
    if i >= 0 and tokens[i].kind == "NUM" and CODE_RE.match(tokens[i].text):
        i -= 1
    return max(i + 1, 0)


def _codes_in(data: list[Tok]) -> bool:
    """Codes show as 3/5/7-digit integers right before a label, at least twice."""
    hits = 0
    for a, b in zip(data, data[1:], strict=False):
        hits += a.kind == "NUM" and bool(CODE_RE.match(a.text)) and b.kind == "TEXT"
    return hits >= 2


def _next_kind(data: list[Tok], i: int) -> str:
    for t in data[i + 1 :]:
        if t.kind != "BLANK":
            return t.kind
    return ""


def _halves(data: list[Tok], has_rowno: bool, has_code: bool) -> list[Half]:
    out: list[Half] = []
    cur: Half | None = None
    prev = ""

    def start(**kw: object) -> Half:
        if cur is not None and (cur.label or cur.values or cur.code):
            out.append(cur)
        return Half(**kw)  # type: ignore[arg-type]

    for i, t in enumerate(data):
        if t.kind == "BLANK":
            prev = "BLANK"
            continue
        if t.kind == "TEXT":
            if cur is not None and prev == "TEXT" and not cur.values:
                cur.label += t.text
            elif cur is not None and prev == "NUM" and cur.code and not cur.label and not cur.values:
                cur.label = t.text
            else:
                cur = start(label=t.text, page=t.page)
            cur.raw.append(t.text)
        elif has_code and CODE_RE.match(t.text) and _next_kind(data, i) == "TEXT":
            cur = start(code=t.text, page=t.page)
            cur.raw.append(t.text)
        elif has_rowno and _is_int(t.text) and (cur is None or cur.values):
            cur = start(values=[t.text], page=t.page)
            cur.raw.append(t.text)
        else:
            if cur is None:
                cur = Half(page=t.page)
            cur.values.append(t.text)
            cur.raw.append(t.text)
        prev = t.kind
    if cur is not None and (cur.label or cur.values):
        out.append(cur)
    return out


def _header_names(header: list[Tok]) -> list[str]:
    """Header cells with wrapped fragments re-joined ("本年收入合" + "计")."""
    names: list[str] = []
    for t in header:
        s = _squash(t.text)
        if s in ("栏次", "") or NUM_RE.match(s):
            continue
        if names and _continues(names[-1], s):
            names[-1] += s
        else:
            names.append(s)
    return names


def _continues(prev: str, s: str) -> bool:
    if s in STANDALONE or prev in STANDALONE or (s in LABEL_WORDS and s not in ("收入", "支出")):
        return False
    if len(s) > 1 and prev.endswith(("费", "入", "出", "计", "数", "额", "款")):
        return False  # the previous cell ends on a whole word
    return s.startswith(("（", "(")) or len(s) == 1 or (len(s) <= 3 and len(prev) >= 4)


def _grid2(rows: list[Half], names: list[str], widths: list[int], has_rowno: bool) -> Grid:
    """收入 | 支出 side by side: one output row per printed line, each side label + its cells."""
    value_names = [n for n in names if n not in LABEL_WORDS and n not in GROUP_WORDS and n != "行次"]
    header: list[str] = []
    for w in widths:
        nv = w - (1 if has_rowno else 0)
        leaf = value_names[:nv] if len(value_names) >= nv else ["金额"] * nv
        value_names = value_names[nv:]
        header += ["项目"] + (["行次"] if has_rowno else []) + leaf
    out: list[tuple[str, ...]] = []
    quotes: list[str] = []
    pages: list[int | None] = []
    for pair in _pairs(rows, has_rowno):
        cells: list[str] = []
        for h, w in zip(pair, widths, strict=True):
            cells += [h.label if h else ""] + _pad(h.values if h else [], w)
        out.append(tuple(cells))
        quotes.append("\t".join(x for h in pair if h for x in h.raw))
        pages.append(next((h.page for h in pair if h), None))
    return _make(header, names, out, quotes, pages)


def _grid(rows: list[Half], names: list[str], width: int, has_code: bool) -> Grid:
    value_names = [n for n in names if n not in LABEL_WORDS and n not in GROUP_WORDS and n != "行次"]
    width = max(width, max(len(h.values) for h in rows))
    leaves = _leaf_names(value_names, width)
    header = (["科目编码", "科目名称"] if has_code else ["项目"]) + leaves
    out: list[tuple[str, ...]] = []
    quotes: list[str] = []
    pages: list[int | None] = []
    for h in rows:
        if not h.values and not h.code and (h.label in STANDALONE or h.label in LABEL_WORDS):
            continue  # a header word repeated on a continuation page
        lead = [h.code, h.label] if has_code else [h.label]
        out.append(tuple(lead + place(h.values, value_names, leaves, width)))
        quotes.append("\t".join(h.raw))
        pages.append(h.page)
    return _make(header, names, out, quotes, pages)


def _make(header: list[str], names: list[str], out: list[tuple[str, ...]], quotes: list[str],
          pages: list[int | None]) -> Grid:
    first = pages[0] if pages else None
    return Grid(rows=(tuple(header), *out), page=first, quotes=("\t".join(names), *quotes), pages=(first, *pages))


def _pad(values: list[str], n: int) -> list[str]:
    return values + [""] * (n - len(values))


def _pairs(rows: list[Half], has_rowno: bool) -> list[tuple[Half | None, Half | None]]:
    """Left and right sides alternate; a right side numbered below its left one starts a new row."""
    out: list[tuple[Half | None, Half | None]] = []
    i = 0
    while i < len(rows):
        left = rows[i]
        right = rows[i + 1] if i + 1 < len(rows) else None
        rl, rr = _rowno(left), (_rowno(right) if right is not None else None)
        if has_rowno and rl is not None and rr is not None and rr <= rl:
            right = None
        out.append((left, right))
        i += 2 if right is not None else 1
    return out


def _rowno(h: Half) -> int | None:
    return int(h.values[0]) if h.values and _is_int(h.values[0]) else None


def _leaf_names(names: list[str], width: int) -> list[str]:
    """Column names when the header cells match the column count; else numbered columns."""
    if len(names) == width:
        return names
    tail = names[-width:]
    if len(names) > width and (width == 1 or names[-2 * width : -width] == tail):
        return tail  # side-by-side blocks (人员经费 | 公用经费) repeat the same leaf names
    from budgetqa.index.read.header_tree import leaf_names

    return leaf_names(names, width) or [f"第{k}栏" for k in range(1, width + 1)]
