"""Which section answers which text frame (issue 11, text questions): spoken what-for phrasings, lists asked
with 什么, a section whose title names what it lists, department project lists by unit, reasons bound to their
numbered paragraph, duties quoted item by item, a named project's target from its printed line, and the
excerpt's own page."""

from __future__ import annotations

from dataclasses import replace

from budgetqa.answer.targets import page_of, project_line
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource, Passage
from budgetqa.config import load_settings
from budgetqa.index.model import Section
from budgetqa.understand.text_shape import duty_or_use, list_shape, spoken, text_shape

from tests.fixtures_answer import _doc, _fact

UNIT = "长江市示范管理局"


def _engine(tmp_path, sections=(), facts=(), subunits=()) -> Engine:
    d = _doc("cj.txt", UNIT, 2026, subunits=subunits, sections=tuple(sections))
    facts = [replace(f, doc=d.name) for f in facts]
    return Engine(load_settings(home=str(tmp_path)), source=MemorySource([(d, list(facts))]))


def test_spoken_and_lead_word_what_for_questions():
    assert spoken("委托业务费用来干啥") == "委托业务费用来干什么"
    assert text_shape(spoken("委托业务费用来干啥")).topic == "用途"
    assert text_shape("政府采购的钱用来买什么").topic == "用途"
    assert text_shape("这笔钱花在哪儿了").topic == "用途"
    assert text_shape("专项资金主要用于哪些项目").topic == "用途"  # what the money is for, not the unit's projects
    assert text_shape("有哪些项目").topic == "项目"


def test_what_asks_a_list_when_a_listed_noun_ends_the_question():
    assert list_shape("西安信访局下设了什么事业单位").listed == "事业单位"
    assert list_shape("统计局有什么下属单位").listed == "下属单位"
    assert list_shape("公务接待费是什么") is None


def test_doing_what_is_duties_for_a_unit_and_purpose_for_money():
    assert duty_or_use("职责", "示范管理局是干什么的", "是干什么的") == "职责"
    assert duty_or_use("职责", "口岸安检服务经费是干什么的", "口岸安检服务经费是干什么的") == "用途"


SETUP = Section("（二）机构设置", 4, "综合事务部、综合治理部、后勤服务部。\n"
                "局下设1个事业单位为长江市示范服务中心，处级建制。\n"
                "长江市示范管理局设下列内设机构：办公室、规划科、人事科。甲口岸分局、乙口岸分局为长江市示范管理局派出机构。", None)
UNITS = Section("二、部门预算单位构成", 4, "长江市示范管理局部门只有本级，没有其他二级预算单位。", None)


def test_a_section_titled_for_the_listed_noun_answers(tmp_path):
    bare = Section("（二）机构设置", 4, "综合事务部、综合治理部、后勤服务部。", None)
    a = _engine(tmp_path, (bare, UNITS)).ask("长江市示范管理局设了哪些机构")
    assert "综合事务部、综合治理部、后勤服务部" in a.answer and "没有其他二级预算单位" not in a.answer


def test_the_word_asked_beats_a_word_the_document_may_use_instead(tmp_path):
    a = _engine(tmp_path, (SETUP, UNITS)).ask("长江市示范管理局有哪些派出机构")
    assert "甲口岸分局、乙口岸分局" in a.answer and "规划科" not in a.answer
    b = _engine(tmp_path, (SETUP, UNITS)).ask("长江市示范管理局下设了什么事业单位")
    assert "长江市示范服务中心" in b.answer


def _row(d_unit: str, project: str, value: str, table: str = "表10 2026年市级部门项目支出预算表", quote: str = ""):
    f = _fact(_doc("cj.txt", UNIT, 2026), table, d_unit, value, column="总计")
    return replace(f, quote=quote or f"{d_unit}\t{project}\t{value}")


def test_a_department_lists_every_units_projects(tmp_path):
    facts = [_row(UNIT, "综合运行保障", "100"), _row("长江市示范服务中心", "服务管理", "20"),
             _row(UNIT, "部门特定目标类项目", "120")]
    e = _engine(tmp_path, facts=facts, subunits=("长江市示范服务中心",))
    a = e.ask("长江市示范管理局有哪些项目")
    assert "综合运行保障" in a.answer and "长江市示范服务中心：服务管理" in a.answer
    assert "特定目标类项目" not in a.answer
    own = e.ask("长江市示范管理局本级有哪些项目")
    assert "综合运行保障" in own.answer and "服务管理" not in own.answer


def test_a_project_row_label_is_its_name_when_the_quote_is_garbled(tmp_path):
    garbled = _row("2026信访专项经费", "", "30.00", table="项目支出表(预算表9)", quote="2026 信   春 访专项\t市\t30.00")
    a = _engine(tmp_path, facts=[garbled]).ask("长江市示范管理局有哪些项目")
    assert "2026信访专项经费" in a.answer and "春 访" not in a.answer


def test_procurement_projects_come_from_the_procurement_table(tmp_path):
    table = "公开13表 政府采购支出表"
    facts = [_row("货物", "", "356.26", table=table, quote="货物\t356.26"),
             _row("防灾减灾救灾建设", "", "86.26", table=table, quote="防灾减灾救灾建设\t物资储备\t86.26"),
             _row(UNIT, "综合运行保障", "100")]
    a = _engine(tmp_path, facts=facts).ask("长江市示范管理局政府采购有哪些项目")
    assert "防灾减灾救灾建设" in a.answer and "货物" not in a.answer and "综合运行保障" not in a.answer


def test_a_reason_without_its_own_subject_belongs_to_its_numbered_paragraph(tmp_path):
    prose = Section("（九）“三公”经费预算情况说明", 6,
                    "2.公务接待费：2026年安排公务接待费预算51.53万元，比上年预算数下降12.0%。"
                    "主要用于接待上级部门来湖调研等支出。减少的主要原因是按照厉行节约有关要求，压减公务接待经费。\n"
                    "3.公务用车运行维护费支出526.50万元，比上年预算数减少7.7%，主要原因是压减公务用车运行维护费经费。", None)
    a = _engine(tmp_path, (prose,)).ask("长江市示范管理局公务接待费为什么下降")
    assert "压减公务接待经费" in a.answer and "公务用车运行维护费经费" not in a.answer


def test_a_long_list_of_duties_keeps_every_duty():
    from budgetqa.answer.text import MAX_DUTIES, _duties
    lines = ["部门主要职责是："] + [f"{i}.负责第{i}项工作{'，并组织实施相关制度建设和监督检查' * 3}；其他内容。" for i in range(1, 21)]
    text = "\n".join(lines + ["部门机构设置：", "（一）办公室。负责机关政务。"])
    out = _duties(text)
    assert len(out) <= MAX_DUTIES + 2 and "20.负责第20项工作" in out and "办公室" not in out and "其他内容" not in out


def test_a_named_projects_target_is_its_printed_line():
    p = Passage("hz.txt", "四、部门预算公开表", "511-退役军人事务局万元单位名称项目名称金额 4,651.90长江市军供站军供保障35.00面向部队提供饮食。\n"
                "长江市烈士陵园管理所革命烈士纪念及保护166.50开展主题纪念活动不少于2次。", 15)
    found = project_line("长江烈士陵园管理所革命烈士纪念及保护项目的绩效目标是什么", [p])
    assert found and found[1].startswith("长江市烈士陵园管理所革命烈士纪念及保护") and "不少于2次" in found[1]
    first = project_line("军供保障项目绩效目标", [p])
    assert first and first[1].startswith("长江市军供站军供保障") or first[1].startswith("军供保障")
    assert project_line("办公费", [p]) is None  # too short a name to pick a line


def test_the_excerpt_cites_the_page_its_words_are_printed_on():
    d = _doc("cj.txt", UNIT, 2026)
    f = replace(_fact(d, "", "公务接待费", "51.53", source="narrative"), page=8,
                quote="2026年安排公务接待费预算51.53万元，比上年预算数下降12.0%。")
    assert page_of("2.公务接待费：2026年安排公务接待费预算51.53万元，比上年预算数下降12.0%。", [f], 6) == 8
    assert page_of("另一段文字，与任何事实无关的说明内容。", [f], 6) == 6


def test_the_noun_may_come_before_a_closing_asking_word():
    assert list_shape("无锡发改委下属单位有哪些").topic == "机构"
    assert list_shape("内设机构都有哪些").topic == "机构"
    assert list_shape("三公经费包括哪些") is None and list_shape("公务接待费有哪些") is None


def test_a_table_of_units_printed_in_the_list_sentence_reads_as_names(tmp_path):
    units = Section("三、部门预算单位构成", 17, "纳入本部门2021年部门预算编制范围的二级预算单位共有3个，包括：\n序号\n单位名称\n拟变动情况\n"
                    "1\n长江市示范管理局（机关）\n无\n2\n长江市第一福利院\n无\n3\n长江市殡仪馆\n无", None)
    a = _engine(tmp_path, (units,)).ask("长江市示范管理局下属单位有哪些")
    assert "包括：长江市示范管理局（机关）、长江市第一福利院、长江市殡仪馆。" in a.answer


def test_a_unit_target_question_skips_a_table_note_for_the_narrative(tmp_path):
    note = Section("10、部门整体支出绩效目标表", 2, "注：以上部门预算报表中，空表表示本部门无相关收支情况", None)
    prose = Section("六、其他重要事项的情况说明", 8, "（七）预算绩效目标说明：本单位所有支出实行绩效目标管理。"
                    "纳入2026年部门整体支出绩效目标的金额为1935.36万元，具体绩效目标详见报表。", None)
    e = _engine(tmp_path, (note, prose))
    for q in ("长江市示范管理局的绩效目标是什么", "长江市示范管理局绩效目标情况"):
        a = e.ask(q)
        assert a.status == "answered" and "绩效目标管理" in a.answer and "空表" not in a.answer, q


def test_a_heading_glued_to_its_text_is_the_section_cited(tmp_path):
    prose = Section("八、一般公共预算基本支出预算情况说明", 37,
                    "本局基本支出11,554.72万元。\n九、一般公共预算“三公”经费支出预算情况说明本局安排的“三公”经费支出预算46.29万元，"
                    "比上年预算减少18.98万元，变动原因厉行节约。", None)
    a = _engine(tmp_path, (prose,)).ask("长江市示范管理局三公经费减少的原因是什么")
    assert "“九、一般公共预算“三公”经费支出预算情况说明”部分：本局安排" in a.answer
    assert a.citations[0].section == "九、一般公共预算“三公”经费支出预算情况说明"


def test_a_detail_table_lists_the_trainings(tmp_path):
    table = "培训费明细表"
    facts = [_row("全市审计机关年度综合培训", "", "95", table=table, quote="1 全市审计机关年度综合培训\t95"),
             _row("全市经责审计培训", "", "50", table=table, quote="3 全市经责审计培训\t50"),
             _row(UNIT, "综合运行保障", "100")]
    a = _engine(tmp_path, facts=facts).ask("长江市示范管理局2026年安排了哪些培训？")
    assert "全市审计机关年度综合培训、全市经责审计培训" in a.answer and "综合运行保障" not in a.answer
