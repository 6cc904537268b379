"""Table facts from hand-built Documents, and on the real seeds once they parse."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from budgetqa.index.extract.facts import column_measure, extract_facts, fact_to_json, table_facts
from budgetqa.index.model import Document, Fact, Row, Section, Table

CORPUS = Path(__file__).parents[1] / "index" / "corpus"


def _row(label: str, *cells: str, code: str | None = None) -> Row:
    return Row(label=label, code=code, cells=cells, page=3, quote="\t".join((code or "", label, *cells)))


def _doc(*tables: Table, sections: tuple[Section, ...] = ()) -> Document:
    return Document(name="t.txt", sha256="0", unit="某市某局", aliases=(), year=2024, kind="预算",
                    subunits=(), sections=sections, tables=tables, pages=None, layout="seed")


def _table(title: str, columns: tuple[str, ...], rows: tuple[Row, ...], measure: str = "万元",
           blank_is_zero: bool = True) -> Table:
    return Table(title=title, section="八、基本支出表", measure=measure, columns=columns, rows=rows,
                 page=3, blank_is_zero=blank_is_zero)


ECON = _table("一般公共预算基本支出经济分类情况表", ("合计", "人员经费", "公用经费"), (
    _row("科目名称", "", "", ""),
    _row("公务接待费", "5.00", "", "5.00", code="30217"),
    _row("办公费", "1,353.26", "", "1,353.26", code="30201"),
    _row("说明", "详见附表", "", ""),
))


def _find(facts: list[Fact], row: str, column: str) -> list[Fact]:
    return [f for f in facts if f.row == row and f.column == column]


def test_cell_becomes_fact_with_provenance() -> None:
    facts = table_facts(_doc(ECON), ECON)
    [f] = _find(facts, "公务接待费", "合计")
    assert (f.value, f.measure, f.code, f.page, f.source) == ("5.00", "万元", "30217", 3, "table")
    assert f.table == ECON.title and f.section == ECON.section and f.quote == "30217\t公务接待费\t5.00\t\t5.00"
    assert f.unit == "某市某局" and f.year == 2024 and f.kind == "预算"


def test_thousands_separator_kept_as_printed() -> None:
    [f] = _find(table_facts(_doc(ECON), ECON), "办公费", "合计")
    assert f.value == "1,353.26" and f.number == Decimal("1353.26")


def test_blank_is_zero_only_in_rows_with_figures() -> None:
    facts = table_facts(_doc(ECON), ECON)
    [blank] = _find(facts, "公务接待费", "人员经费")
    assert blank.value == "0" and blank.number == 0
    assert not [f for f in facts if f.row in ("科目名称", "说明")]


def test_blank_not_zero_when_table_says_so() -> None:
    table = _table("表", ("合计", "人员经费"), (_row("公务接待费", "5.00", ""),), blank_is_zero=False)
    assert [f.column for f in table_facts(_doc(table), table)] == ["合计"]


def test_non_numeric_cells_skipped() -> None:
    table = _table("表", ("合计", "备注"), (_row("公务接待费", "5.00", "详见说明"),), blank_is_zero=False)
    assert [f.column for f in table_facts(_doc(table), table)] == ["合计"]


def test_dash_is_zero_in_blank_zero_tables() -> None:
    table = _table("表", ("上年", "本年"), (_row("会议费", "—", "2.00"),))
    [f] = _find(table_facts(_doc(table), table), "会议费", "上年")
    assert f.number == 0


def test_percentage_column_and_cell() -> None:
    table = _table("收支表", ("本年", "增减率(%)", "占比"), (_row("收入合计", "93.42", "72.7", "100%"),))
    facts = table_facts(_doc(table), table)
    assert [(f.column, f.value, f.measure) for f in facts] == [
        ("本年", "93.42", "万元"), ("增减率(%)", "72.7", "%"), ("占比", "100", "%")]


def test_column_measure_overrides_table_measure() -> None:
    table = _table("三公经费表", ("金额（元）", "人数", "车辆（辆）", "合计"),
                   (_row("公务接待费", "5000", "12", "3", "0.50"),))
    facts = table_facts(_doc(table), table)
    assert [f.measure for f in facts] == ["元", "人", "辆", "万元"]


@pytest.mark.parametrize(("name", "measure"), [
    ("金额（万元）", "万元"), ("单位：元", "元"), ("比上年增长%", "%"), ("执行率", "%"), ("在职人数", "人"),
    ("预算数", "亿元"), ("公务用车购置及运行费/公务用车购置", "亿元"),
])
def test_column_measure(name: str, measure: str) -> None:
    assert column_measure(name, "亿元") == measure


def test_target_values_in_performance_table() -> None:
    table = _table("2024年某项目绩效目标表", ("指标值",), (
        _row("满意度", "≥90%"), _row("培训次数", "12次"), _row("完成时间", "2024年12月"), _row("金额", "≤5万元"),
        _row("会议培训", "10余次"), _row("设备购置", "约6类"),
    ), measure="", blank_is_zero=False)
    facts = table_facts(_doc(table, ECON), table, "万元")
    assert [(f.row, f.value, f.measure, f.context) for f in facts] == [
        ("满意度", "90", "%", "≥90%"), ("培训次数", "12", "次", "12次"), ("金额", "5", "万元", "≤5万元"),
        ("会议培训", "10", "次", "10余次"), ("设备购置", "6", "类", "约6类")]


def test_target_values_with_compound_and_rarer_units() -> None:
    table = _table("2024年某项目绩效目标表", ("指标值",), (
        _row("人均补助标准", "≥300元/人"), _row("年服务费", "12万元/年"), _row("人均经费", "≤11.05万元/年/人"), _row("培训期数", "4期"),
        _row("检查批次", "20批次"), _row("宣传资料", "5万份"), _row("查处案件", "≤3起"), _row("自评得分", "96.5分"),
    ), measure="", blank_is_zero=False)
    facts = table_facts(_doc(table, ECON), table, "万元")
    assert [(f.row, f.value, f.measure) for f in facts] == [
        ("人均补助标准", "300", "元/人"), ("年服务费", "12", "万元/年"), ("人均经费", "11.05", "万元/年/人"), ("培训期数", "4", "期"),
        ("检查批次", "20", "批次"), ("宣传资料", "5", "万份"), ("查处案件", "3", "起"), ("自评得分", "96.5", "分")]


def test_form_table_labels_figures_by_preceding_cell() -> None:
    table = _table("2024年某项目绩效目标表", ("", "", "", ""), (
        _row("项目资金（万元）", "资金总额：", "", "268.00", ""),
        _row("", "其他资金：", "", "", "0.00"),
        _row("其中：财政拨款", "其中：财政拨款", "", "268.00", ""),
        _row("绩效目标指标", "一级指标", "二级指标", "三级指标", "目标值"),
        _row("", "产出指标", "数量指标", "开展医保宣传活动次数", "≥18 次"),
        _row("", "成本指标", "经济成本指标", "补助资金金额", "=268 万元"),
        _row("", "效益指标", "", "预算执行率", "100"),
    ), measure="", blank_is_zero=True)
    facts = table_facts(_doc(table), table, "元")
    assert [(f.row, f.value, f.measure) for f in facts] == [
        ("资金总额", "268.00", "万元"), ("其他资金", "0.00", "万元"), ("财政拨款", "268.00", "万元"),
        ("开展医保宣传活动次数", "18", "次"),
        ("补助资金金额", "268", "万元"), ("预算执行率", "100", "%")]


def test_table_without_measure_takes_documents_common_measure() -> None:
    bare = _table("一般公共预算支出表", ("合计",), (_row("会议费", "2.00"),), measure="")
    other = _table("收支总表", ("合计",), (_row("收入", "9"),), measure="元")
    facts = extract_facts(_doc(ECON, bare, other, _table("x", ("合计",), (), measure="万元")))
    [f] = [f for f in facts if f.row == "会议费"]
    assert f.measure == "万元"


def test_line_number_columns_are_not_facts() -> None:
    table = _table("收入支出决算总表", ("行次", "金额"), (_row("一般公共预算财政拨款收入", "1", "8.00"),))
    assert [f.value for f in table_facts(_doc(table), table)] == ["8.00"]


def test_extract_includes_narrative_facts() -> None:
    section = Section(title="六、“三公”经费支出情况", level=2, text="公务接待费0.14万元。", page=7)
    facts = extract_facts(_doc(ECON, sections=(section,)))
    text = [f for f in facts if f.source == "text"]
    assert [(f.row, f.value, f.measure, f.page) for f in text] == [("公务接待费", "0.14", "万元", 7)]


def test_fact_to_json_has_contract_keys() -> None:
    [f] = _find(table_facts(_doc(ECON), ECON), "公务接待费", "合计")
    out = fact_to_json(f)
    # the contract's keys in its order, then the owning unit ("" = the department as a whole)
    assert list(out) == ["doc", "unit", "year", "kind", "section", "table", "row", "code", "column", "value",
                         "measure", "page", "quote", "owner"]
    assert out["owner"] == ""
    assert out["value"] == "5.00" and out["code"] == "30217"


def _seed(prefix: str) -> Document:
    from budgetqa.index.read.readers import read_document

    [path] = CORPUS.glob(f"{prefix}_*.txt")
    return read_document(path)


@pytest.mark.slow
def test_seed_001_reception_fee_in_table_and_text() -> None:
    facts = extract_facts(_seed("001"))
    table = [f for f in facts if f.source == "table" and f.code == "30217" and "公务接待费" in f.row]
    assert any(f.number == Decimal("5.00") and f.measure == "万元" for f in table), table
    text = [f for f in facts if f.source == "text" and "公务接待费" in f.row]
    assert any(f.number == Decimal("5.00") and f.measure == "万元" for f in text), text


@pytest.mark.slow
@pytest.mark.parametrize(("prefix", "at_least"), [("000", 100), ("001", 100), ("002", 100), ("003", 100),
                                                  # 004's rendering prints only the titles of its 决算表
                                                  # (the tables were images); its table facts are the
                                                  # unit-composition and 绩效自评表 money rows
                                                  ("004", 60)])
def test_every_seed_yields_many_measured_facts(prefix: str, at_least: int) -> None:
    facts = extract_facts(_seed(prefix))
    table = [f for f in facts if f.source == "table"]
    assert len(table) > at_least
    assert all(f.measure for f in table if "绩效" not in f.table)


def test_seed_004_without_budget_tables_keeps_its_staff_table_and_narrative() -> None:
    facts = extract_facts(_seed("004"))
    assert any(f.source == "table" and "在职人数" in f.column and f.value == "45" for f in facts)
    assert any(f.source == "text" and f.number == Decimal("994.34") for f in facts)  # 项目支出 in prose


def test_side_by_side_halves_do_not_zero_the_other_half() -> None:
    line = "一、一般公共预算拨款收入\t2,723.94\t一、一般公共服务支出\t2,259.79"
    rows = (Row("一、一般公共预算拨款收入", None, ("2,723.94", ""), 1, line),
            Row("一、一般公共服务支出", None, ("", "2,259.79"), 1, line))
    table = _table("收支总表", ("收入/预算数", "支出/预算数"), rows)
    assert [(f.row, f.column, f.value) for f in table_facts(_doc(table), table)] == [
        ("一、一般公共预算拨款收入", "收入/预算数", "2,723.94"), ("一、一般公共服务支出", "支出/预算数", "2,259.79")]


def test_row_label_measure_beats_column_measure() -> None:
    table = _table("三公经费表", ("本年", "上年"), (
        _row("公务用车保有量（辆）", "3", "2"), _row("增长率", "50", ""), _row("公务接待费", "5.00", "4.00")))
    facts = table_facts(_doc(table), table)
    assert [(f.row, f.column, f.measure) for f in facts] == [
        ("公务用车保有量（辆）", "本年", "辆"), ("公务用车保有量（辆）", "上年", "辆"), ("增长率", "本年", "%"),
        ("增长率", "上年", "%"), ("公务接待费", "本年", "万元"), ("公务接待费", "上年", "万元")]


def test_side_by_side_halves_with_repeated_column_names() -> None:
    line = "301\t02\t津贴补贴\t1,238.58\t302\t02\t印刷费\t7.61"
    rows = (Row("津贴补贴", "30102", ("1,238.58", ""), 1, line), Row("印刷费", "30202", ("", "7.61"), 1, line))
    table = _table("基本支出决算表", ("决算数", "决算数"), rows)
    assert [(f.row, f.value) for f in table_facts(_doc(table), table)] == [("津贴补贴", "1,238.58"), ("印刷费", "7.61")]


def test_side_by_side_right_half_keeps_its_own_zeros() -> None:
    line = "十三、交通运输支出\t1531.04\t1531.04\t"
    rows = (Row("九、其他收入", None, ("", "", "", ""), 1, line),
            Row("十三、交通运输支出", None, ("", "1531.04", "1531.04", ""), 1, line))
    table = _table("财政拨款收入支出决算总表", ("金额", "合计", "一般公共预算财政拨款", "政府性基金预算"), rows)
    assert [(f.column, f.value) for f in table_facts(_doc(table), table)] == [
        ("合计", "1531.04"), ("一般公共预算财政拨款", "1531.04"), ("政府性基金预算", "0")]


def test_side_by_side_lone_right_half() -> None:
    line = "一、收入\t1\t2\t一、支出\t3\t4"
    rows = (Row("一、收入", None, ("2", ""), 1, line), Row("一、支出", None, ("", "4"), 1, line),
            Row("十三、交通运输支出", None, ("", "1531.04"), 1, "13\t十三、交通运输支出\t39\t1531.04"),
            Row("本年收入合计", None, ("1668.14", ""), 1, "本年收入合计\t1668.14"))
    table = _table("收入支出决算总表", ("决算数", "决算数"), rows)
    assert [(f.row, f.value) for f in table_facts(_doc(table), table)] == [
        ("一、收入", "2"), ("一、支出", "4"), ("十三、交通运输支出", "1531.04"), ("本年收入合计", "1668.14")]


def test_blank_coded_or_numbered_row_is_zero_but_blank_heading_is_not() -> None:
    rows = (Row("会议费", "30215", ("",), 1, "30215\t会议费\t"),
            Row("3、公务用车购置及运行费", None, ("",), 1, "3、公务用车购置及运行费\t"),
            Row("其中：", None, ("",), 1, "其中："),
            Row("办公费", "30201", ("180.48",), 1, "30201\t办公费\t180.48"))
    table = _table("一般公共预算基本支出经济分类情况表", ("预算数",), rows)
    assert [(f.row, f.value) for f in table_facts(_doc(table), table)] == [
        ("会议费", "0"), ("3、公务用车购置及运行费", "0"), ("办公费", "180.48")]


def test_rate_column_in_a_money_block_is_a_percentage() -> None:
    table = _table("项目支出绩效自评表", ("年初预算数", "全年执行数", "执行率"),
                   (_row("项目资金（万元）年度资金总额", "436.11", "407.66", "80.95"),), measure="")
    facts = table_facts(_doc(table), table)
    assert [(f.column, f.value, f.measure) for f in facts] == [
        ("年初预算数", "436.11", "万元"), ("全年执行数", "407.66", "万元"), ("执行率", "80.95", "%")]
