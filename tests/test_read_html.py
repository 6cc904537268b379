"""HTML renderings: <table> grids (spans expanded), <p> lines, page comments."""

from __future__ import annotations

from budgetqa.index.read.blocks import Grid, Paragraph
from budgetqa.index.read.html import read_html

from tests.docs import load

HTML = """<html><body>
<!-- 第3页 --><p>收入决算表</p><p>单位：万元</p>
<table border="1">
<tr><td rowspan="2">项目</td><td colspan="2">本年收入</td></tr>
<tr><td>合计</td><td>其他</td></tr>
<tr><td>合计</td><td>2,946.25</td><td></td></tr>
</table>
<!-- 第4页 --><p>注：空白表示零。</p>
</body></html>"""


def test_html_blocks_spans_and_pages() -> None:
    blocks, pages, layout = read_html(HTML)
    assert (pages, layout) == (4, "html")
    assert blocks[0] == Paragraph("收入决算表", 3)
    grid = blocks[2]
    assert isinstance(grid, Grid)
    assert grid.rows == (("项目", "本年收入", ""), ("", "合计", "其他"), ("合计", "2,946.25", ""))
    assert blocks[3] == Paragraph("注：空白表示零。", 4)


def test_putuo_blank_cells_and_side_by_side_codes() -> None:
    doc = load("shanghai-putuo-finance-bureau-2024-final-accounts.html")
    basic = next(t for t in doc.tables if "基本支出决算表" in t.title)
    travel = next(r for r in basic.rows if r.label == "差旅费")
    assert travel.code == "30211" and "1.20" in travel.cells
    bonus = next(r for r in basic.rows if r.label == "奖金")
    assert bonus.code == "30103" and all(c == "" for c in bonus.cells)  # blank = zero, left for extraction
    sangong = next(t for t in doc.tables if "三公" in t.title)
    assert sangong.columns == ("预算数", "决算数")
    reception = next(r for r in sangong.rows if r.label == "公务接待费")
    assert reception.cells == ("0.95", "")


def test_putuo_income_table_codes_from_class_columns() -> None:
    doc = load("shanghai-putuo-finance-bureau-2024-final-accounts.html")
    income = next(t for t in doc.tables if t.title == "收入决算表")
    row = next(r for r in income.rows if r.code == "2210201")
    assert row.label == "住房公积金" and row.cells[0] == "187.19"
    assert income.rows[0].label == "合计" and income.rows[0].cells[0] == "2,946.25"
