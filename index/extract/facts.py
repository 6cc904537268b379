"""Document -> Facts: one fact per numeric table cell, plus the figures stated in the narrative.

Table facts are the ground truth the checker verifies answers against, so a cell becomes a fact
only when it is a printed figure (or a blank that the table's convention says is zero).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from typing import Any

from budgetqa.index.extract.narrative import narrative_facts
from budgetqa.index.extract.owners import document_owners
from budgetqa.index.model import MONEY_FACTORS, Document, Fact, Row, Table, parse_number

# Columns that number rows or lines rather than hold amounts (决算 tables print 行次/栏次).
_INDEX_COLUMNS = re.compile(r"^(行次|栏次|序号|项次|编号|行号)$")
# A measure stated in a column name, "金额（万元）" / "比例(%)" / "单位：元".
_BRACKET_MEASURE = re.compile(r"[（(【\[]\s*(?:单位[:：])?\s*(亿元|万元|元|%|％|人|辆|台|个|件|次|平方米|户|项|套)\s*[）)】\]]")
_UNIT_MEASURE = re.compile(r"单位[:：]\s*(亿元|万元|元)")
_PERCENT_WORDS = re.compile(r"%|％|百分比|比例|比重|占比|增长率|增减率|下降率|执行率|完成率|使用率|率$")
_COUNT_WORDS: tuple[tuple[str, str], ...] = (("人数", "人"), ("人次", "人次"), ("车辆数", "辆"), ("辆数", "辆"))
# A figure printed with its measure and maybe a comparator: "≥90%", "100%", "≤5万元", "3个".
_FIGURE_CELL = re.compile(
    r"^\s*(?P<cmp>[≥≤><=＞＜＝]|大于等于|小于等于|不低于|不高于|不少于|不超过|大于|小于|约|达到)?\s*"
    r"(?P<num>[-－]?[0-9０-９][0-9０-９,，.．]*)\s*(?:余|多)?"
    # compound units first: "元/人" must not stop at 元, "批次" not at 批
    r"(?P<measure>个百分点|(?:亿|万)?元(?:/(?:人|年|月|次|户|天|件|台|人·年)){1,2}|亿元|万元|元|%|％|人次|万人|人|辆|台|个|件|次"
    r"|平方米|户|家|项|套|所|天|小时|篇|万份|份|场|类|批次|批|期|起|分"
    r"|万吨|吨|万千瓦时|千瓦时|万度|度|万立方米|万立方|立方米)?\s*$"  # quantities of water, power, gas
)
# Rows under "项目资金（万元）" that still talk money: "其中：财政拨款", "其他资金".
_MONEY_LINE = re.compile(r"^其中|资金|拨款|经费|金额|预算")
_DASHES = ("-", "—", "－", "--", "——")


def extract_facts(doc: Document) -> list[Fact]:
    """All facts of a document, table facts first, in reading order."""
    fallback = _document_measure(doc)
    owners = document_owners(doc)
    facts = [f for i, table in enumerate(doc.tables) for f in table_facts(doc, table, fallback, owners.get(i))]
    facts.extend(narrative_facts(doc))
    return facts


def _document_measure(doc: Document) -> str:
    """The most common money measure among the document's tables.

    Used for tables whose title block lost its "单位：万元" line (page breaks, broken renderings):
    a department prints all its money tables in one measure far more often than not, whereas the
    narrative often uses another one (西安: 万元 in the text, 元 in every table), so the narrative is
    no guide. "" when no table states a measure.
    """
    counts = Counter(t.measure for t in doc.tables if t.measure in MONEY_FACTORS)
    return counts.most_common(1)[0][0] if counts else ""


_NUMBERED_ITEM = re.compile(r"^(\d{1,2}[、.．]|[（(]\d{1,2}[)）]|[一二三四五六七八九十]{1,3}[、.．])\S")


def table_facts(doc: Document, table: Table, fallback: str = "", owners: list[str] | None = None) -> list[Fact]:
    """One fact per numeric cell of every row of `table`; `owners`: the unit owning each row (owners.py)."""
    default = table.measure or ("" if _is_target_table(table) else fallback)
    if _is_form(table):
        return _form_facts(doc, table, default)
    measures = [column_measure(name, default) for name in table.columns]
    skip = [bool(_INDEX_COLUMNS.match(name.strip())) for name in table.columns]
    out: list[Fact] = []
    spans = _half_spans(table)
    for i, row in enumerate(table.rows):
        owner = owners[i] if owners is not None and i < len(owners) else ""
        out.extend(replace(f, owner=owner) if owner else f
                   for f in _row_facts(doc, table, row, measures, skip, default, spans.get(i)))
    return out


def _half_spans(table: Table) -> dict[int, range]:
    """Rows split off one printed line (side-by-side 收入|支出 tables) share a quote; each half owns
    the columns up to / from the right half's first figure, and only its own blanks are zeros."""
    spans: dict[int, range] = {}
    rows = table.rows
    for i in range(len(rows) - 1):
        if rows[i].quote != rows[i + 1].quote or rows[i].label == rows[i + 1].label or i in spans:
            continue
        left, right = _printed(rows[i]), _printed(rows[i + 1])
        split = min(right) if right else (max(left) + 1 if left else 0)
        if left and max(left) >= split:  # misaligned halves: zero-fill nothing rather than guess
            spans[i], spans[i + 1] = range(0), range(0)
        else:
            spans[i], spans[i + 1] = range(split), range(split, max(len(table.columns), len(rows[i].cells)))
    if spans:  # a side-by-side table: a lone half owns the columns on its side of its figures
        for i, row in enumerate(rows):
            figures = _printed(row)
            if i not in spans and figures:
                on_right = not row.quote.lstrip().startswith(row.label.strip()[:4])
                spans[i] = range(min(figures), len(row.cells)) if on_right else range(max(figures) + 1)
    return spans


def _printed(row: Row) -> list[int]:
    return [i for i, cell in enumerate(row.cells) if _parse_cell(cell) is not None]


def _is_target_table(table: Table) -> bool:
    """绩效目标表 hold target values (≥90%, 12次) next to amounts; their bare numbers have no money measure."""
    return "绩效" in table.title


def _is_form(table: Table) -> bool:
    """Key-value forms (绩效目标表, 项目概况) name each figure in the cell before it, not in a header."""
    return _is_target_table(table) or not any(name.strip() for name in table.columns)


def _form_facts(doc: Document, table: Table, default: str) -> list[Fact]:
    """Each figure is labelled by the nearest text cell before it; blanks are layout, never zero.

    A row label that states a measure ("项目资金（万元）") holds for the rows merged under it.
    """
    out: list[Fact] = []
    group_measure = default
    for row in table.rows:
        if row.label.strip():
            m = _BRACKET_MEASURE.search(row.label) or _UNIT_MEASURE.search(row.label)
            if m:
                group_measure = _norm_measure(m.group(1))
            elif not _MONEY_LINE.search(row.label):
                group_measure = default  # "总体目标", "产出指标": the money block has ended
        label = row.label
        for i, cell in enumerate(row.cells):
            figure = _parse_cell(cell)
            if figure is None:
                if cell.strip() and not _is_zero_mark(cell):
                    label = re.sub(r"^其中[:：]?|[:：]$", "", cell.strip()).strip()
                continue
            value, printed_measure, printed = figure
            column = _column(table, i)
            # a rate column (执行率) beats the money block's 万元 that the row label states
            rate = "%" if _PERCENT_WORDS.search(column.strip()) else ""
            measure = printed_measure or rate or row_measure(label) or column_measure(column, group_measure)
            out.append(_fact(doc, table, row, column, value, measure, printed, label=label))
    return out


def column_measure(name: str, default: str) -> str:
    """The measure a column's name states, else the table's."""
    m = _BRACKET_MEASURE.search(name) or _UNIT_MEASURE.search(name)
    if m:
        return _norm_measure(m.group(1))
    if _PERCENT_WORDS.search(name.strip()):
        return "%"
    for word, measure in _COUNT_WORDS:
        if word in name:
            return measure
    return default


def row_measure(label: str) -> str:
    """A measure the row label states ("公务用车保有量（辆）", "增长率"), which beats the column's; else ""."""
    m = _BRACKET_MEASURE.search(label)
    if m:
        return _norm_measure(m.group(1))
    return "%" if _PERCENT_WORDS.search(label.strip()) else ""


def _norm_measure(measure: str) -> str:
    return "%" if measure == "％" else measure


def _row_facts(doc: Document, table: Table, row: Row, measures: list[str], skip: list[bool],
               default: str, span: range | None = None) -> list[Fact]:
    parsed = [_parse_cell(cell) for cell in row.cells]
    if not any(p is not None and not _skipped(skip, i) for i, p in enumerate(parsed)) \
            and (span is not None or not _blank_data_row(table, row)):
        return []  # an all-blank or all-text row: headers, sub-headings, notes
    own = row_measure(row.label)
    out = []
    for i, cell in enumerate(row.cells):
        if _skipped(skip, i):
            continue
        column = _column(table, i)
        measure = own or (measures[i] if i < len(measures) else default)
        figure = parsed[i]
        if figure is None:
            if not (table.blank_is_zero and _is_zero_mark(cell)):
                continue
            if span is not None and i not in span:
                continue  # the other half of a side-by-side line
            figure = ("0", "", "")
        value, printed_measure, shown = figure
        out.append(_fact(doc, table, row, column, value, printed_measure or measure, shown))
    return out


def _blank_data_row(table: Table, row: Row) -> bool:
    """A coded (科目编码) or numbered item row printed all blank is a zero, not a heading: tables that
    show zero as blank leave 会议费 empty rather than print 0.00."""
    if not table.blank_is_zero or not all(_is_zero_mark(c) for c in row.cells) or not row.cells:
        return False
    return bool(row.code) or bool(_NUMBERED_ITEM.match(row.label.strip()))


def _column(table: Table, i: int) -> str:
    return table.columns[i] if i < len(table.columns) else ""


def _skipped(skip: list[bool], i: int) -> bool:
    return i < len(skip) and skip[i]


def _is_zero_mark(cell: str) -> bool:
    return cell.strip() in ("", *_DASHES)


def _parse_cell(cell: str) -> tuple[str, str, str] | None:
    """(value, measure printed in the cell or "", cell as printed when it carried more than a number)."""
    text = cell.strip()
    if not text or text in _DASHES:
        return None
    if parse_number(text) is not None and not text.endswith(("%", "％")):
        return text, "", ""
    m = _FIGURE_CELL.match(text)
    if not m or parse_number(m.group("num")) is None:
        return None
    return m.group("num"), _norm_measure(m.group("measure") or ""), text


def _fact(doc: Document, table: Table, row: Row, column: str, value: str, measure: str,
          printed: str, label: str | None = None) -> Fact:
    return Fact(doc=doc.name, unit=doc.unit, year=doc.year, kind=doc.kind, section=table.section,
                table=table.title, row=row.label if label is None else label, code=row.code, column=column,
                value=value, measure=measure, page=row.page if row.page is not None else table.page,
                quote=row.quote, source="table", context=printed)


_JSON_KEYS = ("doc", "unit", "year", "kind", "section", "table", "row", "code", "column", "value",
              "measure", "page", "quote", "owner")


def fact_to_json(f: Fact) -> dict[str, Any]:
    """CONTRACT.md's `budgetqa facts` line."""
    return {key: getattr(f, key) for key in _JSON_KEYS}
