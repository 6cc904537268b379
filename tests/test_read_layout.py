"""Space-aligned layout text (pdftotext -layout): columns from character positions."""

from __future__ import annotations

import pytest
from budgetqa.index.read.blocks import Grid, Heading, Paragraph
from budgetqa.index.read.layout import looks_layout, read_layout

from tests.docs import grid_titled as _table
from tests.paths import EXTRA

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


def _at(*cells: tuple[int, str]) -> str:
    """A layout line with each text starting at its column."""
    line = ""
    for col, text in cells:
        line = line.ljust(col) + text
    return line


# columns: 一级 50, 二级 61, 三级 72, 指标值 86, 内容 97, 评分 120, 单位 140, 类型 151, 备注 162
PERFORMANCE = "\n".join([
    "===== 第3页 =====",
    _at((60, "2025年项目支出绩效目标表")),
    _at((0, "单位名称：某某局"), (160, "单位：万元")),
    _at((110, "绩效指标")),
    _at((1, "单位编码"), (11, "单位（项目）名称"), (25, "资金总额"), (38, "绩效目标")),
    _at((50, "一级指标"), (55, "二级指标"), (72, "三级指标"), (86, "指标值"), (97, "指标值内容"),
        (120, "评（扣）分标准"), (140, "度量单位"), (151, "指标值类型"), (162, "备注")),
    "",
    _at((72, "开展督导专项检")),
    _at((86, "1"), (97, "开展督导专项检查"), (120, "完成得满分"), (140, "次"), (151, "≥"), (162, "1")),
    _at((72, "查行动次数")),
    "",
    _at((1, "106001"), (11, "甲项目经费"), (25, "428.69"), (38, "做好甲工作")),
    _at((50, "产出指标"), (61, "数量指标"), (72, "活动次数"), (86, "10"), (97, "活动次数"), (120, "每少一次扣1分"),
        (140, "次"), (151, "≥"), (162, "4")),
    "",
    _at((50, "满意度指"), (61, "服务对象满")),
    _at((72, "群众满意度"), (86, "90"), (97, "群众满意度"), (120, "高于90%得满分"), (140, "%"), (151, "≥"), (162, "10")),
    _at((50, "标"), (61, "意度指标")),
    "",
    _at((50, "成本指标"), (61, "经济成本指"), (72, "成本控制率"), (86, "100"), (97, "控制在总预算内"),
        (120, "每超过5%扣1分"), (140, "%"), (151, "≤"), (162, "20")),
    _at((38, "做好乙工作")),
    _at((1, "106001"), (25, "12.50")),
    _at((11, "乙项目经费")),
    _at((50, "效益指标"), (61, "社会效益指"), (72, "工作正常开展"), (86, "有效保障"), (97, "有效保障工作"),
        (120, "得满分"), (151, "定性"), (162, "5")),
    "",
])


def test_performance_table_becomes_one_form_per_project() -> None:
    blocks, _, _ = read_layout(PERFORMANCE)
    titles = [b.text for b in blocks if isinstance(b, Paragraph) and "绩效目标表" in b.text]
    grids = [b for b in blocks if isinstance(b, Grid)]
    assert titles == ["甲项目经费 2025年项目支出绩效目标表", "乙项目经费 2025年项目支出绩效目标表"]
    first, second = (dict(g.rows) for g in grids)
    assert first == {"资金总额（万元）": "428.69", "开展督导专项检查行动次数": "≥1次", "活动次数": "≥10次",
                     "群众满意度": "≥90%"}
    # the 满意度 row closes 甲; a 定性 row without a figure is no row; a name wrapped below its amount
    assert second == {"资金总额（万元）": "12.50", "成本控制率": "≤100%"}


@pytest.mark.slow
def test_changsha_performance_targets_per_project() -> None:
    blocks, _, _ = read_layout((EXTRA / "changsha-public-security-bureau-2025-budget.txt").read_text(encoding="utf-8"))
    forms: dict[str, dict[str, str]] = {}
    title = ""
    for b in blocks:
        if isinstance(b, Paragraph):
            title = b.text
        elif isinstance(b, Grid) and "项目支出绩效目标表" in title:
            forms.setdefault(title.split()[0], {}).update(dict(b.rows))
    assert len(forms) >= 14
    assert forms["装备、服装及其他设备购置费"]["公车购置数量"] == "=6台"
    assert forms["天网工程租赁和服务费"]["摄像头数"] == "37275个"
    assert forms["警务辅助人员经费（含市府机关大院30名）"]["资金总额（万元）"] == "15,470.00"
