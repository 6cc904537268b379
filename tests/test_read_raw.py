"""Raw PDF text (one cell per line): row reconstruction on a tiny sample and the real renderings."""

from __future__ import annotations

import pytest
from budgetqa.index.read.blocks import Grid, Heading, Paragraph
from budgetqa.index.read.raw import looks_raw, read_raw

from tests.docs import grid_titled as _table
from tests.paths import EXTRA

SAMPLE = """===== 第1页 =====
1
一般公共预算财政拨款支出决算表
单位：万元
科目编码
科目名称
本年支出合
计
基本支出
项目支出
栏次
1
2
3
合计
30.00
10.00
20.00
201
一般公共服务支
出
30.00
10.00
20.00
注：本表反映支出。
===== 第2页 =====
2
一、收入支出决算总体情况说明
本年收入合计1668.14 万元，比上年增加
2.00 万元。
"""


def _grids(blocks: list) -> list[Grid]:
    return [b for b in blocks if isinstance(b, Grid)]


def test_sample_rows_and_header() -> None:
    assert looks_raw(SAMPLE)
    blocks, pages, layout = read_raw(SAMPLE)
    assert (pages, layout) == (2, "raw")
    (grid,) = _grids(blocks)
    assert grid.rows[0] == ("科目编码", "科目名称", "本年支出合计", "基本支出", "项目支出")
    assert grid.rows[1] == ("", "合计", "30.00", "10.00", "20.00")
    assert grid.rows[2] == ("201", "一般公共服务支出", "30.00", "10.00", "20.00")
    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert "单位：万元" in texts and "一般公共预算财政拨款支出决算表" in texts
    assert any("本年收入合计1668.14 万元，比上年增加2.00 万元。" in t for t in texts)
    assert not any(t.strip() in ("1", "2") for t in texts)  # page numbers dropped


def test_short_row_placed_by_sum_rule() -> None:
    from budgetqa.index.read.header_tree import leaf_names, place

    names = ["三公经费", "会议费", "培训费", "小计", "因公出国（境）费", "公务用车购置及运行费", "公务接待费",
             "小计", "公务用车购置费", "公务用车运行费"]
    leaves = leaf_names(names, 8)
    assert leaves is not None and leaves[2] == "三公经费/公务用车购置及运行费/小计"
    cells = place(["593.46", "591.60", "136.48", "455.12", "1.86", "86.81", "2,795.78"], names, leaves, 8)
    assert cells == ["593.46", "", "591.60", "136.48", "455.12", "1.86", "86.81", "2,795.78"]


@pytest.mark.slow
def test_foshan_tables() -> None:
    blocks, pages, _ = read_raw((EXTRA / "foshan-rail-transit-bureau-2019-final-accounts.txt").read_text())
    assert pages == 31
    total = _table(blocks, "收入支出决算总表")
    assert ("", "13", "", "十三、交通运输支出", "39", "1531.04") in total.rows
    assert ("总计", "26", "1668.14", "总计", "52", "1668.14") in total.rows
    spend = _table(blocks, "支出决算表")
    assert ("2140102", "一般行政管理事务", "905.60", "0.00", "905.60", "0.00", "0.00", "0.00") in spend.rows
    sangong = _table(blocks, "一般公共预算财政拨款“三公”经费支出决算表")
    assert sangong.rows[0][-1] == "决算数/公务接待费" and sangong.rows[1][-1] == "0.16"
    basic = _table(blocks, "一般公共预算财政拨款基本支出决算表")
    assert ("30217", "公务接待费", "0.16") in basic.rows


@pytest.mark.slow
def test_xian_health_tables() -> None:
    blocks, pages, _ = read_raw((EXTRA / "xian-health-commission-2022-final-accounts.txt").read_text())
    assert pages == 171
    total = _table(blocks, "收入支出决算总表")
    assert ("总计", "30", "2,480,372.70", "总计", "60", "2,480,372.70") in total.rows
    income = _table(blocks, "收入决算表")
    # empty cells are dropped in this rendering: a short row keeps only its leading 合计 figure,
    # the quote keeps all of them
    k = next(i for i, r in enumerate(income.rows) if r[0] == "2050201")
    assert income.rows[k] == ("2050201", "学前教育", "1,263.15", "", "", "", "", "", "")
    assert income.quote(k) == "2050201\t学前教育\t1,263.15\t1,182.59\t80.56"
    assert any(r[0] == "2210201" for r in income.rows)  # rows from the continuation pages
    sangong = _table(blocks, "财政拨款“三公”经费及会议费、培训费支出决算表")
    assert sangong.rows[1] == ("预算数", "593.46", "", "591.60", "136.48", "455.12", "1.86", "86.81", "2,795.78")


SELF_EVALUATION = "\n".join([
    "===== 第55页 =====",
    "某某市级2022年病媒生物防制项目绩效自评表", "（2022年度）", "项目名称", "2022年病媒生物防制",
    "项目资金", "（万元）", "年初预算数", "全年预算数（A）", "全年执行数（B）", "分值", "执行率（", "B/A）", "得分",
    "年度资金总额", "240", "229.19", "229.19", "10", "100.00%", "10.00",
    "其中：当年财政拨款", "240", "229.19", "229.19", "—", "—",
    "绩", "效", "一级指标", "三级指标", "年度", "指标值", "实际", "完成值", "分值", "得分",
    "产出指标", "（50分）", "数量", "指标", "指标1：消杀覆盖区县（开发区）", "数量", "16个", "16个", "12.5", "12.5",
    "质量", "指标", "指标1：控制病媒生物密度", "国家标准范围之内", "国家标准范围之内", "12.5", "12.5",
    "社会效", "益指标指标1：全年项目经费支出", "240万元", "229.19万元", "12.5", "12.5",
    "总分", "100", "100",
    "===== 第56页 =====",
    "某某市级医疗设备购置项目绩效自评表",
    "年度资金总额", "0", "400", "400", "1000%", "10",
    "指标1：设备数量", "5台", "5台", "20", "20",
    "总分", "100", "100",
    "四、其他说明",
])


def test_self_evaluation_forms_become_key_value_grids() -> None:
    blocks, _, _ = read_raw(SELF_EVALUATION)
    grids = [b for b in blocks if isinstance(b, Grid)]
    titles = [b.text for b in blocks if isinstance(b, Paragraph) and b.text.endswith("自评表")]
    assert titles[0] == titles[1] == "某某市级2022年病媒生物防制项目绩效自评表"
    assert grids[0].rows[1] == ("项目资金（万元）", "年度资金总额", "240", "229.19", "229.19", "100.00%")
    # a wrapped name is joined, a category cell run into the indicator line is dropped, a
    # non-numeric target is kept as printed
    assert grids[1].rows[1:] == (("消杀覆盖区县（开发区）数量", "16个", "16个"),
                                 ("控制病媒生物密度", "国家标准范围之内", "国家标准范围之内"),
                                 ("全年项目经费支出", "240万元", "229.19万元"))
    # 分值 left out; a "1000%" that 执行数 / 预算数 contradicts is dropped
    assert grids[2].rows[1] == ("项目资金（万元）", "年度资金总额", "0", "400", "400", "")
    assert grids[3].rows[1] == ("设备数量", "5台", "5台")


def test_score_list_printed_as_text_becomes_a_grid() -> None:
    text = "\n".join(["===== 第29页 =====", "主要项目绩效自评情况如下。", "项目名称", "自评分数",
                      "甲项目经费", "100", "乙项目工程质量安全行业监管", "技术服务", "96.53",
                      "", "===== 第30页 =====", "第四部分  名词解释"])
    blocks, _, _ = read_raw(text)
    grid = next(b for b in blocks if isinstance(b, Grid))
    assert grid.rows == (("项目名称", "自评分数"), ("甲项目经费", "100"), ("乙项目工程质量安全行业监管技术服务", "96.53"))
    assert any(isinstance(b, Heading) and "名词解释" in b.text for b in blocks)


def test_numbered_heading_wrapped_at_the_line_width_stays_a_heading() -> None:
    prose = "按照综合预算的原则，某市交通运输局所有收入和支出均纳入部门预算管理，收入包括一般公共预算拨款收入。"
    lines = [prose[:26], prose[26:], "（二）关于某市交通运输局2026年收入预算情况说", "明",
             "某市交通运输局2026年收入预算201286.11万元，比上", "年执行数增加81487.86万元。"]
    blocks, _, _ = read_raw("\n".join(["===== 第1页 =====", *lines]))
    heads = [b.text for b in blocks if isinstance(b, Heading)]
    assert "（二）关于某市交通运输局2026年收入预算情况说明" in heads
    assert any(isinstance(b, Paragraph) and b.text.startswith("某市交通运输局2026年收入预算") for b in blocks)
