"""List questions read from the 单位构成 / 机构设置 sections or project tables; why / what-for questions
answered by the clause that explains the item asked about (its head, change and figure)."""

from __future__ import annotations

from dataclasses import replace

from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.config import load_settings
from budgetqa.index.model import Section
from budgetqa.understand.text_shape import list_shape, text_shape

from tests.fixtures_answer import _doc, _fact

UNIT = "无锡市示范管理局"
SETUP = Section("二、部门机构设置及预算单位构成情况", 2,
                "1.根据部门职责分工，本部门内设机构包括：办公室、规划处、事业单位人事管理处、组织人事处。本部门下\n"
                "属单位包括：无锡市示范服务中心，无锡市示范监察支队。\n"
                "2.从预算单位构成看，纳入本部门预算编制范围的预算单位共计3家，具体包括：无锡市示范管理局（本级），"
                "无锡市示范服务中心，无锡市示范监察支队。", None)
PROSE = Section("九、“三公”经费、会议费、培训费支出预算情况说明", 2,
                "九、一般公共预算“三公”经费、会议费、培训费支出预算情况说明本局安排的“三公”经费支出预算6.4万元，"
                "比上年预算减少71.5万元，变动原因是因公出国（境）费不纳入年初预算。其中，公务接待费支出3.6万元。\n"
                "1．公务接待费预算支出3.6万元，比上年预算减少5.5万元，主要原因是严格落实过紧日子要求。\n"
                "2．公务用车购置费预算支出0万元，较上年减少2万元，减少的主要原因是车辆已购置到位；"
                "公务用车运行维护费0万元，较上年减少8万元，减少的主要原因是系统技术原因导致无法列入年初预算。\n"
                "本局安排的培训费预算支出10万元，比上年预算增加2万元，主要原因是新增业务培训。\n"
                "（5）其他支出（类）支出770万元，主要用于自然灾害保险。与上年预算数相同。\n"
                "2026年本部门预算收入较上年增加406.39万元，主要原因是业务维持经费增加。\n"
                "2026年本部门当年一般公共预算支出1899.9万元，其中：工资福利支出（301）478.83万元，"
                "较上年增加286.42万元，原因是包含津补贴专项资金。", None)


def _engine(tmp_path, sections=(SETUP, PROSE), facts=(), kind="预算") -> Engine:
    d = replace(_doc("wx.txt", UNIT, 2026, sections=sections), kind=kind)
    return Engine(load_settings(home=str(tmp_path)), source=MemorySource([(d, list(facts))]))


def test_list_shapes_name_what_is_listed():
    assert list_shape("湖州卫健委下属有哪些医院") == text_shape("湖州卫健委下属有哪些医院")
    assert list_shape("西安气象局下辖哪些区县气象局").listed == "区县气象局"
    assert list_shape("湖州交通技师学院有哪些项目").topic == "项目"
    assert list_shape("无锡人社局的部门预算由哪些单位组成").listed == "单位"
    assert list_shape("哪些单位的三公经费增加了") is None  # the noun does not end the question: not a list
    assert list_shape("公务接待费是多少") is None
    assert text_shape("西安宣传部公车运行费怎么是0").topic == "原因"
    assert text_shape("委托业务费用来干什么").topic == "用途"  # not 职责 ("干什么")


def test_subunits_come_from_the_sentence_that_names_them(tmp_path):
    a = _engine(tmp_path).ask("无锡示范管理局下属有哪些单位")
    assert a.status == "answered" and "本部门下属单位包括：无锡市示范服务中心，无锡市示范监察支队。" in a.answer
    assert "规划处" not in a.answer  # the 内设机构 sentence mentions 单位 only inside a name


def test_budget_units_and_inner_offices_are_different_sentences(tmp_path):
    e = _engine(tmp_path)
    assert "无锡市示范管理局（本级）" in e.ask("无锡示范管理局包括哪些预算单位").answer
    offices = e.ask("无锡示范管理局有哪些内设处室").answer
    assert "规划处" in offices and "监察支队" not in offices


def test_units_fall_back_to_table_rows_with_unit_codes(tmp_path):
    d = _doc("xa.txt", UNIT, 2026)
    facts = [_fact(d, "表2 收入总表", "无锡市示范管理局", "10", code="125001"),
             _fact(d, "表2 收入总表", "无锡市示范救援中心第4页，共45页", "5", code="125004"),
             _fact(d, "表2 收入总表", "社会保障和就业支出", "3", code="208")]
    e = Engine(load_settings(home=str(tmp_path)), source=MemorySource([(d, facts)]))
    a = e.ask("无锡示范管理局包括哪些下属单位")
    assert "无锡市示范救援中心" in a.answer and "第4页" not in a.answer and "社会保障" not in a.answer


def test_projects_are_the_units_rows_of_the_project_table(tmp_path):
    d = _doc("hz.txt", UNIT, 2026, subunits=("无锡示范技师学院",))
    table = "表10 2026年市级部门项目支出预算表"

    def row(unit: str, project: str, value: str):
        f = _fact(d, table, unit, value, column="总计")
        return type(f)(**{**f.__dict__, "quote": f"{unit}\t{project}\t{value}"})
    facts = [row("无锡市示范管理局", "综合运行保障", "100"), row("无锡示范技师学院", "教学事务管理", "261.40"),
             row("无锡示范技师学院", "中职教育专项", "90.00"), row("无锡示范技师学院", "中职教育专项", "90.00")]
    e = Engine(load_settings(home=str(tmp_path)), source=MemorySource([(d, facts)]))
    a = e.ask("无锡示范技师学院有哪些项目")
    assert "教学事务管理、中职教育专项" in a.answer and "综合运行保障" not in a.answer


def test_reason_is_the_clause_whose_head_names_the_item(tmp_path):
    a = _engine(tmp_path).ask("无锡示范管理局招待费为什么减少")
    assert "严格落实过紧日子要求" in a.answer and "不纳入年初预算" not in a.answer


def test_zero_is_matched_by_the_figure_not_the_words(tmp_path):
    a = _engine(tmp_path).ask("无锡示范管理局公车运行费怎么是0")
    assert "系统技术原因" in a.answer and "车辆已购置到位" not in a.answer


def test_use_is_read_from_the_clause_of_the_figure_asked(tmp_path):
    a = _engine(tmp_path).ask("无锡示范管理局的其他支出770万元是干什么用的")
    assert "自然灾害保险" in a.answer


def test_budget_total_reason_when_no_item_is_named(tmp_path):
    a = _engine(tmp_path).ask("无锡示范管理局预算为什么增加了")
    assert "业务维持经费增加" in a.answer and "津补贴" not in a.answer


def test_explanations_quote_the_document_verbatim():
    from budgetqa.answer.explain import _clauses
    text = "（1）支出5万元，与上年相比增加1万元。\n主要原因是一是甲；二是乙。"
    assert "".join(_clauses(text)) == text.replace("\n", "")


def test_a_numbered_list_continues_past_its_first_sentence(tmp_path):
    setup = Section("（部门）机构设置", 2, "本部门中，事业单位2家，具体包括：\n1.无锡市示范管理局（本部）。\n"
                    "2.无锡市示范服务中心。\n3.无锡市示范执法队。\n本部门无其他单位。", None)
    a = _engine(tmp_path, sections=(setup,)).ask("无锡示范管理局由哪些单位组成？")
    assert "3.无锡市示范执法队。" in a.answer and "无其他单位" not in a.answer


def test_the_questions_own_words_beat_a_generic_item(tmp_path):
    """"一般公共预算支出决算小于年初预算": 支出 alone would name the 三公 clause; the question's words name the
    figure-less sentence after the one stating both figures."""
    prose = Section("（三）一般公共预算财政拨款支出决算具体情况", 2,
                    "2024年度“三公”经费支出决算数小于预算数的主要原因：当年度无“三公”经费支出。\n"
                    "一般公共预算财政拨款支出年初预算为2993.92万元，支出决算为2940.05万元。"
                    "决算数小于预算数的主要原因：个别信息化项目和中介机构服务调减。", None)
    a = _engine(tmp_path, sections=(prose,), kind="决算").ask("无锡示范管理局2026年一般公共预算支出决算小于年初预算的原因")
    assert "中介机构服务调减" in a.answer and "当年度无" not in a.answer


def test_a_change_against_a_named_year_is_not_the_head(tmp_path):
    prose = Section("一、“三公”经费预算情况说明", 2,
                    "（二）公务用车购置及运行费36.56万元，比2024年预算减少10万元，主要原因是新增1辆公务用车。"
                    "其中：公务用车购置费15万元，比2024年预算减少10万元，主要原因是购置车辆类型不同；"
                    "公务用车运行费21.56万元，比2024年预算持平，主要原因是运行费保持不变。", None)
    a = _engine(tmp_path, sections=(prose,)).ask("无锡示范管理局公务用车购置费为什么比2024年减少")
    assert "购置车辆类型不同" in a.answer and "运行费保持不变" not in a.answer
