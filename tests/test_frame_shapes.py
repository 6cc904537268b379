"""Question shapes the frame parser reads by grammar and data, not by phrasing: items joined by 和/加,
comparisons between subjects (哪个…多), shares (A占B, A在B里占, A占比), verbs around an item (买/花/给),
printed labels written short, and a later part that takes the subject and the item of the one before."""

from __future__ import annotations

import pytest
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import Catalog, MemorySource
from budgetqa.config import load_settings
from budgetqa.understand.frame import clauses, each_parts
from budgetqa.understand.joins import (
    join_words,
    short_form_spans,
    sum_joined,
    verb_readings,
    verbs_as_words,
    without_rank,
)
from budgetqa.understand.understander import Understander, load_vocabulary
from budgetqa.understand.wording import split_at

from tests.fixtures_answer import _doc, _fact

A = "甲市水务局"
B = "甲市统计局"
JIBEN = "财政拨款基本支出表（经济科目）"
SANGONG = "一般公共预算“三公”经费支出表"
GOAL = "十五、预算绩效目标设置情况说明"
CARS = "十四、国有资产占用情况说明"


def _source() -> MemorySource:
    a = _doc("a.pdf", A, 2026)
    b = _doc("b.pdf", B, 2026)
    goal = "本部门共17个项目纳入绩效目标管理，涉及财政性资金合计12,796.25万元"
    bought, held = "当年部门预算安排购置车辆2辆", "截至上年底，本部门共有车辆9辆"
    facts_a = [
        _fact(a, JIBEN, "基本工资", "80.51", code="30101"),
        _fact(a, JIBEN, "绩效工资", "51.75", code="30107"),
        _fact(a, JIBEN, "水费", "120.00", code="30205"),
        _fact(a, JIBEN, "电费", "140.00", code="30206"),
        _fact(a, JIBEN, "公务接待费", "3.00", code="30217"),
        _fact(a, JIBEN, "公务用车运行维护费", "38.08", code="30231"),
        _fact(a, SANGONG, "“三公”经费合计", "46.29"),
        _fact(a, SANGONG, "公务用车购置费", "5.20"),
        _fact(a, "", "政府性基金预算收入", "770", section="二、收入预算情况说明", source="text"),
        _fact(a, "", "政府性基金预算收入占", "8.47", measure="%", section="二、收入预算情况说明", source="text"),
    ]
    facts_a += [
        _fact(a, "", "项目纳入绩效目标管理", "17", measure="个", section=GOAL, source="text"),
        _fact(a, "", "财政性资金合计", "12,796.25", section=GOAL, source="text"),
        _fact(a, "", "部门预算安排购置车辆", "2", measure="辆", section=CARS, source="text"),
        _fact(a, "", "共有车辆", "9", measure="辆", section=CARS, source="text"),
    ]
    quotes = {"项目纳入绩效目标管理": goal, "财政性资金合计": goal, "部门预算安排购置车辆": bought, "共有车辆": held}
    facts_a = [f if f.row not in quotes else type(f)(**{**f.__dict__, "quote": quotes[f.row], "context": quotes[f.row]})
               for f in facts_a]
    facts_b = [_fact(b, SANGONG, "“三公”经费合计", "9.30"), _fact(b, JIBEN, "公务接待费", "1.10", code="30217")]
    return MemorySource([(a, facts_a), (b, facts_b)])


@pytest.fixture(scope="module")
def u() -> Understander:
    return Understander(Catalog(_source()))


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))), source=_source())


def labels(q) -> list[str]:
    return [i.labels[0] for i in q.items]


def test_join_words_are_data():
    words = join_words()
    assert "和" in words.lists and "加" in words.sums and "哪个" in words.rank
    assert dict(words.verbs)["买"] == "购置" and dict(words.verbs)["花"] == ""
    assert "多少钱" in words.money


def test_sum_join_between_two_items_only():
    text = "基本工资加绩效工资是多少"
    assert sum_joined(text, [(0, 4), (5, 9)])
    assert not sum_joined("基本工资和绩效工资", [(0, 4), (5, 9)])
    assert not sum_joined("增加的基本工资", [(3, 7)])  # 加 inside a word, one item


def test_rank_words_leave_the_item():
    assert without_rank("　和　哪个三公经费多，各多少") == "　和　三公经费，各多少"
    assert without_rank("谁的招待费高？") == "招待费？"
    assert without_rank("三公经费多少") == "三公经费多少"  # no comparison asked: nothing dropped


def test_verb_readings():
    readings = verb_readings("买公务用车花多少钱")
    assert "公务用车购置多少钱" in readings and "公务用车多少钱" in readings
    assert verb_readings("公务接待费是多少") == []
    assert verbs_as_words("今年要买几辆") == "今年要购置几辆"


@pytest.mark.parametrize("text,label,span", [
    ("公车运维费在三公经费里占多少", "公务用车运行维护费", (0, 5)),
    ("政府性基金收入占比", "政府性基金预算收入", (0, 7)),
    ("代办服务能力提升专题培训花多少钱", "西安市政务服务系统代办服务能力提升专题培训", (0, 12)),
    ("公务接待安排了多少", "公务接待费", (0, 4)),
])
def test_short_forms(text, label, span):
    assert span in short_form_spans(text, label, ("费", "支出"))


def test_short_forms_keep_first_and_last_character():
    assert short_form_spans("公务接待费", "公务用车运行维护费", ("费",)) == []
    assert short_form_spans("其他收入", "其他支出", ()) == []


def test_ratio_whole_after_zai():
    text = "公车运维费在三公经费里占多少"
    assert split_at(text, "ratio") == text.index("在")
    assert split_at("公务接待费占三公经费多少", "ratio") == 5


def test_clauses_split_where_each_piece_asks():
    words = load_vocabulary().frames
    assert clauses("甲市水务局有多少辆车，今年买几辆", words) == ["甲市水务局有多少辆车，", "今年买几辆"]
    assert len(clauses("甲市水务局政府采购多少，工程类多少", words)) == 2
    assert len(clauses("甲市水务局和甲市统计局哪个三公经费多，各多少", words)) == 1  # "各多少" asks no more
    assert len(clauses("甲市水务局的会议费，培训费各多少", words)) == 1  # the first piece asks nothing


def test_sum_of_two_items(u):
    q = u.understand("甲市水务局基本工资加绩效工资是多少")
    assert q.qtype == "sum" and labels(q) == ["基本工资", "绩效工资"]
    q = u.understand("甲市水务局基本工资和绩效工资分别是多少")
    assert q.qtype == "lookup" and labels(q) == ["基本工资", "绩效工资"]


def test_list_of_items_each(u):
    q = u.understand("甲市水务局水费和电费各安排了多少")
    assert not q.problem and labels(q) == ["水费", "电费"]


def test_which_of_two_subjects(u):
    q = u.understand("甲市水务局和甲市统计局哪个三公经费多，各多少")
    assert not q.problem and q.qtype == "compare"
    assert {t.ref.name for t in q.targets} == {A, B} and q.items[0].text == "三公经费"


def test_short_form_share_of_named_whole(u):
    q = u.understand("甲市水务局公车运维费在三公经费里占多少")
    assert q.qtype == "ratio" and not q.problem
    assert [(i.labels[0], i.side) for i in q.items][0] == ("公务用车运行维护费", 0)
    assert q.items[1].side == 1


def test_short_form_share_of_its_total(u):
    q = u.understand("甲市水务局政府性基金收入占比是多少")
    assert q.qtype == "ratio" and labels(q) == ["政府性基金预算收入"]


def test_verbs_around_item(u):
    assert labels(u.understand("甲市水务局买公务用车花多少钱")) == ["公务用车购置费"]
    assert labels(u.understand("甲市水务局给公务接待安排了多少钱")) == ["公务接待费"]
    assert labels(u.understand("甲市水务局公务接待费是多少")) == ["公务接待费"]


def test_second_part_takes_subject_and_money_of_the_count(u):
    parts = u.frames("甲市水务局有多少个项目纳入绩效目标管理，涉及多少钱")
    assert len(parts) == 2
    assert labels(parts[1][1]) == ["财政性资金合计"] and parts[1][1].targets[0].ref.name == A


def test_second_part_count_of_what_is_bought(engine):
    a = engine.ask("甲市水务局共有多少辆车？今年要买几辆？")
    assert a.status == "answered" and "9辆" in a.answer and "2辆" in a.answer


def test_answers(engine):
    assert "132.26" in engine.ask("甲市水务局基本工资加绩效工资是多少").answer
    assert "82.26%" in engine.ask("甲市水务局公车运维费在三公经费里占多少").answer
    assert "8.47%" in engine.ask("甲市水务局政府性基金收入占比是多少").answer
    both = engine.ask("甲市水务局和甲市统计局哪个三公经费多，各多少").answer
    assert "46.29" in both and "9.30" in both
    money = engine.ask("甲市水务局有多少个项目纳入绩效目标管理，涉及多少钱").answer
    assert "17个" in money and "12,796.25" in money


def test_each_parts_one_question_per_listed_item():
    words = load_vocabulary().frames
    lists = join_words().lists
    assert each_parts("甲市水务局水费和电费各安排了多少", "甲市水务局", lists, words.each) == [
        "甲市水务局水费安排了多少", "甲市水务局电费安排了多少"]
    assert len(each_parts("甲市水务局会议费、培训费及差旅费分别是多少", "甲市水务局", lists, words.each)) == 3
    assert each_parts("甲市水务局水费是多少", "甲市水务局", lists, words.each) == []
    assert each_parts("甲市水务局三公经费各多少", "甲市水务局", lists, words.each) == []  # one item


def test_items_not_found_together_are_asked_one_by_one(u):
    parts = u.frames("甲市水务局污水费和自来水费各安排了多少")
    assert [p for p, _ in parts] == ["甲市水务局污水费安排了多少", "甲市水务局自来水费安排了多少"]
    parts = u.frames("甲市水务局和甲市统计局2025年和2026年的公务接待费分别是多少")
    assert len(parts) == 1  # years and units listed: one comparison, read whole
    both = u.frames("甲市水务局水费和电费各安排了多少")
    assert len(both) == 1 and labels(both[0][1]) == ["水费", "电费"]  # read whole when both are found


def test_later_part_opening_like_a_unit_name_keeps_the_subject(u):
    parts = u.frames("甲市水务局有几辆车，20万以上设备多少台")
    assert len(parts) == 2 and parts[1][1].targets and parts[1][1].targets[0].ref.name == A
    assert not parts[1][1].problem


def test_each_unit_with_its_own_year_asks_that_year_only() -> None:
    a25, a26, b26 = _doc("a25.pdf", A, 2025), _doc("a26.pdf", A, 2026), _doc("b26.pdf", B, 2026)
    source = MemorySource([(a25, [_fact(a25, SANGONG, "“三公”经费合计", "65.27")]),
                           (a26, [_fact(a26, SANGONG, "“三公”经费合计", "46.29")]),
                           (b26, [_fact(b26, SANGONG, "“三公”经费合计", "9.30")])])
    u = Understander(Catalog(source))
    paired = [(t.ref.name, t.year) for _, q in u.frames("甲市水务局2025年和甲市统计局2026年的三公经费各是多少")
              for t in q.targets]
    assert paired == [(A, 2025), (B, 2026)]
    # years listed apart from the units still ask every unit in every year
    crossed = {(t.ref.name, t.year) for _, q in u.frames("甲市水务局和甲市统计局2025年和2026年的三公经费")
               for t in q.targets}
    assert (A, 2025) in crossed and (A, 2026) in crossed and (B, 2026) in crossed
