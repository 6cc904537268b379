"""Concepts (qa/understand/concepts.toml): the budget total, 人员经费, 公用经费, “三公”经费 and counts,
resolved by fact identity; a printed figure wins, a sum of parts is said to be one, a part never answers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import budgetqa.understand.concepts as understand_concepts
import pytest
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.config import load_settings
from budgetqa.index.extract.identity import role_ids
from budgetqa.index.model import Document, Fact
from budgetqa.understand.concepts import NARRATIVE, bare_concept, concept_of, concepts, drop_qualifiers
from budgetqa.understand.wording import Item, asked_measure

A = "甲市测试局"
B = "乙市测试局"
SUB = "甲市测试局信息中心"
SHOUZHI = "2026年部门收支总表"
SHOURU = "2026年部门收入总表"
JIBEN = "2026年一般公共预算基本支出表"
SANGONG = "2026年一般公共预算“三公”经费支出表"


def _doc(name: str, unit: str, subunits: tuple[str, ...] = ()) -> Document:
    return Document(name=name, sha256="0" * 64, unit=unit, aliases=(), year=2026, kind="预算", subunits=subunits,
                    sections=(), tables=(), pages=None, layout="seed")


def _t(doc: Document, table: str, row: str, column: str, value: str, measure: str = "万元") -> Fact:
    return Fact(doc=doc.name, unit=doc.unit, year=2026, kind="预算", section=table, table=table, row=row, code=None,
                column=column, value=value, measure=measure, page=1, quote=f"{row}\t{value}", source="table",
                context="")


def _p(doc: Document, row: str, value: str, context: str, measure: str = "万元") -> Fact:
    return Fact(doc=doc.name, unit=doc.unit, year=2026, kind="预算", section="一、情况说明", table="", row=row,
                code=None, column="", value=value, measure=measure, page=2, quote=context, source="text",
                context=context)


def corpus() -> MemorySource:
    a = _doc("a.txt", A, subunits=(SUB,))
    b = _doc("b.txt", B)
    fa = [
        _t(a, SHOUZHI, "一、一般公共预算拨款收入", "收入/预算数", "900.00"),
        _t(a, SHOUZHI, "收入总计", "收入/预算数", "1000.00"),
        _t(a, SHOUZHI, "支出总计", "支出/预算数", "1000.00"),
        _t(a, SHOURU, "合计", "合计", "1000.00"),
        _t(a, SHOURU, SUB, "合计", "300.00"),
        _t(a, JIBEN, "合计", "人员经费", "420.00"),
        _t(a, JIBEN, "合计", "公用经费", "80.00"),
        _t(a, JIBEN, "工资福利支出", "合计", "400.00"),
        _t(a, JIBEN, "对个人和家庭的补助", "合计", "15.00"),
        _t(a, JIBEN, "商品和服务支出", "合计", "85.00"),
        _t(a, SANGONG, "合计", "预算数", "12.00"),
        _t(a, SANGONG, "公务接待费", "预算数", "2.00"),
        _p(a, "人员编制", "45", "本部门人员编制45人", "人"),
        _p(a, "实有人员", "40", "实有人员40人", "人"),
        _p(a, "所属预算单位共有车辆", "3", "本部门所属预算单位共有车辆3辆", "辆"),
        _p(a, "部门预算安排购置车辆", "0", "当年部门预算安排购置车辆0辆", "辆"),
    ]
    fb = [  # no 人员经费 column and no 三公 total: only parts are printed
        _t(b, SHOUZHI, "收入总计", "收入/预算数", "500.00"),
        _t(b, JIBEN, "工资福利支出", "合计", "200.00"),
        _t(b, JIBEN, "对个人和家庭的补助", "合计", "10.00"),
        _t(b, SANGONG, "因公出国（境）费用", "预算数", "0.00"),
        _t(b, SANGONG, "公务用车购置及运行费", "预算数", "3.00"),
        _t(b, SANGONG, "公务接待费", "预算数", "1.50"),
    ]
    return MemorySource([(a, fa), (b, fb)])


def _vocabulary() -> dict:
    return tomllib.loads((Path(understand_concepts.__file__).with_name("vocabulary.toml")).read_text(encoding="utf-8"))["items"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))), source=corpus())


def test_every_concept_word_is_a_vocabulary_item():
    vocab = _vocabulary()
    missing = [w for c in concepts() for w in c.words if w not in vocab]
    assert not missing


def test_specs_name_known_table_roles():
    known = set(role_ids()) | {NARRATIVE}
    for c in concepts():
        for spec in (*c.printed, *([c.parts] if c.parts else [])):
            assert set(spec.roles) <= known, (c.id, spec.roles)


def test_concept_labels_never_name_a_part():
    vocab = _vocabulary()
    for c in concepts():
        parts = set(c.parts.items) if c.parts else set()
        for w in c.words:
            assert not parts & set(vocab[w]["labels"]), (c.id, w)


def test_bare_budget_question_names_the_budget_total():
    assert bare_concept("　今年预算多少").id == "预算总额"
    assert bare_concept("　的预算总共多少钱").id == "预算总额"
    assert bare_concept("　办公费预算多少") is None


def test_concept_of_item_words():
    assert concept_of(Item("人头费", ("人员经费",), vocab=True)).id == "人员经费"
    assert concept_of(Item("办公费", ("办公费",))) is None


def test_qualifier_after_another_item_is_that_items_total():
    items = (Item("项目支出", ("项目支出",)), Item("预算总额", ("收入总计",), vocab=True))
    assert drop_qualifiers(items, "项目支出预算总额") == items[:1]


def test_how_many_people_is_counted_in_people():
    assert asked_measure("编制几个人") == "人"
    assert asked_measure("有几个单位") == "个"


def test_budget_total_is_the_income_grand_total(engine):
    a = engine.ask("甲市测试局今年预算多少")
    assert a.status == "answered" and "1000.00万元" in a.answer and a.verified
    assert a.citations[0].table == SHOUZHI


def test_sub_unit_budget_is_its_row_of_the_income_table(engine):
    a = engine.ask("甲市测试局信息中心的预算是多少")
    assert "300.00万元" in a.answer and a.citations[0].table == SHOURU


def test_printed_personnel_funds_win_over_their_parts(engine):
    a = engine.ask("甲市测试局人员经费和公用经费各是多少")
    assert "420.00万元" in a.answer and "80.00万元" in a.answer
    assert "400.00万元" not in a.answer and "85.00万元" not in a.answer  # never a part


def test_unprinted_concept_is_the_sum_of_its_parts_said_as_a_sum(engine):
    a = engine.ask("乙市测试局人员经费是多少")
    assert a.status == "answered" and "210.00万元" in a.answer and "相加" in a.answer
    assert "工资福利支出" in a.answer and "对个人和家庭的补助" in a.answer
    assert a.verified and len(a.citations) == 2


def test_sangong_without_printed_total_sums_the_three(engine):
    a = engine.ask("乙市测试局三公经费多少")
    assert "4.50万元" in a.answer and "相加" in a.answer and a.verified


def test_sangong_printed_total(engine):
    a = engine.ask("甲市测试局三公经费多少")
    assert "12.00万元" in a.answer


def test_counts(engine):
    assert "3辆" in engine.ask("甲市测试局有几辆车").answer
    a = engine.ask("甲市测试局编制多少人，实有多少人")
    assert "45人" in a.answer and "40人" in a.answer
