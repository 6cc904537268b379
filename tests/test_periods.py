"""Periods and changes: what a question asks (understand.periods) and where the answer comes from
(answer.periods): the printed change bound to its figure, last year's figure from a statement, the
unit's other years beside the latest."""

from __future__ import annotations

from dataclasses import replace

import pytest
from budgetqa.answer.periods import stated
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.config import load_settings
from budgetqa.understand.periods import change_ask, without_comparison

from tests.fixtures_answer import _doc, _fact

U = "某某市信访局"
SANGONG = "表13 一般公共预算拨款“三公”经费及会议费、培训费支出预算表"


@pytest.mark.parametrize(("q", "direction", "what"), [
    ("培训费比上年减少了多少", -1, "amount"),
    ("三公经费下降了百分之多少", -1, "rate"),
    ("收入增长了百分之几", 1, "rate"),
    ("比上年执行数少了多少", -1, "amount"),
    ("收入比上年增减多少", 0, "amount"),
])
def test_change_asked(q, direction, what):
    ask = change_ask(q)
    assert ask is not None and ask.direction == direction and ask.what == what


def test_measure_of_the_change_asked():
    assert change_ask("培训费比2021年增加了多少元").measure == "元"  # type: ignore[union-attr]
    assert change_ask("培训费比上年增加了多少").measure == ""  # type: ignore[union-attr]


@pytest.mark.parametrize("q", ["西安市公安局的招待费是多少", "基本支出增长的原因是什么", "去年的培训费是多少"])
def test_no_change_asked(q):
    assert change_ask(q) is None


def test_comparison_phrase_is_not_the_kind_asked():
    assert "执行数" not in without_comparison("湖州财政局比上年执行数少了多少")
    assert change_ask("湖州财政局比上年执行数少了多少").against == "执行数"  # type: ignore[union-attr]


def _prose(doc, sentence: str, figures: list[tuple[str, str, str]]):
    """Narrative facts of one sentence: (row, value, measure) in the order printed."""
    out, cursor = [], 0
    for row, value, measure in figures:
        at = sentence.find(value, cursor)
        cursor = at + len(value)
        # the extractor's context: the clause around the figure
        context = sentence[max(sentence.rfind("，", 0, at), sentence.rfind("、", 0, at), 0):at + len(value) + 2]
        out.append(replace(_fact(doc, "", row, value, measure=measure, source="text", section="收支预算总体情况说明",
                                 context=context), quote=sentence))
    return out


def test_change_after_listed_parts_belongs_to_the_head():
    d = _doc("a.pdf", U, 2026)
    s = "本部门当年预算收入344,447.70万元，其中：一般公共预算拨款324,638.50万元、其他收入3,444.00万元，较上年减少129,422.00万元，下降27.31%。"
    facts = _prose(d, s, [("预算收入", "344,447.70", "万元"), ("一般公共预算拨款", "324,638.50", "万元"),
                          ("其他收入", "3,444.00", "万元"), ("其他收入减少", "129,422.00", "万元"),
                          ("其他收入下降", "27.31", "%")])
    (one,) = stated(facts, 2026)
    assert one.base is not None and one.base.row == "预算收入"
    assert one.amount is not None and one.amount.value == "129,422.00" and one.rate is not None and one.sign == -1


def test_each_part_after_qizhong_owns_its_change():
    d = _doc("a.pdf", U, 2026)
    s = "本部门当年一般公共预算支出2,838.42万元，其中：（1）工资福利支出1,710.33万元，较上年增加50.69万元，增长3.05%；（2）商品和服务支出991.95万元，较上年增加104.11万元，增长11.73%。"
    facts = _prose(d, s, [("一般公共预算支出", "2,838.42", "万元"), ("工资福利支出", "1,710.33", "万元"),
                          ("工资福利支出增加", "50.69", "万元"), ("工资福利支出增长", "3.05", "%"),
                          ("商品和服务支出", "991.95", "万元"), ("商品和服务支出增加", "104.11", "万元"),
                          ("商品和服务支出增长", "11.73", "%")])
    got = {s.base.row: (s.amount.value, s.rate.value) for s in stated(facts, 2026) if s.base and s.amount and s.rate}
    assert got == {"工资福利支出": ("50.69", "3.05"), "商品和服务支出": ("104.11", "11.73")}


def _sangong_engine(tmp_path, docs_facts):
    return Engine(load_settings(home=str(tmp_path)), source=MemorySource(docs_facts))


def _sangong_doc(tmp_path):
    d = _doc("a.pdf", U, 2026)
    s = "公务接待费1.00万元，较上年减少1.00万元，下降50.00%，下降的主要原因是：压减公务接待费支出；"
    facts = [_fact(d, SANGONG, "合计", "10000.00", column="当年/公务接待费", measure="元"),
             _fact(d, SANGONG, "合计", "20000.00", column="上年/公务接待费", measure="元"),
             *_prose(d, s, [("公务接待费", "1.00", "万元"), ("公务接待费减少", "1.00", "万元"),
                            ("公务接待费下降", "50.00", "%")])]
    return d, facts


def test_printed_change_answers_with_amount_and_rate(tmp_path):
    eng = _sangong_engine(tmp_path, [_sangong_doc(tmp_path)])
    a = eng.ask("某某市信访局招待费下降了百分之多少")
    assert a.status == "answered" and "50.00%" in a.answer and "1.00万元" in a.answer
    assert all(v.verified for v in a.values)
    two = eng.ask("某某市信访局的招待费是多少？比上年减少多少？")
    assert "减少1.00万元" in two.answer and all(v.verified for v in two.values)


def test_last_year_from_the_statement_is_computed_in_the_open(tmp_path):
    d, facts = _sangong_doc(tmp_path)
    prose_only = [f for f in facts if f.source == "text"]
    a = _sangong_engine(tmp_path, [(d, prose_only)]).ask("某某市信访局去年的公务接待费是多少")
    assert a.status == "answered" and "2025年" in a.answer and "2.00万元" in a.answer
    assert "计算" in a.answer and all(v.verified for v in a.values)


def test_last_year_column_that_agrees_with_the_statement_is_cited(tmp_path):
    a = _sangong_engine(tmp_path, [_sangong_doc(tmp_path)]).ask("某某市信访局去年的公务接待费是多少")
    assert "20000.00元" in a.answer and "计算" not in a.answer and all(v.verified for v in a.values)


def test_no_year_asked_gives_the_other_years_too(tmp_path):
    old = _doc("b.pdf", U, 2024)
    new = _doc("c.pdf", U, 2026)
    facts_old = [_fact(old, SANGONG, "公务接待费", "50000.00", measure="元")]  # 元 in one year, 万元 in the other
    facts_new = [_fact(new, SANGONG, "公务接待费", "4.00")]
    eng = _sangong_engine(tmp_path, [(old, facts_old), (new, facts_new)])
    a = eng.ask("某某市信访局的公务接待费是多少")
    assert a.answer.index("4.00万元") < a.answer.index("2024年")
    assert "50000.00元" in a.answer and all(v.verified for v in a.values)
    only = eng.ask("某某市信访局2024年的公务接待费是多少")
    assert "50000.00元" in only.answer and "4.00万元" not in only.answer
