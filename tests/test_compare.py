"""Comparisons as frames: the relation a clause asks (which is larger, by how much, how many times, the
largest of a concept's parts), the operands (unit × year × item) it names, and the reply: each figure
looked up and checked on its own, then the relation computed in the open."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from budgetqa.answer.arith import ArithmeticError_, compute
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import Catalog, MemorySource
from budgetqa.config import load_settings
from budgetqa.understand.frame import clauses, load_compare_words, paired_years, relation
from budgetqa.understand.joins import join_words
from budgetqa.understand.lexicon import vocabulary_data
from budgetqa.understand.understander import Understander, load_vocabulary

from tests.fixtures_answer import _doc, _fact

A = "甲市水务局"
B = "甲市统计局"
SANGONG = "一般公共预算“三公”经费、会议费、培训费支出表"
RUN = "十二、一般公共预算机关运行经费支出预算情况说明"
RUN_SAID = "2026年本部门一般公共预算机关运行经费预算支出150.63万元，与上年相比减少7.98万元，减少5.03%"


def _source() -> MemorySource:
    a = _doc("a.pdf", A, 2026)
    b = _doc("b.pdf", B, 2026)
    facts_a = [
        _fact(a, SANGONG, "“三公”经费合计", "46.29"),
        _fact(a, SANGONG, "因公出国（境）费", "0.00"),
        _fact(a, SANGONG, "公务用车购置及运行维护费", "38.08"),
        _fact(a, SANGONG, "公务接待费", "8.21"),
        _fact(a, SANGONG, "会议费", "8.62"),
        _fact(a, SANGONG, "培训费", "11.89"),
    ]
    said = [_fact(a, "", "一般公共预算机关运行经费预算支出", "150.63", section=RUN, source="text"),
            _fact(a, "", "一般公共预算机关运行经费预算支出减少", "7.98", section=RUN, source="text"),
            replace(_fact(a, "", "上年一般公共预算机关运行经费预算支出", "158.61", section=RUN, source="text"),
                    year=2025)]
    facts_a += [replace(f, quote=RUN_SAID, context=RUN_SAID) for f in said]
    facts_b = [_fact(b, SANGONG, "“三公”经费合计", "9.30"), _fact(b, SANGONG, "公务接待费", "1.10"),
               _fact(b, SANGONG, "培训费", "11.89")]
    return MemorySource([(a, facts_a), (b, facts_b)])


@pytest.fixture(scope="module")
def u() -> Understander:
    return Understander(Catalog(_source()))


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))), source=_source())


WORDS = load_compare_words(vocabulary_data())


@pytest.mark.parametrize("text,want", [
    ("甲和乙哪个的公务接待费多？各多少", "more"),
    ("谁的招待费高", "more"),
    ("甲和乙的会议费，哪个少", "less"),
    ("谁的培训费更低", "less"),
    ("甲的公务接待费比乙多多少", "difference"),
    ("甲比乙少了多少", "difference"),
    ("两家的会议费相差多少", "difference"),
    ("甲的公务接待费是乙的几倍", "times"),
    ("今年是去年的多少倍", "times"),
    ("三公经费里哪项最多", "most"),
    ("三公经费中最多的是哪一项", "most"),
    ("哪个单位的培训费最少", "least"),
    ("甲和乙的公务接待费各是多少", ""),  # a list, no relation asked
    ("哪个单位的公务接待费是多少", ""),  # "多少" is no comparative
])
def test_relation_words(text, want):
    assert relation(text, WORDS) == want


def test_compare_words_are_data():
    data = vocabulary_data()["compare"]
    assert "几倍" in data["times"] and "最多" in data["most"] and "相差" in data["difference"]
    assert "出" in data["gap_links"] and "多少" in data["gap_asks"]  # "高出多少" is composed, not listed
    assert "今年" in WORDS.current and "多" in WORDS.comparatives  # comparatives are [joins]'


def test_paired_years_lists_this_year_with_last():
    prev = load_vocabulary().frames.previous
    lists = join_words().lists
    assert paired_years("机关运行经费今年和去年分别是多少", WORDS, prev, lists) == ["去年"]
    assert paired_years("去年与今年哪年多", WORDS, prev, lists) == ["去年"]
    assert paired_years("今年比去年少了多少", WORDS, prev, lists) == []  # a change, not two years listed


def test_relation_only_clause_joins_the_one_before():
    words = load_vocabulary().frames
    assert len(clauses("甲市水务局买车的钱和养车的钱分别多少，哪个花得多", words)) == 1
    assert len(clauses("甲市水务局的会议费和培训费各多少？哪个高", words)) == 1
    assert len(clauses("甲市水务局政府采购多少，工程类多少", words)) == 2  # a piece with its own item still splits


def test_follow_up_compares_with_the_figure_before(u):
    (_, first), (text, second) = u.frames("甲市水务局的公务接待费是多少？比甲市统计局多多少？")
    assert _operands(first) == [(A, 2026, False)]
    assert text.startswith("甲市水务局公务接待费比甲市统计局")
    assert second.relation == "difference" and _operands(second) == [(A, 2026, False), (B, 2026, False)]
    (_, _), (_, second) = u.frames("甲市水务局的培训费是多少，比会议费多多少")
    assert second.relation == "difference" and [i.text for i in second.items] == ["培训费", "会议费"]
    (_, _), (_, second) = u.frames("甲市水务局的机关运行经费是多少？比上年减少了多少？")
    assert second.relation == "difference" and second.qtype == "growth"  # a change keeps its own answer


def _operands(q) -> list[tuple[str, int | None, bool]]:
    return [(t.ref.name, t.year, t.prior) for t in q.targets]


def test_two_units_one_item(u):
    q = u.understand("甲市水务局和甲市统计局哪个的公务接待费多？各多少")
    assert q.relation == "more" and [i.text for i in q.items] == ["公务接待费"]
    assert _operands(q) == [(A, 2026, False), (B, 2026, False)]
    q = u.understand("甲市水务局的公务接待费比甲市统计局多多少")
    assert q.relation == "difference" and len(q.targets) == 2
    q = u.understand("甲市水务局的公务接待费是甲市统计局的几倍")
    assert q.relation == "times" and len(q.targets) == 2


def test_two_items_one_unit(u):
    q = u.understand("甲市水务局的培训费是会议费的几倍")
    assert q.relation == "times" and [i.text for i in q.items] == ["培训费", "会议费"]  # 会议费 is no table word here
    q = u.understand("甲市水务局的培训费比会议费高多少")
    assert q.relation == "difference" and len(q.items) == 2 and len(q.targets) == 1


def test_rank_of_a_concepts_parts(u):
    q = u.understand("甲市水务局三公经费里哪项最多")
    assert q.relation == "most" and len(q.items) == 1 and len(q.targets) == 1


def test_this_year_and_last(u):
    q = u.understand("甲市水务局的机关运行经费今年和去年分别是多少")
    assert _operands(q) == [(A, 2026, False), (A, 2025, True)]
    q = u.understand("甲市水务局去年和今年的机关运行经费哪年多")
    assert q.relation == "more" and _operands(q) == [(A, 2025, True), (A, 2026, False)]


def test_times_is_arithmetic_over_facts():
    a = _doc("a.pdf", A, 2026)
    d = compute("times", [_fact(a, SANGONG, "公务接待费", "51.53"), _fact(a, SANGONG, "公务接待费", "5.80")])
    assert d.value == Decimal("8.88") and d.measure == "倍" and d.formula == "51.53万元 ÷ 5.80万元 = 8.88倍"
    with pytest.raises(ArithmeticError_):
        compute("times", [_fact(a, SANGONG, "x", "1"), _fact(a, SANGONG, "y", "0")])


def _all_verified(ans) -> bool:
    return bool(ans.values) and all(v.verified for v in ans.values)


def test_difference_between_units_end_to_end(engine):
    ans = engine.ask("甲市统计局的公务接待费比甲市水务局少多少")
    assert ans.status == "answered" and "1.10万元" in ans.answer and "8.21万元" in ans.answer
    assert "甲市统计局公务接待费比甲市水务局公务接待费少7.11万元（计算：8.21万元 - 1.10万元 = 7.11万元）" in ans.answer
    assert _all_verified(ans)


def test_times_end_to_end(engine):
    ans = engine.ask("甲市水务局的公务接待费是甲市统计局的几倍")
    assert "是甲市统计局公务接待费的7.46倍（计算：8.21万元 ÷ 1.10万元 = 7.46倍）" in ans.answer
    assert _all_verified(ans)


def test_which_more_of_two_items_end_to_end(engine):
    ans = engine.ask("甲市水务局的会议费和培训费哪个多？各多少")
    assert "培训费比会议费多3.27万元" in ans.answer and _all_verified(ans)  # "哪个多": the larger named first


def test_smaller_named_first_when_asked_which_is_less(engine):
    ans = engine.ask("甲市水务局和甲市统计局的公务接待费，哪个少")
    assert "甲市统计局公务接待费比甲市水务局公务接待费少7.11万元" in ans.answer and _all_verified(ans)


def test_follow_up_difference_end_to_end(engine):
    ans = engine.ask("甲市水务局的公务接待费是多少？比甲市统计局多多少？")
    assert "甲市水务局公务接待费比甲市统计局公务接待费多7.11万元（计算：" in ans.answer and _all_verified(ans)
    assert ans.answer.count("8.21万元。") == 1  # the figure the follow-up compares with is said once


def test_equal_figures_said_equal(engine):
    ans = engine.ask("甲市水务局和甲市统计局的培训费哪个多")
    assert "相等" in ans.answer and _all_verified(ans)


def test_rank_end_to_end(engine):
    ans = engine.ask("甲市水务局三公经费里哪项最多")
    assert ans.status == "answered"
    assert "其中公务用车购置及运行维护费最多，为38.08万元" in ans.answer
    assert "公务接待费8.21万元" in ans.answer and _all_verified(ans)


def test_two_years_end_to_end(engine):
    ans = engine.ask("甲市水务局2025年和2026年的机关运行经费哪年多？各多少")
    assert "158.61万元" in ans.answer and "150.63万元" in ans.answer
    assert "2025年机关运行经费比2026年机关运行经费多7.98万元" in ans.answer
    assert _all_verified(ans)


def test_a_repeated_sentence_is_said_once():
    from budgetqa.check.chain import _said_once

    text = "甲局公务接待费为51.53万元。（问题未指定年份，按最新回答。）甲局公务接待费为51.53万元。乙局为3.00万元。"
    assert _said_once(text) == "甲局公务接待费为51.53万元。（问题未指定年份，按最新回答。）乙局为3.00万元。"
    assert _said_once("甲为5万元。甲为5万元。") == "甲为5万元。甲为5万元。"  # short sentences are left alone


def test_smallest_of_three_items_end_to_end(engine):
    ans = engine.ask("甲市水务局的会议费、培训费和公务接待费哪个最少")
    assert "其中公务接待费最少，为8.21万元" in ans.answer and _all_verified(ans)
