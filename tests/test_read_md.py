"""Markdown renderings: pipe tables -> grids, page comments -> pages."""

from __future__ import annotations

from budgetqa.index.read.blocks import Grid, Heading, Paragraph
from budgetqa.index.read.md import read_md

from tests.docs import load

MD = """<!-- 第1页 -->
# 某某局2022年部门综合预算
表1
单位：元

| 收 入 |  | 支 出 |  |
|---|---|---|---|
| 项 目 | 预算数 | 项 目 | 预算数 |
| 一、财政拨款 | 10.00 | 一、教育支出 | 10.00 |

<!-- 第2页 -->
| 本年收入合计 | 10.00 | 本年支出合计 | 10.00 |
|---|---|---|---|
注：无
"""


def test_md_blocks_and_pages() -> None:
    blocks, pages, layout = read_md(MD)
    assert (pages, layout) == (2, "md")
    assert blocks[0] == Heading("某某局2022年部门综合预算", 1, 1)
    assert blocks[1] == Paragraph("表1", 1)
    grid = blocks[3]
    assert isinstance(grid, Grid)
    assert grid.rows[0] == ("收 入", "", "支 出", "")
    assert len(grid.rows) == 4 and grid.page_of(3) == 2  # the table goes on after the page break
    assert grid.quote(2) == "一、财政拨款\t10.00\t一、教育支出\t10.00"
    assert blocks[4] == Paragraph("注：无", 2)


def test_xian_tables_in_yuan_with_three_level_header() -> None:
    doc = load("xian-medical-security-bureau-2022-budget.md")
    t13 = next(t for t in doc.tables if t.title.startswith("表13"))
    assert t13.measure == "元" and len(t13.columns) == 27
    assert "2022年/一般公共预算拨款安排的“三公”经费预算/公务接待费" in t13.columns
    total = next(r for r in t13.rows if r.label == "合计")
    assert total.cells[t13.columns.index("2022年/一般公共预算拨款安排的“三公”经费预算/公务接待费")] == "10000"
    t1 = next(t for t in doc.tables if t.title.startswith("表1 "))
    assert t1.title == "表1 2022年部门综合预算收支总表"
    assert any(t.page == 16 for t in doc.tables) is False  # page 16 is blank


def test_xian_project_names_lose_fullwidth_indent() -> None:
    doc = load("xian-medical-security-bureau-2022-budget.md")
    t10 = next(t for t in doc.tables if t.title.startswith("表10"))
    labels = [r.label for r in t10.rows]
    assert "DRGs国家试点工作经费" in labels
    assert not any(lab.startswith(("\u3000", " ")) for lab in labels)
