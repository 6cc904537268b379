"""Narrative figures: one test per phrasing budget disclosures use."""

from __future__ import annotations

import pytest
from budgetqa.index.extract.narrative import clean_label, narrative_facts
from budgetqa.index.model import Document, Fact, Section


def _facts(text: str, title: str = "一、预算收支总体情况") -> list[Fact]:
    doc = Document(name="t.txt", sha256="0", unit="某市医疗保障局", aliases=("某市医保局",), year=2024,
                   kind="预算", subunits=(), sections=(Section(title=title, level=2, text=text, page=9),),
                   tables=(), pages=None, layout="seed")
    return narrative_facts(doc)


def _triples(text: str, title: str = "一、预算收支总体情况") -> list[tuple[str, str, str]]:
    return [(f.row, f.value, f.measure) for f in _facts(text, title)]


def test_item_then_amount() -> None:
    [f] = _facts("2024年一般公共预算“三公”经费中，公务接待费0.14万元。")
    assert (f.row, f.value, f.measure, f.source, f.table, f.column) == ("公务接待费", "0.14", "万元", "text", "", "")
    assert f.section == "一、预算收支总体情况" and f.page == 9 and f.unit == "某市医疗保障局"
    assert f.quote == "2024年一般公共预算“三公”经费中，公务接待费0.14万元" and f.context == "公务接待费0.14万元"


def test_previous_year_and_comparison_in_brackets() -> None:
    assert _triples("收入总计93.42万元（上年收入总计54.07万元，同比增加39.35万元，增长72.7%）。") == [
        ("收入总计", "93.42", "万元"), ("上年收入总计", "54.07", "万元"),
        ("收入总计同比增加", "39.35", "万元"), ("收入总计增长", "72.7", "%")]


def test_spaces_around_numbers() -> None:
    assert _triples("部门收入预算 68632.12 万元，其中：一般公共预算拨款 1,234.50 万元。") == [
        ("部门收入预算", "68632.12", "万元"), ("一般公共预算拨款", "1,234.50", "万元")]


def test_yuan_versus_wan_yuan() -> None:
    assert _triples("公务接待费5000元，比上年减少1000元，下降16.7%；会议费2万元。") == [
        ("公务接待费", "5000", "元"), ("公务接待费减少", "1000", "元"), ("公务接待费下降", "16.7", "%"),
        ("会议费", "2", "万元"), ("上年公务接待费", "6000", "元")]


def test_people_with_and_without_measure() -> None:
    assert _triples("在职人数39，在职人员39人，离退休人员12名。") == [
        ("在职人数", "39", "人"), ("在职人员", "39", "人"), ("离退休人员", "12", "名")]


def test_vehicles() -> None:
    assert _triples("车辆0辆；公务用车3辆。") == [("车辆", "0", "辆"), ("公务用车", "3", "辆")]


def test_code_and_numbering_before_item() -> None:
    [f] = _facts("(十)2101506-医疗保障经办事务 1223.00 万元。主要用于经办。")
    assert (f.row, f.code, f.value) == ("医疗保障经办事务", "2101506", "1223.00")


def test_generic_label_takes_heading_item() -> None:
    facts = _facts("2024 年预算安排 5.00 万元，与上年预算数持平。", title="（二）公务接待费")
    # "与上年预算数持平" also states last year's figure (statements.py)
    assert [(f.row, f.value) for f in facts] == [("公务接待费", "5.00"), ("上年公务接待费", "5.00")]


def test_unchanged_statement_gives_last_years_figure() -> None:
    facts = _facts("本部门当年一般公共预算会议费预算支出2.00万元，较上年无增减；培训费21.00万元，较上年减少17.60万元。")
    prior = {(f.row, f.value) for f in facts if f.row.startswith("上年")}
    assert prior == {("上年一般公共预算会议费预算支出", "2.00"), ("上年培训费", "38.60")}


def test_part_after_qizhong_shares_the_comparison() -> None:
    text = ("本部门一般公共财政拨款支出1899.9万元，其中基本支出183.93万元。"
            "一般公共预算较上年增加406.39万元，其中基本支出减少19.11万元，主要是减少在职人员1名。")
    prior = {(f.row, f.value) for f in _facts(text) if f.row.startswith("上年")}
    assert ("上年基本支出", "203.04") in prior


def test_bare_count_word_takes_the_clause_before() -> None:
    facts = _facts("培训费预算2万元，拟开展职业能力提升的培训，人数11人，岗位技能培训。")
    assert ("拟开展职业能力提升的培训人数", "11", "人") in [(f.row, f.value, f.measure) for f in facts]


def test_list_total_is_labelled_with_the_list() -> None:
    [f] = _facts("本部门一般公共预算“三公”经费及会议费、培训费预算支出共263.72万元，其中：")
    assert f.row == "一般公共预算“三公”经费及会议费、培训费预算支出"


def test_list_of_items_in_one_clause() -> None:
    assert _triples("因公出国（境）费0万元、公务用车购置及运行费0万元、公务接待费5.00万元。") == [
        ("因公出国（境）费", "0", "万元"), ("公务用车购置及运行费", "0", "万元"), ("公务接待费", "5.00", "万元")]


def test_count_names_the_item_that_follows() -> None:
    assert _triples("2024 年，某市医疗保障局共设置 13 个项目绩效目标，共涉及财政拨款资金 215169.80 万元。") == [
        ("项目绩效目标", "13", "个"), ("财政拨款资金", "215169.80", "万元")]


def test_threshold_stays_with_item() -> None:
    assert _triples("单位价值50万元以上设备8台。") == [("单位价值", "50", "万元"), ("单位价值50万元以上设备", "8", "台")]


def test_years_dates_and_codes_are_not_figures() -> None:
    assert _triples("2024年1月起，按照财预〔2023〕12号文件执行，科目2101506。") == []


def test_percentage_points_and_fullwidth_percent() -> None:
    assert _triples("执行率98.5％，比上年提高2.1个百分点。") == [
        ("执行率", "98.5", "%"), ("执行率提高", "2.1", "个百分点")]


def test_billions() -> None:
    assert _triples("支出总计3.2亿元。") == [("支出总计", "3.2", "亿元")]


@pytest.mark.parametrize(("raw", "label"), [
    ("其中：", ""), ("其中基本支出", "基本支出"), ("主要是公用经费", "公用经费"), ("某市医疗保障局收入总计为", "收入总计"),
    ("（上年收入总计", "上年收入总计"), ("因公出国（境）费", "因公出国（境）费"), ("本部门2024年度支出合计", "支出合计"),
])
def test_clean_label(raw: str, label: str) -> None:
    assert clean_label(raw, ("某市医疗保障局",))[0] == label


def test_comparison_against_last_years_budget() -> None:
    assert _triples("上年结转（结余）209.81万元，较上年预算安排增加12.02万元；机关运行费105.76万元，比2023年预算减少262.3万元，下降71.27%。") == [
        ("上年结转（结余）", "209.81", "万元"), ("上年结转（结余）增加", "12.02", "万元"),
        ("机关运行费", "105.76", "万元"), ("机关运行费减少", "262.3", "万元"), ("机关运行费下降", "71.27", "%"),
        ("上年机关运行费", "368.06", "万元")]


def test_total_and_label_before_colon() -> None:
    assert _triples("④实施方案：差旅费15万元、办公费35万元，共计50万元。⑥年度预算安排：50万元。", title="（一）某项目") == [
        ("差旅费", "15", "万元"), ("办公费", "35", "万元"), ("合计", "50", "万元"), ("某项目", "50", "万元")]


def test_share_and_execution_rate_belong_to_the_subject() -> None:
    assert _triples("公务接待费支出0.48万元，完成全年预算的24%，较上年增加0.48万元。授予中小企业合同金额58.83万元，占政府采购支出总额的8.64%。") == [
        ("公务接待费支出", "0.48", "万元"), ("公务接待费支出完成全年预算", "24", "%"),
        ("公务接待费支出增加", "0.48", "万元"), ("授予中小企业合同金额", "58.83", "万元"),
        ("授予中小企业合同金额占政府采购支出总额", "8.64", "%"), ("上年公务接待费支出", "0.00", "万元")]


def test_rate_in_brackets_and_code_after_item() -> None:
    assert _triples("（14）住房公积金（2210201）151.43万元，较上年增加66.26万元（15.13%）；公务用车购置费0万元，较上年增加（减少）0万元（0%）。") == [
        ("住房公积金", "151.43", "万元"), ("住房公积金增加", "66.26", "万元"), ("住房公积金增加", "15.13", "%"),
        ("公务用车购置费", "0", "万元"), ("公务用车购置费增加（减少）", "0", "万元"), ("公务用车购置费增加（减少）", "0", "%"),
        ("上年住房公积金", "85.17", "万元")]
    assert _facts("（14）住房公积金（2210201）151.43万元。")[0].code == "2210201"


def test_budget_and_actual_of_a_numbered_item() -> None:
    text = ("1、一般公共服务支出（类）财政事务（款）行政运行（项）。主要用于：基本支出。年初预算为1560.05万元，支出决算为1511.89万\n元。"
            "决算数小于预算数。\n2、住房保障支出（类）住房改革支出（款）住房公积金（项）。年初预算为187.75万元，支出决算为187.19万元。")
    assert _triples(text, title="（三）一般公共预算财政拨款支出决算具体情况") == [
        ("行政运行年初预算", "1560.05", "万元"), ("行政运行支出决算", "1511.89", "万元"),
        ("住房公积金年初预算", "187.75", "万元"), ("住房公积金支出决算", "187.19", "万元")]


def test_actual_without_item_takes_the_subject() -> None:
    assert _triples("“三公”经费财政拨款支出年初预算为0.95万元，支出决算为0.00万元，完成预算的0%。") == [
        ("“三公”经费财政拨款支出年初预算", "0.95", "万元"), ("“三公”经费财政拨款支出决算", "0.00", "万元"),
        ("“三公”经费财政拨款支出年初预算完成预算", "0", "%")]


def test_noun_with_comparison_verb_does_not_become_the_subject() -> None:
    assert _triples("支出决算296,047.75万元。与上年相比，财政拨款支出减少17,151.62万元，下降5.48%。") == [
        ("支出决算", "296,047.75", "万元"), ("财政拨款支出减少", "17,151.62", "万元"), ("财政拨款支出下降", "5.48", "%")]
    assert _triples("收入较去年减少 1316.82 万元，下降 1.88%。")[1][0] == "收入下降"


def test_bare_wan_in_lists_is_wan_yuan() -> None:
    assert _triples("主要用于基本养老保险缴费 7.44 万、职业年金缴费 3.72 万，3万人次参保。") == [
        ("基本养老保险缴费", "7.44", "万元"), ("职业年金缴费", "3.72", "万元"), ("参保", "3", "万人次")]


def test_scores_and_equipment_sets() -> None:
    assert _triples("部门整体支出绩效自评得分99.5分，单价100万元以上设备2台（套）。") == [
        ("部门整体支出绩效自评得分", "99.5", "分"), ("单价", "100", "万元"), ("单价100万元以上设备", "2", "台")]


def test_counts_with_verbs_years_and_lists() -> None:
    assert _triples("本单位组织对2023年度3个项目实施单位自评，累计接待3批次、22人次，设24个内设机构，共计40.79万元。") == [
        ("组织对项目实施单位自评", "3", "个"), ("接待", "3", "批次"), ("接待", "22", "人次"), ("设内设机构", "24", "个"),
        ("合计", "40.79", "万元")]


def test_subheading_line_is_not_joined_to_the_prose_under_it() -> None:
    assert _triples("（一）收入预算情况\n收入总计 93.42 万元（上年收入总计 54.07 万元，同比\n增加 39.35 万元）。") == [
        ("收入总计", "93.42", "万元"), ("上年收入总计", "54.07", "万元"), ("收入总计同比增加", "39.35", "万元")]


def test_blank_lines_between_wrapped_lines() -> None:
    assert _triples("收入总计 93.42 万元（上年收入总计 54.07 万元，同比\n\n\n\n增加 39.35 万元，同比增加 72.78 %）。") == [
        ("收入总计", "93.42", "万元"), ("上年收入总计", "54.07", "万元"), ("收入总计同比增加", "39.35", "万元"),
        ("收入总计同比增加", "72.78", "%")]


def test_label_after_cells_run_into_prose() -> None:
    [f] = _facts("大型警保卫工作经费428.69卫及基础设施安全保护工作完成及时率100%")
    assert (f.row, f.value, f.measure) == ("卫及基础设施安全保护工作完成及时率", "100", "%")


def test_ordinals_are_not_counts() -> None:
    assert _triples("召开第3次党组会议，培训2次。") == [("培训", "2", "次")]


def test_comparison_of_an_aspect_and_paired_items() -> None:
    assert _triples("2022年度机关运行经费支出523.1万元。支出决算比上年增加113.37万元。") == [
        ("机关运行经费支出", "523.1", "万元"), ("机关运行经费支出决算比上年增加", "113.37", "万元")]
    assert _triples("与上年相比收、支预算总计各增加26.21万元，增长0.92%。") == [
        ("收支预算总计各增加", "26.21", "万元"), ("收支预算总计增长", "0.92", "%")]


def test_score_without_measure_and_actual_staff() -> None:
    assert _triples("部门整体支出自评得分99.5，全面完成。实有人员10887人。") == [
        ("部门整体支出自评得分", "99.5", "分"), ("实有人员", "10887", "人")]


def test_income_and_expenditure_totals_together() -> None:
    assert _triples("2022年度收入、支出总计均为2,480,372.7万元。") == [("收入支出总计", "2,480,372.7", "万元")]


def test_expenditure_budget_is_an_item_and_rubrics_are_skipped() -> None:
    assert _triples("收入较去年减少 1316.82 万元。（二）支出预算：2025年本单位支出预算 68632.12 万元。") == [
        ("收入较去年减少", "1316.82", "万元"), ("支出预算", "68632.12", "万元")]
    assert _triples("安全隐患排除率100%得满分，低于100%高于90%得4分，低于80%不得分。") == []


def test_sentence_without_figures_saying_unchanged() -> None:
    text = ("2024年“三公”经费预算数为0.50万元，其中，公务接待费0.50万元。"
            "2024年“三公”经费预算与2023年持平，主要是厉行节约。")
    prior = [(f.year, f.row, f.value) for f in _facts(text) if f.year == 2023]
    assert prior == [(2023, "上年“三公”经费预算数", "0.50")]
