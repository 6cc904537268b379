"""A department question takes the department's figures, a sub-unit's only that sub-unit's, a 本级 question
the department's own offices' (facts owned by index/extract/owners.py); the checker verifies a figure only
under the owner its sentence gives it."""

from __future__ import annotations

import pytest
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.check.checker import check_bound
from budgetqa.config import load_settings
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.model import Document, Row, Table

UNIT = "西安市安全生产监督管理局"
TEAM = "西安市安全生产执法监察支队"


def _row(label: str, *cells: str, code: str | None = None) -> Row:
    return Row(label=label, code=code, cells=cells, page=7, quote="\t".join((code or "", label, *cells)))


def _table(title: str, columns: tuple[str, ...], *rows: Row) -> Table:
    return Table(title=title, section="", measure="万元", columns=columns, rows=rows, page=7)


def _document() -> Document:
    totals = _table("表1 2019年部门综合预算收支总表", ("预算数",),
                    _row("住房保障支出", "157.42"), _row("卫生健康支出", "30.81"))
    split = _table("表5 2019年部门综合预算一般公共预算支出明细表（按支出功能分类科目）", ("合计", "人员经费支出"),
                   _row("合计", "3,643.37", "1,839.51"),
                   _row(UNIT, "2,080.32", "972.99", code="125001"),
                   _row("住房保障支出", "87.86", "87.86", code="221"),
                   _row("住房公积金", "87.86", "87.86", code="2210201"),
                   _row(TEAM, "830.27", "500.06", code="125003"),
                   _row("住房保障支出", "40.39", "40.39", code="221"),
                   _row("住房公积金", "40.39", "40.39", code="2210201"))
    return Document(name="anjian.pdf", sha256="0" * 64, unit=UNIT, aliases=(), year=2019, kind="预算",
                    subunits=(TEAM,), sections=(), tables=(totals, split), pages=None, layout="pdf")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    doc = _document()
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))),
                  source=MemorySource([(doc, extract_facts(doc))]))


def test_sub_unit_question_takes_its_own_rows(engine: Engine) -> None:
    a = engine.ask(f"{TEAM}2019年住房公积金是多少")
    assert a.status == "answered" and "40.39万元" in a.answer and "87.86" not in a.answer and a.verified


def test_own_level_question_takes_the_own_offices_rows(engine: Engine) -> None:
    a = engine.ask(f"{UNIT}本级2019年住房公积金是多少")
    assert "87.86万元" in a.answer and "40.39" not in a.answer


def test_department_question_never_takes_a_units_figure(engine: Engine) -> None:
    a = engine.ask(f"{UNIT}2019年住房保障支出是多少")
    assert "157.42万元" in a.answer and "87.86" not in a.answer
    # printed only per unit: no unit's figure stands for the department's
    b = engine.ask(f"{UNIT}2019年住房公积金是多少")
    assert "87.86" not in b.answer and "40.39" not in b.answer


def test_checker_binds_a_figure_to_the_owner_named() -> None:
    doc = _document()
    facts = [f for f in extract_facts(doc) if f.row == "住房公积金" and f.column == "合计"]
    assert {f.owner for f in facts} == {"本级", TEAM}
    assert check_bound(f"{TEAM}住房公积金40.39万元", facts)[0].verified
    assert not check_bound(f"{TEAM}住房公积金87.86万元", facts)[0].verified  # the 本级's figure
    assert check_bound(f"{UNIT}本级住房公积金87.86万元", facts)[0].verified
