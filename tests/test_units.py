"""Unit resolution: the registry of the corpus' units and the names citizens type for them."""

from __future__ import annotations

import pytest
from budgetqa.catalog import Catalog, MemorySource
from budgetqa.index.model import Document
from budgetqa.understand.understander import Understander
from budgetqa.understand.units import (
    UnitMatcher,
    clean_subunit,
    harvested_subunits,
    load_names,
    name_forms,
    split_name,
)

from tests.fixtures_answer import corpus

WX_JT = "无锡市交通运输局"
WX_YJ = "无锡市应急管理综合行政执法监督局"
WX_FGW = "无锡市发展和改革委员会"
WX_PRICE = "无锡市价格监测认定中心"
HZ_TY = "湖州市退役军人事务局"
HZ_JXS = "湖州市军队离休退休干部休养所"
HZ_CZ = "湖州市财政局"
XA_GA = "西安市公安局"
XA_JG = "西安市公安局交通管理支队"
XA_XC = "中共西安市委宣传部"
XA_JST = "中共西安市委讲师团"
XA_AJ = "西安市安全生产监督管理局"
CS_ZJ = "长沙职业教育基地综合协调办公室"
CS_JY = "长沙市教育局"
BJ_JG = "北京市公安局交通管理局"
BJ_GA = "北京市公安局"
FZ = "福州市医疗保障局"
XA_GH = "西安市自然资源和规划局"
FZ_FUND = "福州市医疗保障基金中心"
FZ_DATA = "福州市医疗保障数据技术中心"


def _doc(name: str, unit: str, subunits: tuple[str, ...] = ()) -> Document:
    return Document(name=name, sha256="0" * 64, unit=unit, aliases=(), year=2026, kind="预算", subunits=subunits,
                    sections=(), tables=(), pages=None, layout="seed")


@pytest.fixture(scope="module")
def m() -> UnitMatcher:
    docs = [
        _doc("wx_jt", WX_JT), _doc("wx_yj", WX_YJ), _doc("wx_fgw", WX_FGW, (WX_PRICE,)),
        _doc("hz_ty", HZ_TY, (HZ_JXS,)), _doc("hz_cz", HZ_CZ),
        _doc("xa_ga", XA_GA, (XA_JG, "西安市公安局刑事侦查支队")), _doc("xa_xc", XA_XC, (XA_JST,)),
        _doc("xa_aj", XA_AJ), _doc("cs_jy", CS_JY, (CS_ZJ,)), _doc("bj_jg", BJ_JG), _doc("bj_ga", BJ_GA),
        _doc("fz", FZ, (FZ_FUND,)), _doc("fz_data", FZ_DATA), _doc("xa_gh", XA_GH),
    ]
    return UnitMatcher(Catalog(MemorySource((d, []) for d in docs)), {})


def resolved(m: UnitMatcher, q: str) -> list[list[str]]:
    mentions, foreign = m.find(q)
    assert not foreign, foreign
    return [[r.name for r in x.refs] for x in mentions]


@pytest.mark.parametrize("q,unit", [
    ("无锡交通局2026年预算总共多少钱", WX_JT),
    ("无锡交通运输局其他收入占比多少", WX_JT),
    ("无锡市交通运输局（本级）的基本支出", WX_JT),
    ("无锡应急执法监督局上一年的预算总额是多少", WX_YJ),  # the name's characters in order
    ("无锡发改委的预算总额是多少", WX_FGW),
    ("无锡市价格监测认定中心的预算是多少", WX_PRICE),
    ("湖州军休所今年预算多少", HZ_JXS),
    ("湖州财政局委托业务费有多少", HZ_CZ),
    ("西安公安局有多少辆车", XA_GA),
    ("西安交管支队今年的预算收入是多少", XA_JG),
    ("西安宣传部三公经费多少", XA_XC),
    ("西安市委宣传部2020年的三公经费是多少", XA_XC),
    ("西安市委讲师团编制多少人", XA_JST),
    ("西安安监局上年结转多少钱", XA_AJ),
    ("长沙职教基地水费和电费各安排了多少", CS_ZJ),
    ("北京交管局的公务接待费", BJ_JG),
    ("北京市公安局的公务接待费", BJ_GA),
])
def test_short_forms_resolve_to_the_unit(m, q, unit):
    assert resolved(m, q) == [[unit]]


def test_subunit_mention_covers_its_whole_short_name(m):
    mentions, _ = m.find("福州医保基金中心的收入是多少")
    assert [r.name for r in mentions[0].refs] == [FZ_FUND]
    assert "福州医保基金中心的收入是多少"[mentions[0].end:].startswith("的收入")


def test_merged_office_named_with_its_fields_swapped(m):
    q = "西安市规划和自然资源局公车运维费是多少"  # the documents print 自然资源和规划局
    mentions, _ = m.find(q)
    assert [r.name for r in mentions[0].refs] == [XA_GH] and q[mentions[0].end:].startswith("公车")
    assert mentions[0].start == 0


def test_two_units_in_one_question(m):
    assert resolved(m, "西安交管支队和刑侦支队的三公经费各是多少")[0] == [XA_JG]
    assert resolved(m, "无锡交通局和无锡发改委的招待费分别是多少") == [[WX_JT], [WX_FGW]]


@pytest.mark.parametrize("q,name", [
    ("杭州市交通运输局的公务接待费是多少", "杭州市交通运输局"),
    ("厦门市市场监督管理局的三公经费是多少", "厦门市市场监督管理局"),
    ("长沙市公安局2026年的公务接待费是多少", "长沙市公安局"),
    ("无锡市城市管理和综合执法局今年的公务接待费是多少", "无锡市城市管理和综合执法局"),
    ("上海某学校公务接待费", "上海某学校"),
    ("杭州医保局的办公费", "杭州医保局"),
    ("西安市文化和旅游局的三公经费是多少", "西安市文化和旅游局"),
])
def test_unknown_unit_is_reported_not_replaced(m, q, name):
    mentions, foreign = m.find(q)
    assert foreign == [name] and not mentions


def test_closest_known_units_share_place_and_wording(m):
    assert m.closest("杭州市交通运输局")[0] == WX_JT
    assert m.closest("长沙市公安局")[:2] == [CS_JY, XA_GA] or XA_GA in m.closest("长沙市公安局")
    assert m.closest("西安市应急管理局")[0] == XA_AJ


def test_question_without_unit_names_nothing(m):
    assert m.find("三公经费是多少") == ([], [])
    assert m.find("公务接待费比上年减少多少") == ([], [])


def test_generic_short_name_is_ambiguous_without_place():
    docs = [_doc("a", "福州市医疗保障局"), _doc("b", "西安市医疗保障局")]
    m = UnitMatcher(Catalog(MemorySource((d, []) for d in docs)), {})
    mentions, foreign = m.find("医保局的招待费")
    assert {r.name for r in mentions[0].refs} == {"福州市医疗保障局", "西安市医疗保障局"} and not foreign


def test_name_knowledge_is_data():
    know = load_names()
    assert "军休所" in know.abbreviations["军队离休退休干部休养所"]
    assert {"局", "委员会", "委", "办公室", "办", "中心", "所", "站", "队"} <= set(know.suffixes)
    assert list(know.suffixes) == sorted(know.suffixes, key=len, reverse=True)
    assert split_name(XA_XC, know).places == ("西安市",) and split_name(XA_XC, know).party == "中共"
    assert split_name(CS_ZJ, know).places == ("长沙",)
    forms = {v.text for v in name_forms(WX_JT, know, know.abbreviations) if not v.generic}
    assert {"无锡交通局", "无锡市交通局", "无锡交通运输局"} <= forms
    generic = {v.text for v in name_forms(XA_JG, know, know.abbreviations) if v.generic}
    assert "交管支队" in generic


def test_subunit_names_cleaned_and_read_from_row_labels():
    know = load_names()
    assert clean_subunit("234002西安市人工影响天气服务保障中心", "西安市气象局", know) == "西安市人工影响天气服务保障中心"
    assert clean_subunit("局属市港航管理中心", "湖州市交通运输局", know) == "湖州市港航管理中心"
    rows = ["中共西安市委理论讲师团", "会议费", "西安市本级", "中共西安市委宣传部", "基本支出"]
    assert harvested_subunits("中共西安市委宣传部", rows, know) == ["中共西安市委理论讲师团"]


def test_unknown_unit_answered_not_found_with_closest_units():
    u = Understander(Catalog(corpus()))
    q = u.understand("上海某学校公务接待费是多少")
    assert not q.targets and q.problem.startswith("语料中没有“上海某学校”") and "最接近" in q.problem
    q = u.understand("福州医保基金中心的在职人数")
    assert [t.ref.name for t in q.targets] == [FZ_FUND]


def test_numbering_before_a_subunit_name_is_not_part_of_it():
    know = load_names()
    assert clean_subunit("(一）办公室", "西安市人民政府办公厅", know) == "办公室"
    assert clean_subunit("1.西安市技工学校", "西安市人力资源和社会保障局", know) == "西安市技工学校"


def test_short_forms_are_shorter_and_leave_a_name():
    know = load_names()
    for long, shorts in know.abbreviations.items():
        assert shorts and all(len(s) <= len(long) for s in shorts), long
    forms = {v.text for v in name_forms("上海市普陀区人民政府万里街道办事处", know, know.abbreviations)}
    assert {"万里街道", "普陀区万里街道", "上海市普陀区万里街道"} <= forms


def test_a_unit_named_with_its_place_does_not_fan_out_to_other_cities_units() -> None:
    """Words of an item's name that are also a placeless form of other cities' units ("医保经办" in
    "“2023年医保经办考核…”项目") are not those units when the question names its unit with its place:
    the answer must not grow with every city's 医疗保障经办服务中心 the corpus holds."""
    docs = [_doc("an", "安宁市医疗保障服务中心")]
    docs += [_doc(p, f"{p}市医疗保障局", (f"{p}市医疗保障经办服务中心",)) for p in ("安永", "安通", "安鹤")]
    docs += [_doc("fz", FZ, (FZ_FUND,)), _doc("xa", "西安市医疗保障局", ("西安市医疗保障基金中心",))]
    m = UnitMatcher(Catalog(MemorySource((d, []) for d in docs)), {})
    q = "安宁市医疗保障服务中心“2023年医保经办考核第三方服务及网络安全建设”项目年度预算安排多少"
    assert resolved(m, q) == [["安宁市医疗保障服务中心"]]
    # a placeless name alone still means every unit of that name (ambiguous, the answer asks which)
    assert len(resolved(m, "医保经办服务中心的项目支出")[0]) == 3
    # beside a unit named with its place, a placeless name keeps that place's unit
    assert resolved(m, "福州市医疗保障局和医保基金中心的会议费") == [[FZ], [FZ_FUND]]
    # and, outside quotes, a placeless name of a unit elsewhere is still that unit ("万里街道和无锡信访局")
    assert resolved(m, "医保经办服务中心和福州市医疗保障局的会议费")[0] != [FZ]
    assert len(resolved(m, "医保经办服务中心和福州市医疗保障局的会议费")[0]) == 3
