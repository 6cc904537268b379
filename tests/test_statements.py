"""Statements as facts: a change against last year states last year's figure."""

from __future__ import annotations

from budgetqa.index.extract.narrative import narrative_facts
from budgetqa.index.model import Document, Fact, Section


def _prior(text: str, year: int = 2025) -> list[tuple[int | None, str, str, str]]:
    doc = Document(name="t.txt", sha256="0", unit="某市信访局", aliases=(), year=year, kind="预算", subunits=(),
                   sections=(Section(title="六、其他重要事项", level=2, text=text, page=3),), tables=(), pages=None,
                   layout="seed")
    return [(f.year, f.row, f.value, f.measure) for f in narrative_facts(doc) if f.year != year]


def test_decrease_adds_back() -> None:
    assert _prior("2025年机关运行经费2045.01万元，比上年预算减少29.30万元，下降1.41%。") == [
        (2024, "上年机关运行经费", "2074.31", "万元")]


def test_increase_subtracts_and_keeps_the_printed_places() -> None:
    assert _prior("收入预算为902.40万元，比上年增加90.77万元，增长11.18%。") == [(2024, "上年收入预算", "811.63", "万元")]


def test_named_year_is_the_year_compared_with() -> None:
    assert _prior("“三公”经费预算数为37.91万元，比2023年预算减少10万元。") == [(2023, "2023年“三公”经费预算数", "47.91", "万元")]


def test_year_before_named_by_its_number_reads_as_last_year() -> None:
    assert _prior("财政拨款收入18,976.76万元，比2024年预算增加3,355.65万元。") == [(2024, "上年财政拨款收入", "15621.11", "万元")]


def test_change_naming_its_item_in_a_later_sentence() -> None:
    assert _prior("2025年本单位支出预算68632.12万元，其中：公共安全支出68629.12万元。支出较去年减少1316.82万元。") == [
        (2024, "上年支出预算", "69948.94", "万元")]


def test_nothing_from_a_rate_or_a_printed_previous_figure() -> None:
    assert _prior("公务接待费增长5%。") == []
    assert _prior("收入总计93.42万元（上年收入总计54.07万元，同比增加39.35万元）。") == []
    assert _prior("比上年预算54.07万元增加29.35万元。") == []


def test_carry_over_is_not_last_years_figure() -> None:
    assert _prior("上年结转（结余）209.81万元，较上年预算安排增加12.02万元。") == []


def test_derived_fact_cites_its_sentence() -> None:
    doc = Document(name="t.txt", sha256="0", unit="某局", aliases=(), year=2024, kind="预算", subunits=(),
                   sections=(Section(title="（一）机关运行经费", level=2,
                                     text="机关运行经费支出618.35万元，比上年增加11.98万元。", page=5),),
                   tables=(), pages=None, layout="seed")
    [f] = [f for f in narrative_facts(doc) if f.year == 2023]
    assert isinstance(f, Fact) and f.doc == "t.txt" and f.page == 5 and f.source == "text"
    assert f.quote == "机关运行经费支出618.35万元，比上年增加11.98万元"


def test_change_against_last_years_outturn_says_so() -> None:
    doc = Document(name="t.txt", sha256="0", unit="某市交通运输局", aliases=(), year=2026, kind="预算", subunits=(),
                   sections=(Section(title="（二）收入预算情况", level=2, page=3,
                                     text="某市交通运输局2026年收入预算201286.11万元，比上年执行数增加81487.86万元，增长68.02%。"),),
                   tables=(), pages=None, layout="seed")
    prior = [f for f in narrative_facts(doc) if f.year == 2025]
    assert [(f.row, f.value, f.column) for f in prior] == [("上年收入预算", "119798.25", "执行数")]
    assert _prior("收入预算为902.40万元，比上年增加90.77万元。") == [(2024, "上年收入预算", "811.63", "万元")]
