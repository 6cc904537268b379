"""The spaced reader: rows printed as one line of single-space-separated cells (seeds 002, 004)."""

from __future__ import annotations

from pathlib import Path

import pytest
from budgetqa.index.read.blocks import Grid, Paragraph
from budgetqa.index.read.readers import read_blocks
from budgetqa.index.read.spaced import cells, header_words, looks_spaced, read_spaced

from tests.paths import EXTRA

SEEDS = Path(__file__).resolve().parents[1] / "index" / "corpus"

LAYOUTS = {
    "000_01543403f5824e7e.txt": "tsv", "001_99a0e79d6e43ffbd.txt": "tsv", "002_62b2df7a6071b29f.txt": "spaced",
    "003_1d07f92e8e5daf27.txt": "tsv", "004_cac2b92dd79aafa7.txt": "spaced",
    "wuxi-petition-bureau-2025-budget.txt": "tsv", "shanghai-putuo-wanli-subdistrict-2025-budget.txt": "csv",
    "changsha-public-security-bureau-2025-budget.txt": "layout",
    "foshan-rail-transit-bureau-2019-final-accounts.txt": "raw", "xian-health-commission-2022-final-accounts.txt": "raw",
    "xian-medical-security-bureau-2022-budget.md": "markdown", "shanghai-putuo-finance-bureau-2024-final-accounts.html": "html",
}


def _path(name: str) -> Path:
    return SEEDS / name if name[:3].isdigit() else EXTRA / name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_each_rendering_gets_its_reader(name: str) -> None:
    path = _path(name)
    if not path.exists():
        pytest.skip(f"{path} not present")
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    assert looks_spaced(text) == (LAYOUTS[name] == "spaced")
    if path.suffix == ".txt":
        assert read_blocks(path, data)[2] == LAYOUTS[name]


def test_glued_figures_split_on_two_decimals() -> None:
    got = [(c.kind, c.text) for c in cells("合计 93.4283.42 10.00")]
    assert got == [("text", "合计"), ("fig", "93.42"), ("fig", "83.42"), ("fig", "10.00")]
    got = [(c.kind, c.text) for c in cells("一、一般公共预算拨款收入 93.42一、一般公共服务支出 0.00")]
    assert got == [("text", "一、一般公共预算拨款收入"), ("fig", "93.42"), ("text", "一、一般公共服务支出"), ("fig", "0.00")]
    assert [c.text for c in cells("0.14 0.000.00 0.00 0.00 0.14")] == ["0.14", "0.00", "0.00", "0.00", "0.00", "0.14"]
    assert cells("2101506")[0].kind == "code"


def test_header_fragments_joined_and_totals_split() -> None:
    assert header_words(["项 目 预算数 项 目 预算数"]) == ["项目", "预算数", "项目", "预算数"]
    assert header_words(["收 入 支 出"]) == ["收入", "支出"]
    assert header_words(["合计", "基本支", "出", "人员经", "费"]) == ["合计", "基本支出", "人员经费"]
    assert header_words(["公务接待", "费小计"]) == ["公务接待费", "小计"]


TABLE = """附表 4-3
支出总表
部门/单位：某中心 单位：万元
科目编码 科目名称 合计
基本支
出
项目支
出
合计 93.4283.42 10.00
210 卫生健康支出 75.3065.30 10.00
2101506
医疗保障经办事
务
10.000.00 10.00
附表 4-4
收支总表
部门/单位：某中心 单位：万元
收 入 支 出
项 目 预算数 项 目 预算数
一、一般公共预算拨款收入 93.42一、一般公共服务支出 0.00
五、事业收入 0.00
五、文化旅游体育与传
媒支出
0.00
十、农林水支出 6.89
收 入 总 计 93.42支 出 总 计 93.42
"""


def test_coded_table_rows_with_wrapped_labels() -> None:
    blocks, _, layout = read_spaced(TABLE)
    assert layout == "spaced"
    grids = [b for b in blocks if isinstance(b, Grid)]
    assert grids[0].rows[0] == ("科目编码", "科目名称", "合计", "基本支出", "项目支出")
    assert grids[0].rows[1] == ("", "合计", "93.42", "83.42", "10.00")
    assert grids[0].rows[3] == ("2101506", "医疗保障经办事务", "10.00", "0.00", "10.00")
    assert grids[0].quote(3) == "2101506 医疗保障经办事 务 10.000.00 10.00"


def test_side_by_side_rows_go_to_their_side() -> None:
    grid = [b for b in read_spaced(TABLE)[0] if isinstance(b, Grid)][1]
    assert grid.rows[:2] == (("收入", "", "支出", ""), ("项目", "预算数", "项目", "预算数"))
    assert grid.rows[2] == ("一、一般公共预算拨款收入", "93.42", "一、一般公共服务支出", "0.00")
    assert grid.rows[3] == ("五、事业收入", "0.00", "五、文化旅游体育与传媒支出", "0.00")
    assert grid.rows[4] == ("", "", "十、农林水支出", "6.89")
    assert grid.rows[5] == ("收入总计", "93.42", "支出总计", "93.42")


def test_untitled_table_keeps_its_label_cells_apart() -> None:
    text = "编制范围的单位详细情况见下表:\n单位名称 单位性质\n在职\n人数\n某中心 参照公务员法管理事业单位 45\n三、单位主要工作总结\n"
    grids = [b for b in read_spaced(text)[0] if isinstance(b, Grid)]
    assert grids[0].rows == (("单位名称", "单位性质", "在职人数"), ("某中心", "参照公务员法管理事业单位", "45"))


def test_wrapped_figures_and_codes_stay_on_their_row() -> None:
    text = "收入总表\n部门/单位：某中心 单位：万元\n科目编码 科目名称 合计\n合计 93.42\n0.\n00\n032\n004\n某中心\n93.42\n0.0\n0\n"
    grid = next(b for b in read_spaced(text)[0] if isinstance(b, Grid))
    assert grid.rows[1:] == (("", "合计", "93.42", "0.00"), ("032004", "某中心", "93.42", "0.00"))


def test_wrapped_prose_is_one_paragraph_again() -> None:
    line = "收入总计 93.42 万元（上年收入总计 54.07 万元，同比增加"
    text = "\n".join([line, "39.35 万元）。", "（二）支出预算情况", "主管部门 某局 实施单位 某中心甲乙丙丙丁", "项目资金"] + [line + "。"] * 8)
    paras = [b.text for b in read_spaced(text)[0] if isinstance(b, Paragraph)]
    assert paras[:4] == [line + "39.35 万元）。", "（二）支出预算情况", "主管部门 某局 实施单位 某中心甲乙丙丙丁", "项目资金"]


def test_a_header_line_that_ends_a_table_is_read_once() -> None:
    blocks = read_spaced("附件 名称 金额\n合计 1.00 2.00\n")[0]  # used to loop for ever
    assert isinstance(blocks[0], Paragraph) and blocks[0].text == "附件 名称 金额"
