"""Space-aligned layout text (pdftotext -layout): columns from character positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from budgetqa.index.blocks import Grid, Heading, Paragraph
from budgetqa.index.read_layout import looks_layout, read_layout

EXTRA = Path("/work/shared/corpus-extra")

SAMPLE = """===== 第1页 =====
一、部门收支总体情况
2025 年本单位收入预算 68632.12 万元，比上年减少 1316.82 万元。
===== 第2页 =====
                         2025年一般公共预算支出情况表
单位名称：某某局                                                                 单位：万元
        科目编码
                                功能科目          总       计               基本支出             项目支出
  类      款     项
  **     **    **                 **              1                    2                3

                    合计                                    68,632.12        28,398.17        40,233.95

 204                公共安全支出                                68,629.12        28,398.17        40,230.95

         02         公安                                    68,629.12        28,398.17        40,230.95

  204     02   01    行政运行                                 28,398.17        28,398.17

  204     02   02    一般行政管理事务                             36,490.02                         36,490.02

注：本表反映一般公共预算支出情况。
"""


def test_sample_columns() -> None:
    assert looks_layout(SAMPLE)
    blocks, pages, layout = read_layout(SAMPLE)
    assert (pages, layout) == (2, "layout")
    (grid,) = [b for b in blocks if isinstance(b, Grid)]
    assert grid.rows[0][-3:] == ("总计", "基本支出", "项目支出")
    assert grid.rows[1][-4:] == ("合计", "68,632.12", "28,398.17", "40,233.95")
    assert ("2040201", "行政运行", "28,398.17", "28,398.17", "") in grid.rows
    assert ("2040202", "一般行政管理事务", "36,490.02", "", "36,490.02") in grid.rows
    assert ("02", "公安", "68,629.12", "28,398.17", "40,230.95") in grid.rows
    assert grid.page_of(1) == 2
    assert any(isinstance(b, Heading) and b.text == "一、部门收支总体情况" for b in blocks)
    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert "2025年一般公共预算支出情况表" in texts
    assert any("68632.12 万元" in t for t in texts)


def test_not_layout_for_tsv() -> None:
    assert not looks_layout("项目\t金额\n合计\t1.00\n")


def _table(blocks: list, title: str) -> Grid:
    for i, b in enumerate(blocks):
        if isinstance(b, Paragraph) and b.text.strip() == title:
            return next(g for g in blocks[i:] if isinstance(g, Grid))
    raise AssertionError(title)


@pytest.mark.slow
def test_changsha_tables() -> None:
    blocks, pages, _ = read_layout((EXTRA / "changsha-public-security-bureau-2025-budget.txt").read_text())
    assert pages == 53
    totals = _table(blocks, "2025年部门收支总体情况表")
    assert ("一、本级财政拨款收入", "68,632.12", "一、基本支出", "28,398.17") in totals.rows
    assert ("收入总计", "68,632.12", "支出总计", "68,632.12") in totals.rows
    income = _table(blocks, "2025年部门收入总体情况表")
    assert income.rows[0][2:5] == ("合计", "本级财政拨款金额", "其中:经费拨款")
    assert len(income.rows[0]) == 11  # 9 numbered value columns, most of them empty
    assert ("2040202", "一般行政管理事务", "36,490.02", "36,490.02", "18,228.51", "", "", "", "", "", "") in income.rows
    basic = _table(blocks, "2025年一般公共预算基本支出情况表")
    assert basic.rows[0][2:] == ("总计", "人员类", "公用经费")
    assert ("30217", "公务接待费", "28.50", "", "28.50") in basic.rows  # from the continuation page
    sangong = _table(blocks, "2025年一般公共预算“三公”经费支出情况表")
    assert sangong.rows[0][2] == "公务接待费" and sangong.rows[1][:3] == ("合计", "458.50", "28.50")
