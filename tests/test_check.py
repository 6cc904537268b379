"""The numeric checker: figure extraction, unit conversion, printed rounding, arithmetic, verify verdicts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from budgetqa.answer.arith import compute
from budgetqa.app.pipeline import Engine
from budgetqa.check.checker import Figure, check_text, figures, matches, verdict
from budgetqa.config import load_settings
from budgetqa.index.model import Fact

from tests.fixtures_answer import corpus


def fact(value: str, measure: str = "万元", row: str = "公务接待费") -> Fact:
    return Fact(doc="d", unit="u", year=2024, kind="预算", section="s", table="t", row=row, code=None,
                column="预算数", value=value, measure=measure, page=None, quote=f"{row}\t{value}")


def fig(text: str) -> Figure:
    (f,) = figures(text)
    return f


def test_figures_keep_measure_and_skip_years_and_codes():
    fs = figures("2024年，2101501行政运行支出1,353.26万元，增长4.5%，在职39人，车2辆")
    assert [(f.value, f.measure) for f in fs] == [(Decimal("1353.26"), "万元"), (Decimal("4.5"), "%"),
                                                  (Decimal("39"), "人"), (Decimal("2"), "辆")]


@pytest.mark.parametrize("claim,value,measure,ok", [
    ("5.0万元", "5.00", "万元", True),
    ("5万元", "5.00", "万元", True),
    ("50万元", "5.00", "万元", False),
    ("48054.42万元", "480544221.62", "元", True),
    ("480544221.6元", "48054.42", "万元", True),
    ("480,544,221.62元", "480544221.62", "元", True),
    ("4.81亿元", "480544221.62", "元", True),
    ("4.9亿元", "480544221.62", "元", False),
    ("104.73%", "104.73", "%", True),
    ("39人", "39", "人", True),
    ("39万元", "39", "人", False),
])
def test_matches_with_conversion_and_rounding(claim, value, measure, ok):
    assert matches(fig(claim), fact(value, measure)) is ok


def test_check_text_verifies_stated_arithmetic_from_cited_facts():
    inputs = [fact("568.44", row="住房公积金"), fact("106.79", row="提租补贴"), fact("397.96", row="购房补贴")]
    d = compute("sum", inputs)
    checks = check_text("合计为1073.19万元", inputs, [d])
    assert checks[0].verified and len(checks[0].citations) == 3
    wrong = check_text("合计为1073.20万元", inputs, [d])
    assert not wrong[0].verified


def test_check_text_ratio_and_mixed_measures():
    a, b = fact("48054.42", "万元", "收入"), fact("961088443.24", "元", "两倍")
    d = compute("ratio", [a, b])
    assert d.measure == "%" and check_text("占比50.00%", [a, b], [d])[0].verified


def test_verdicts():
    assert verdict(()) == "unverifiable"
    assert verdict(check_text("公务接待费5.00万元", [fact("5.00")])) == "supported"


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))), source=corpus())


def test_verify_contradicted_names_expected_figure(engine):
    c = engine.verify("福州市医疗保障局公务接待费50万元")
    assert c.verdict == "contradicted"
    assert c.figures[0].expected == "5.00万元" and c.figures[0].citations
    assert c.to_json()["figures"][0]["verified"] is False


def test_verify_supported_and_unverifiable(engine):
    assert engine.verify("福州市医疗保障局公务接待费5万元").verdict == "supported"
    assert engine.verify("福州市医疗保障局2024年办公费预算为180.48万元").verdict == "supported"
    assert engine.verify("福州市医疗保障局今年很节约").verdict == "unverifiable"
    assert engine.verify("福州市医疗保障局某项支出为123.45万元").verdict == "unverifiable"


def test_verify_converts_measures(engine):
    assert engine.verify("西安市医疗保障局本年收入合计48054.42万元").verdict == "supported"
