"""Blocks -> Document: sections, table titles and measures, flattened headers, code completion."""

from __future__ import annotations

from budgetqa.index.model import Table
from budgetqa.index.read.assemble import assemble, section_level
from budgetqa.index.read.blocks import Grid, Heading, Paragraph
from budgetqa.index.read.tables import CodeCompleter, flatten

from tests.docs import load


def _table(doc_name: str, part: str) -> Table:
    doc = load(doc_name)
    found = [t for t in doc.tables if part in t.title]
    assert found, f"no table with {part!r} in {[t.title for t in doc.tables]}"
    return found[0]


def test_section_levels() -> None:
    assert section_level("第一部分 部门概况") == 1
    assert section_level("十、一般公共预算“三公”经费支出预算表") == 2
    assert section_level("（二）政府采购情况") == 3
    assert section_level("1. 项目支出绩效目标表") == 4
    assert section_level("（一）2080502-事业单位离退休 28.29 万元。") == 0
    assert section_level("一、收支预算总表 .....\t5") == 0


def test_seed_tables_title_section_measure() -> None:
    t = _table("001_99a0e79d6e43ffbd.txt", "三公")
    assert t.title == "2024年度一般公共预算“三公”经费支出预算表"
    assert t.section == "十、一般公共预算“三公”经费支出预算表"
    assert t.measure == "万元" and t.columns == ("预算数",)
    row = next(r for r in t.rows if "公务接待费" in r.label)
    assert row.label == "2、公务接待费" and row.cells == ("5.00",) and row.quote == "2、公务接待费\t5.00"


def test_merged_header_flattened_and_codes() -> None:
    t = _table("001_99a0e79d6e43ffbd.txt", "一般公共预算拨款支出预算表")
    assert t.columns == ("合计", "基本支出", "项目支出")
    row = next(r for r in t.rows if r.code == "2101501")
    assert row.label == "行政运行" and row.cells == ("3645.93", "3605.93", "40.00")
    total = t.rows[0]
    assert total.label == "合计" and total.code is None


def test_truncated_codes_completed() -> None:
    t = _table("003_1d07f92e8e5daf27.txt", "单位支出总表")
    assert [r.code for r in t.rows[:4]] == [None, "210", "21015", "2101501"]
    completer = CodeCompleter()
    got = [completer.complete(c) for c in ("210", "15", "01", "02")]
    assert got == ["210", "21015", "2101501", "2101502"]


def test_short_code_after_completed_parent_opens_sibling() -> None:
    from decimal import Decimal as D

    c = CodeCompleter()
    seq = [("210", D(10)), ("15", D(6)), ("01", D(6)), ("11", D(4)), ("01", D(4))]
    assert [c.complete(code, amt) for code, amt in seq] == ["210", "21015", "2101501", "21011", "2101101"]


def test_flatten_three_levels() -> None:
    header = [("年", "2021年", "", "", "2022年"), ("", "合计", "三公", "", "合计"), ("", "", "小计", "接待费", "")]
    assert flatten(header, 5) == ["年", "2021年/合计", "2021年/三公/小计", "2021年/三公/接待费", "2022年/合计"]


def test_paired_income_expense_table() -> None:
    t = _table("001_99a0e79d6e43ffbd.txt", "收支预算总表")
    assert t.columns == ("收入/预算数", "支出/预算数")
    health = next(r for r in t.rows if "卫生健康支出" in r.label)
    assert health.cells == ("", "220699.69")
    income = next(r for r in t.rows if "一般公共预算拨款收入" in r.label)
    assert income.cells == ("222846.31", "")


def test_grid_continued_after_page_break_joins_table() -> None:
    blocks = [Heading("2024年部门预算表", 1, 1), Paragraph("一般公共预算支出表", 1), Paragraph("单位：万元", 1),
              Grid((("科目编码", "科目名称", "合计"), ("201", "一般公共服务支出", "3.00")), 1),
              Grid((("20101", "人大事务", "3.00"),), 2)]
    doc = assemble("x.txt", "0", blocks, 2, "tsv")
    assert len(doc.tables) == 1
    assert [r.code for r in doc.tables[0].rows] == ["201", "20101"]
    assert doc.tables[0].rows[1].page == 2


def test_measure_not_inherited() -> None:
    blocks = [Paragraph("某某局2024年部门预算", None), Paragraph("收支总表", None), Paragraph("单位：万元", None),
              Grid((("项目", "预算数"), ("合计", "1.00")), None), Paragraph("人员表", None),
              Grid((("项目", "人数"), ("合计", "3")), None)]
    doc = assemble("x.txt", "0", blocks, None, "tsv")
    assert [t.measure for t in doc.tables] == ["万元", ""]
    assert [t.title for t in doc.tables] == ["收支总表", "人员表"]


def test_csv_squashed_total_row_realigned_and_repeated_headers_dropped() -> None:
    doc = load("shanghai-putuo-wanli-subdistrict-2025-budget.txt")
    spend = next(t for t in doc.tables if "支出预算总表" in t.title)
    total = next(r for r in spend.rows if r.label == "合计")
    assert total.cells == ("189,767,551", "101,341,746", "88,425,805")
    func = next(t for t in doc.tables if "一般公共预算支出功能分类" in t.title)
    assert not any(r.label in ("功能分类科目名称", "项目", "类") for r in func.rows)
    assert next(r for r in func.rows if r.code == "2120101").label == "行政运行"


def test_header_only_table_transposed() -> None:
    doc = load("wuxi-petition-bureau-2025-budget.txt")
    t = next(t for t in doc.tables if "三公" in t.title)
    assert t.title.startswith("公开09表") and t.measure == "万元" and t.columns == ("预算数",)
    assert {r.label: r.cells[0] for r in t.rows}["公务接待费"] == "1.50"
    assert {r.label: r.cells[0] for r in t.rows}["培训费"] == "16.20"


def test_running_page_header_not_in_sections() -> None:
    doc = load("wuxi-petition-bureau-2025-budget.txt")
    assert not any("2025 年度部门预算公开" in s.text for s in doc.sections)
    basic = next(t for t in doc.tables if t.title.startswith("公开08表"))
    assert next(r for r in basic.rows if r.code == "30217").cells == ("1.50", "", "1.50")


def test_title_with_inline_measure() -> None:
    blocks = [Paragraph("某某局2024年部门预算", None), Paragraph("一般公共预算“三公”经费支出表（单位：万元）", None),
              Grid((("项目", "预算数"), ("公务接待费", "5.00")), None)]
    doc = assemble("x.txt", "0", blocks, None, "tsv")
    assert (doc.tables[0].title, doc.tables[0].measure) == ("一般公共预算“三公”经费支出表", "万元")
