"""Operands of a question asking two or more figures: each operand looked up and checked on its own, then
the operation (sum, difference, times, the largest) computed in the open with its unit. The words that say
which operation is asked are composed from data (vocabulary.toml [compare], [joins]), not listed phrase by
phrase."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from budgetqa.answer.arith import compute
from budgetqa.answer.compare import _amount
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.config import load_settings
from budgetqa.understand.frame import asks_gap, load_compare_words, relation
from budgetqa.understand.joins import join_words, without_rank
from budgetqa.understand.lexicon import vocabulary_data

from tests.fixtures_answer import _doc, _fact
from tests.test_compare import _all_verified, engine  # noqa: F401  (the module's engine fixture)

WORDS = load_compare_words(vocabulary_data())


@pytest.mark.parametrize("text", ["甲的公车运行维护费比公务接待费高出多少", "甲比乙多出来几个", "甲比乙少花了多少",
                                  "甲的培训费比乙多安排了多少", "甲比乙低多少"])
def test_a_comparative_a_link_and_an_ask_make_a_difference(text):
    assert asks_gap(text, WORDS) and relation(text, WORDS) == "difference"


@pytest.mark.parametrize("text", ["甲的公务接待费是多少", "甲和乙哪个多", "甲的三公经费有多少钱"])
def test_no_difference_without_a_comparative_before_the_ask(text):
    assert not asks_gap(text, WORDS)


def test_counted_subjects_are_no_item():
    assert "两家" in join_words().subjects
    left = without_rank("　、　三家哪个培训费最多")
    assert "三家" not in left and "哪个" not in left and "培训费" in left


def test_sum_of_two_units_states_each_operand_and_the_total(engine):  # noqa: F811
    ans = engine.ask("甲市水务局和甲市统计局的公务接待费加起来是多少")
    assert ans.status == "answered" and "8.21万元" in ans.answer and "1.10万元" in ans.answer
    assert "以上合计9.31万元（计算：8.21万元 + 1.10万元 = 9.31万元）" in ans.answer and _all_verified(ans)


def test_a_sum_word_between_items_is_no_unknown_word(engine):  # noqa: F811
    ans = engine.ask("甲市水务局培训费加上三公经费一共多少")
    assert ans.status == "answered", ans.answer
    assert "以上合计58.18万元" in ans.answer and _all_verified(ans)


def test_which_of_two_counted_subjects(engine):  # noqa: F811
    ans = engine.ask("甲市水务局和甲市统计局这两家哪个公务接待费多")
    assert ans.status == "answered", ans.answer
    assert "甲市水务局公务接待费比甲市统计局公务接待费多7.11万元" in ans.answer and _all_verified(ans)


def test_a_large_amount_in_yuan_is_also_said_in_wan():
    doc = _doc("c.pdf", "丙市公安局", 2026)
    a = _fact(doc, "表13", "公务用车运行维护费", "31,158,000.00", measure="元")
    b = _fact(doc, "表13", "公务接待费", "193,500.00", measure="元")
    d = compute("difference", [a, b])
    assert _amount(d) == "30964500.00元（即3096.45万元）"
    assert _amount(compute("difference", [b, _fact(doc, "表13", "会议费", "190,000.00", measure="元")])) \
        == "3500.00元"
    assert d.value == Decimal("30964500.00")


def _parts_apart() -> MemorySource:
    """A unit whose 三公 parts no one table prints together: the narrative states two, a table the third."""
    doc = _doc("d.pdf", "丁市信访局", 2026)
    said = "“三公”经费预算数为8.00万元，其中，公务接待费3.00万元，公务用车购置及运行费5.00万元"
    return MemorySource([(doc, [
        _fact(doc, "", "公务接待费", "3.00", section="（二）“三公”经费预算", source="text", context=said),
        _fact(doc, "", "公务用车购置及运行费", "5.00", section="（二）“三公”经费预算", source="text", context=said),
        _fact(doc, "一般公共预算“三公”经费支出情况表", "因公出国（境）费", "0.00"),
    ])])


def test_rank_of_parts_no_one_table_prints(tmp_path):
    eng = Engine(load_settings(home=str(tmp_path)), source=_parts_apart())
    ans = eng.ask("丁市信访局三公经费里哪项最多")
    assert ans.status == "answered", ans.answer
    assert "其中公务用车购置及运行费最多，为5.00万元" in ans.answer and "3.00万元" in ans.answer
    assert _all_verified(ans)


def _two_scopes() -> MemorySource:
    """One unit, one year, two documents: the department's 部门预算 and its own offices' 单位预算 (本级)."""
    dept = replace(_doc("dept.pdf", "戊市教育局", 2026), title="戊市教育局2026年部门预算")
    own = replace(_doc("own.pdf", "戊市教育局", 2026), title="戊市教育局（本级）2026年单位预算")
    table = "一般公共预算“三公”经费、会议费、培训费支出表"
    return MemorySource([(dept, [_fact(dept, table, "培训费", "925.46"), _fact(dept, table, "会议费", "37.97")]),
                         (own, [_fact(own, table, "培训费", "709.80"), _fact(own, table, "会议费", "0.70")])])


def test_own_offices_against_the_whole_department(tmp_path):
    eng = Engine(load_settings(home=str(tmp_path)), source=_two_scopes())
    ans = eng.ask("戊市教育局本级的培训费比整个部门少多少")
    assert ans.status == "answered", ans.answer
    assert "戊市教育局（本级）" in ans.answer and "戊市教育局（部门）" in ans.answer
    assert "本级培训费比部门培训费少215.66万元（计算：925.46万元 - 709.80万元 = 215.66万元）" in ans.answer
    assert _all_verified(ans)
    both = eng.ask("戊市教育局全系统和本级的会议费分别多少")
    assert "37.97万元" in both.answer and "0.70万元" in both.answer
    assert both.answer.index("37.97") < both.answer.index("0.70")  # in the question's order
    alone = eng.ask("戊市教育局本级的培训费是多少")
    assert "709.80万元" in alone.answer and "925.46" not in alone.answer and "（本级）" not in alone.answer


def test_a_clause_naming_only_a_period_is_about_the_item_before():
    from budgetqa.understand.frame import Frame, needs_item
    from budgetqa.understand.understander import load_vocabulary
    words = load_vocabulary().frames
    for clause in ("，今年是多少", "去年呢？", "2025年是多少"):
        assert needs_item(Frame(clause, clause, "lookup"), False, words), clause
    assert not needs_item(Frame("，有多少辆车", "，有多少辆车", "lookup"), False, words)  # a count of its own
    assert not needs_item(Frame("今年是多少", "今年是多少", "lookup"), True, words)  # it names its own item


def test_this_year_after_last_year_end_to_end(engine):  # noqa: F811
    ans = engine.ask("甲市水务局的机关运行经费去年是多少，今年是多少")
    assert "158.61万元" in ans.answer and "150.63万元" in ans.answer and _all_verified(ans)


def test_times_of_a_zero_is_said(engine):  # noqa: F811
    ans = engine.ask("甲市水务局的会议费是因公出国（境）费的几倍")
    assert "无法计算倍数" in ans.answer


@pytest.mark.parametrize("text,units_total,rows", [
    ("福州市医疗保障局部门预算里4家单位的在职人数合计是多少？", True, True),
    ("4 家单位的在职人数加起来", True, True),
    ("西安市医疗保障局办公费两行加起来一共是多少元？", False, True),
    ("所有行的合计", False, True),
    ("三公经费一共多少", False, False),
    ("各单位的三公经费合计", False, False),  # no number: the printed total
    ("两个单位合计多少", False, False),
])
def test_sums_over_rows_are_words_not_patterns(text, units_total, rows):
    from budgetqa.understand.joins import counted_units_total, counts_rows
    assert counted_units_total(text) == units_total and counts_rows(text) == rows


def test_a_computed_operand_is_a_term_the_checker_recomputes():
    from budgetqa.answer.arith import combine, of_fact, recompute
    from budgetqa.check.checker import Figure, matches_derived
    doc = _doc("e.pdf", "己市审计局", 2026)
    now = _fact(doc, "", "培训费预算支出", "21.00", source="text")
    less = _fact(doc, "", "培训费预算支出减少", "17.60", source="text")
    last = compute("sum", [now, less])  # last year's figure from "较上年减少17.60万元"
    d = combine("times", [of_fact(now), last])
    assert d.value == Decimal("0.54") and d.measure == "倍" and set(d.inputs) == {now, less}
    assert d.formula == "21.00万元 ÷ 38.60万元 = 0.54倍" and recompute(d) == d
    assert matches_derived(Figure(Decimal("0.54"), "0.54", "倍", 0, 4), d)
    assert not matches_derived(Figure(Decimal("0.55"), "0.55", "倍", 0, 4), d)
    total = combine("sum", [of_fact(now), last])
    assert total.value == Decimal("59.60") and "21.00万元 + 38.60万元" in total.formula


def test_sum_of_this_year_and_last_end_to_end(engine):  # noqa: F811
    ans = engine.ask("甲市水务局去年和今年的机关运行经费加起来多少")
    assert ans.status == "answered", ans.answer
    assert "以上合计309.24万元" in ans.answer and _all_verified(ans)


@pytest.mark.parametrize("text,want", [
    ("甲和乙的三公经费谁高？高多少？是几倍？", ["difference", "times"]),
    ("甲是乙的几倍，差多少", ["times", "difference"]),
    ("甲和乙哪个的公务接待费多？各多少", ["more"]),
    ("三公经费里哪项最多", ["most"]),
    ("甲和乙的公务接待费各是多少", []),
])
def test_every_relation_asked_in_its_order(text, want):
    from budgetqa.understand.frame import relations
    assert relations(text, WORDS) == want


def test_higher_by_how_much_and_how_many_times_end_to_end(engine):  # noqa: F811
    ans = engine.ask("甲市统计局和甲市水务局的公务接待费谁高？高多少？是几倍？")
    assert ans.status == "answered", ans.answer
    assert "甲市水务局公务接待费比甲市统计局公务接待费多7.11万元" in ans.answer
    assert "甲市水务局公务接待费是甲市统计局公务接待费的7.46倍（计算：8.21万元 ÷ 1.10万元 = 7.46倍）" in ans.answer
    assert _all_verified(ans)


def test_a_bracketed_place_after_a_unit_names_no_item():
    assert "无锡" not in without_rank("　和　（无锡）谁的招待费多")
    assert "（本级）" in without_rank("　（本级）的培训费")  # 本级 still narrows the figure
    assert "（公务用车）" in without_rank("　的运行费（公务用车）")  # not right after a unit: part of the item


def test_a_clause_asking_only_the_total_sums_the_clause_before(engine):  # noqa: F811
    from budgetqa.understand.frame import clauses
    from budgetqa.understand.understander import load_vocabulary
    words = load_vocabulary().frames
    assert len(clauses("甲和乙的培训费各是多少？一共多少？", words)) == 1
    assert len(clauses("甲的会议费和培训费分别多少，加起来多少", words)) == 1
    ans = engine.ask("甲市水务局和甲市统计局的公务接待费各是多少？一共多少？")
    assert "8.21万元" in ans.answer and "1.10万元" in ans.answer and "以上合计9.31万元" in ans.answer
    assert _all_verified(ans)


def test_one_unit_as_a_percentage_of_another_end_to_end(engine):  # noqa: F811
    assert relation("甲是乙的百分之几", WORDS) == "ratio"
    ans = engine.ask("甲市统计局的公务接待费是甲市水务局的百分之多少")
    assert "甲市统计局公务接待费相当于甲市水务局公务接待费的13.40%（计算：1.10万元 ÷ 8.21万元 × 100 = 13.40%）" \
        in ans.answer, ans.answer
    assert _all_verified(ans)
