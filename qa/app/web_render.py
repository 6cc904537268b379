"""HTML for the chat page: answers, badges, sources and the documents list. Pure functions only.

Everything the user typed or a document printed is escaped here, because the chatbot renders
our HTML. The output holds no blank lines: the chatbot's markdown renderer would end the HTML
block there and start interpreting the rest as markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from budgetqa.types import Answer, Citation, Value, doc_title

ALL_UNITS = "全部单位"
ALL_YEARS = "全部年份"
MAX_ECHO = 300  # characters of a question echoed back in the chat
CONTEXT_ROWS = 2  # rows shown above and below a cited row

# Longest first so "万元" wins over "元".
_MEASURES = ("平方米", "亿元", "万元", "元", "%", "％", "人", "辆", "个", "项", "次", "家", "台", "套", "天")
_FIGURE = re.compile(r"(?<![\d.])(-?\d[\d,]*(?:\.\d+)?)\s*(" + "|".join(map(re.escape, _MEASURES)) + ")")


class DocLike(Protocol):
    """What the documents tab reads from the fact store's DocInfo."""

    name: str
    unit: str
    year: int | None
    kind: str | None
    pages: int | None
    n_facts: int


@dataclass(frozen=True)
class SourceLink:
    """Where the cited page can be seen: its picture (with the quote boxed) and the PDF opened at it."""

    image: str
    pdf: str


@dataclass(frozen=True)
class TableContext:
    """A cited table around its row: column headers, rows as (label, cells), the cited row's index."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]
    focus: int | None
    label_header: str = "项目"


# ---- answers ------------------------------------------------------------------------------------


def render_question(question: str) -> str:
    """The user's bubble: escaped, long input shortened so a 5,000-character paste stays readable."""
    text = question.strip()
    if len(text) > MAX_ECHO:
        text = text[:MAX_ECHO] + f"…（共 {len(question.strip())} 字）"
    return f'<div class="bq-question">{_text(text) or "（空）"}</div>'


def render_answer(answer: Answer, contexts: Sequence[TableContext | None] = (),
                  links: Sequence[SourceLink | None] = ()) -> str:
    """The assistant's bubble; contexts[i] is the table around answer.citations[i] when known, links[i]
    its page picture and PDF when the source is an indexed PDF."""
    if answer.status == "error":
        return _div("bq-answer bq-error", f'<span class="bq-badge bq-badge-error">⚠ 无法回答</span> {_text(answer.answer)}')
    if answer.status == "not_found":
        body = f'<span class="bq-badge bq-badge-missing">未找到</span> {_text(answer.answer)}'
        return _div("bq-answer bq-not-found", body + _candidates(answer.candidates) + _notes(answer.notes))
    parts = [verification_badge(answer),
             f'<div class="bq-text">{highlight_figures(answer.answer, answer.values)}</div>',
             _candidates(answer.candidates), _notes(answer.notes),
             render_sources(answer.citations, contexts, links)]
    return _div("bq-answer", "".join(parts))


def render_draft(text: str) -> str:
    """The model's text while it is still being written: unchecked, so plainly marked and never badged as checked."""
    badge = ('<div class="bq-badge bq-badge-pending" title="数字与原表核对完成后，这里会换成最终回答">'
             "正在核对数字…（草稿，未核对）</div>")
    return _div("bq-answer bq-draft", badge + f'<div class="bq-text">{_text(text)}</div>')


def render_failure(message: str) -> str:
    """A message for a failure outside the Engine's answer (e.g. the index cannot be read)."""
    return _div("bq-answer bq-error", f'<span class="bq-badge bq-badge-error">⚠ 出错了</span> {_text(message)}')


def verification_badge(answer: Answer) -> str:
    if answer.verified:
        return ('<div class="bq-badge bq-badge-ok" title="每个数字都已与原表中的数据核对一致">'
                "✔ 已核对：回答中的数字与原表一致</div>")
    why = ("回答中的数字未能与原表逐一核对，请以下方原文为准" if answer.values
           else "回答中没有可与原表核对的数字，请以下方原文为准")
    return f'<div class="bq-badge bq-badge-warn">⚠ 未能核对：{why}</div>'


def highlight_figures(text: str, values: Iterable[Value]) -> str:
    """Escape text and wrap each figure the answer reports in <mark> (verified or not)."""
    wanted = list(values)
    out: list[str] = []
    last = 0
    escaped = _text(text)
    for m in _FIGURE.finditer(escaped):
        value = _matching_value(m.group(1), m.group(2), wanted)
        if value is None:
            continue
        cls = "bq-fig" if value.verified else "bq-fig bq-fig-unverified"
        out.append(escaped[last:m.start()])
        out.append(f'<mark class="{cls}">{m.group(0)}</mark>')
        last = m.end()
    out.append(escaped[last:])
    return "".join(out)


def _matching_value(number: str, measure: str, values: Sequence[Value]) -> Value | None:
    try:
        printed = Decimal(number.replace(",", ""))
    except InvalidOperation:
        return None
    measure = "%" if measure == "％" else measure
    for v in values:
        if v.measure == measure and abs(printed - Decimal(str(v.value))) < Decimal("0.005"):
            return v
    return None


def _candidates(units: Sequence[str]) -> str:
    if not units:
        return ""
    items = "".join(f"<li>{_text(u)}</li>" for u in units)
    return f'<div class="bq-candidates">您指的可能是以下单位之一，请在问题中写明：<ul>{items}</ul></div>'


def _notes(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    return '<div class="bq-notes">' + "".join(f"<div>ℹ {_text(n)}</div>" for n in notes) + "</div>"


# ---- sources ------------------------------------------------------------------------------------


def render_sources(citations: Sequence[Citation], contexts: Sequence[TableContext | None] = (),
                   links: Sequence[SourceLink | None] = ()) -> str:
    if not citations:
        return ""
    items = [render_citation(c, contexts[i] if i < len(contexts) else None, links[i] if i < len(links) else None)
             for i, c in enumerate(citations)]
    return f'<div class="bq-sources"><div class="bq-sources-title">来源（{len(citations)}）</div>{"".join(items)}</div>'


def render_citation(c: Citation, context: TableContext | None = None, link: SourceLink | None = None) -> str:
    """One source: a summary line led by the document's own title (then table, row, page; the file
    name last) that opens onto the page picture with the quote boxed, the quoted line, the table
    around the row, and a link to the PDF at that page."""
    where = [f'<span class="bq-doc">{_text(doc_title(c))}</span>',
             f'<span class="bq-row">{_text(c.table or "正文：" + (c.section or ""))}</span>' if (c.table or c.section) else "",
             _text(c.row) if c.row and c.row != c.section else ""]
    if c.page is not None:
        where.append(_text(f"第{c.page}页"))
    summary = " · ".join(w for w in where if w) + f' <span class="bq-file">（文件：{_text(c.doc)}）</span>'
    loc = [("文件", c.doc), ("章节", c.section), ("表", c.table or "（正文）"), ("行", c.row)]
    if c.column:
        loc.append(("列", c.column))
    rows = "".join(f"<div><b>{k}：</b>{_text(v)}</div>" for k, v in loc if v)
    quote = f'<div class="bq-quote"><b>原文：</b><code>{_text(c.quote.replace(chr(9), "  "))}</code></div>'
    table = render_table_context(context) if context else ""
    return (f'<details class="bq-citation"><summary>{summary}</summary>'
            f'<div class="bq-citation-body">{_page_view(c, link)}{rows}{quote}{table}</div></details>')


def _page_view(c: Citation, link: SourceLink | None) -> str:
    """The printed page, cited line boxed; loaded only when the citizen opens the source (lazy image
    inside a closed <details>)."""
    if link is None:
        return ""
    page = f"第{c.page}页" if c.page else "原文件"
    alt = _text(f"{doc_title(c)} {page}，标出了引用的行")
    return (f'<div class="bq-page"><a class="bq-pdf" href="{_text(link.pdf)}" target="_blank" rel="noopener">'
            f"打开原文件 PDF（{_text(page)}）↗</a>"
            f'<a href="{_text(link.image)}" target="_blank" rel="noopener">'
            f'<img class="bq-page-img" loading="lazy" src="{_text(link.image)}" alt="{alt}"></a></div>')


def render_table_context(ctx: TableContext) -> str:
    """The cited row with its column headers and a few neighbouring rows; the cited row marked."""
    n = len(ctx.rows)
    if n == 0:
        return ""
    lo, hi = (0, n) if ctx.focus is None else (max(0, ctx.focus - CONTEXT_ROWS), min(n, ctx.focus + CONTEXT_ROWS + 1))
    width = max([len(ctx.columns)] + [len(cells) for _, cells in ctx.rows[lo:hi]])
    head = "".join(f"<th>{_text(h)}</th>" for h in (ctx.label_header, *_pad(ctx.columns, width)))
    body = []
    for i in range(lo, hi):
        label, cells = ctx.rows[i]
        cls = ' class="bq-row-cited"' if i == ctx.focus else ""
        tds = "".join(f"<td>{_text(c)}</td>" for c in (label, *_pad(cells, width)))
        body.append(f"<tr{cls}>{tds}</tr>")
    more = '<div class="bq-more">…</div>' if lo > 0 or hi < n else ""
    return (f'<div class="bq-table-wrap"><table class="bq-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>{more}</div>')


def _pad(cells: Sequence[str], width: int) -> tuple[str, ...]:
    return tuple(cells) + ("",) * (width - len(cells))


def find_focus(rows: Sequence[tuple[str, tuple[str, ...]]], label: str, quote: str) -> int | None:
    """Index of the cited row: the one whose printed line equals the quote, else the first same label."""
    flat = _squash(quote)
    for i, (lab, cells) in enumerate(rows):
        if flat and _squash("".join((lab, *cells))) == flat:
            return i
    key = _squash(label)
    return next((i for i, (lab, _) in enumerate(rows) if key and _squash(lab) == key), None)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---- documents tab ------------------------------------------------------------------------------

DOC_HEADERS = ["文档", "单位", "年度", "类型", "页数", "事实数"]


def document_rows(docs: Iterable[DocLike]) -> list[list[str]]:
    return [[d.name, d.unit, str(d.year or "—"), d.kind or "—", str(d.pages or "—"), str(d.n_facts)]
            for d in sorted(docs, key=lambda d: (d.unit, -(d.year or 0), d.name))]


def filter_choices(docs: Iterable[DocLike]) -> tuple[list[str], list[str]]:
    """Dropdown choices for the unit and year filters, from what is indexed."""
    docs = list(docs)
    units = sorted({d.unit for d in docs if d.unit})
    years = sorted({d.year for d in docs if d.year}, reverse=True)
    return [ALL_UNITS, *units], [ALL_YEARS, *map(str, years)]


def parse_filters(unit: str | None, year: str | None) -> tuple[str | None, int | None]:
    """Dropdown values to Engine arguments: the "all" choices mean no filter."""
    u = None if not unit or unit == ALL_UNITS else unit
    y = int(year) if year and str(year).isdigit() else None
    return u, y


def example_questions(docs: Iterable[DocLike], limit: int = 4) -> list[str]:
    """Clickable examples built from what is indexed, so they always have an answer."""
    units = sorted({d.unit for d in docs if d.unit})
    if not units:
        return ["某单位的公务接待费是多少？"]
    first = units[0]
    out = [f"{first}的公务接待费是多少", "那差旅费呢？"]
    out += [f"{u}的“三公”经费合计是多少" for u in units[1:limit - 1]]
    return out[:limit]


def ingest_message(indexed: Sequence[str], unchanged: Sequence[str], failed: Sequence[tuple[str, str]],
                   facts: int) -> str:
    """The upload result in plain Chinese (markdown)."""
    lines = []
    if indexed:
        lines.append(f"✔ 已加入索引：{'、'.join(indexed)}（共提取 {facts} 条数据）。现在可以提问了。")
    if unchanged:
        lines.append(f"ℹ 已在索引中且内容未变：{'、'.join(unchanged)}。")
    for name, reason in failed:
        lines.append(f"⚠ 无法加入索引：{name}——{reason}。其他文档不受影响。")
    return "\n\n".join(lines) or "⚠ 没有收到文件，请先选择要上传的文件。"


def _text(s: str) -> str:
    return html.escape(s, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def _div(cls: str, inner: str) -> str:
    return f'<div class="{cls}">{inner}</div>'


def findings_markdown(findings: Mapping[str, Sequence[Any]]) -> str:
    """The documents tab's self-check: each document's inconsistencies, or that none were found."""
    if not findings:
        return "尚未索引文档。"
    bad = {doc: fs for doc, fs in findings.items() if fs}
    lines = [f"**文件自查**：核对了 {len(findings)} 个文件的合计与明细、跨表数字、情况说明与表格、同比变动；"
             f"{len(bad)} 个文件有不一致。"]
    for doc, fs in sorted(bad.items()):
        lines.append(f"\n**{_md(doc)}**（{len(fs)} 处）")
        lines += [f"- {_md(f.kind)}：{_md(f.message)}" for f in fs[:20]]
    return "\n".join(lines)


def _md(text: str) -> str:
    """Plain text inside Markdown: characters Markdown would read as markup are escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]<>#|" else ch for ch in str(text))
