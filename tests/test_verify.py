"""`verify` binds each figure to the identity the claim gives it (issue 10 §2), on the bundled seeds.

Claims are also built mechanically from the seeds' facts (budgetqa.eval.claims): swapped items,
years, units, columns and measures must never be supported; true claims mostly are.
"""

from __future__ import annotations

import pytest
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.check.checker import check_bound, figures
from budgetqa.check.verify import EMPTY_CORPUS, NO_FIGURE
from budgetqa.config import load_settings
from budgetqa.eval.claims import column_claims, make_claims
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.model import Fact

from tests.docs import load
from tests.make_identity_golden import known_docs


@pytest.fixture(scope="module")
def seeds() -> list:
    return [(load(n), extract_facts(load(n))) for n in known_docs()[:5]]


@pytest.fixture(scope="module")
def engine(seeds, tmp_path_factory) -> Engine:
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))), source=MemorySource(seeds))


def test_issue_examples(engine: Engine) -> None:
    # 5.00 is 公务接待费; the 三公 table prints 0.00 for 因公出国（境）费
    c = engine.verify("福州市医疗保障局因公出国（境）费为5.00万元")
    assert c.verdict == "contradicted"
    (fig,) = c.figures
    assert fig.expected == "0.00万元" and fig.citations[0].table.endswith("“三公”经费支出预算表")
    assert fig.identity == "福州市医疗保障局 · 2024 · 预算 · “三公”经费表 · 因公出国(境)费用 · 预算数 = 0.00万元"
    # the corpus holds no 2021 figure for this unit (2023's is stated: "与上年预算数持平")
    c = engine.verify("福州市医疗保障局2021年公务接待费预算为5.00万元")
    assert c.verdict == "unverifiable" and c.figures[0].reason
    c = engine.verify("福州市医疗保障局2023年公务接待费预算为5.00万元")
    assert c.verdict == "supported"
    # the target is ≥740元/人
    c = engine.verify("福州市医疗保障局城乡居民医保居民人均财政补助标准的目标值为1014.8元")
    assert c.verdict == "contradicted" and c.figures[0].expected == "740元/人"


def test_supported_names_the_identity(engine: Engine) -> None:
    c = engine.verify("福州市医疗保障局2024年公务接待费预算为5.00万元")
    assert c.verdict == "supported"
    assert c.figures[0].identity.startswith("福州市医疗保障局 · 2024 · 预算 · “三公”经费表 · 公务接待费")
    assert c.to_json()["figures"][0]["identity"] == c.figures[0].identity
    assert engine.verify("福州市医疗保障局2024年公务接待费预算为50000元").verdict == "supported"  # 元 ↔ 万元


def test_derived_figures_are_bound_to_their_inputs(engine: Engine) -> None:
    ok = engine.verify("福州市医疗保障数据技术中心2024年基本支出比项目支出多802.40万元")
    assert ok.verdict == "supported" and "852.40万元 - 50.00万元" in ok.figures[0].identity
    bad = engine.verify("福州市医疗保障局2024年公务接待费占“三公”经费的50%")
    assert bad.verdict == "contradicted" and bad.figures[0].expected == "100.00%"


def test_a_claim_without_a_figure_says_why(engine: Engine) -> None:
    c = engine.verify("福州市医疗保障局今年很节约")
    assert c.verdict == "unverifiable" and c.reason == NO_FIGURE and not c.figures
    assert c.to_json()["reason"] == NO_FIGURE


def test_two_units_each_figure_against_its_own_unit(engine: Engine) -> None:
    c = engine.verify("福州市医疗保障局公务接待费5万元，福州市医疗保障数据技术中心公务接待费5万元")
    first, second = c.figures
    assert first.verified and first.identity.startswith("福州市医疗保障局 ")
    assert not second.verified and second.identity.startswith("福州市医疗保障数据技术中心 ")
    assert c.verdict == "contradicted"


def test_an_empty_corpus_is_a_clear_message(tmp_path) -> None:
    engine = Engine(load_settings(home=str(tmp_path)), source=MemorySource([]))
    c = engine.verify("福州市医疗保障局公务接待费5万元")
    assert c.verdict == "unverifiable" and c.reason == EMPTY_CORPUS


def test_swapped_claims_are_never_supported_and_true_ones_mostly_are(engine: Engine, seeds) -> None:
    claims = make_claims(seeds, per_doc=4) + column_claims(seeds)
    kinds = {c.kind for c in claims}
    assert {"true", "item", "year", "unit", "column", "measure"} <= kinds
    supported_swaps = [c.text for c in claims if c.kind != "true" and engine.verify(c.text).verdict == "supported"]
    assert not supported_swaps
    true = [c for c in claims if c.kind == "true"]
    share = sum(engine.verify(c.text).verdict == "supported" for c in true) / len(true)
    assert share >= 0.85, share


def _fact(row: str, value: str, column: str = "预算数") -> Fact:
    return Fact(doc="d", unit="u", year=2024, kind="预算", section="", table="2024年度一般公共预算“三公”经费支出预算表",
                row=row, code=None, column=column, value=value, measure="万元", page=None, quote="")


def test_each_figure_of_a_sentence_is_bound_to_the_item_written_before_it() -> None:
    facts = [_fact("1、因公出国（境）费用", "0.00"), _fact("2、公务接待费", "5.00")]
    ok = check_bound("因公出国（境）费0.00万元，公务接待费5.00万元", facts)
    assert [c.verified for c in ok] == [True, True]
    swapped = check_bound("因公出国（境）费5.00万元，公务接待费0.00万元", facts)
    assert [c.verified for c in swapped] == [False, False]


def test_a_year_written_before_a_figure_must_be_the_facts_year() -> None:
    facts = [_fact("2、公务接待费", "5.00"), _fact("2、公务接待费", "6.00", column="上年预算数")]
    assert check_bound("2024年公务接待费5.00万元", facts)[0].verified
    assert not check_bound("2022年公务接待费5.00万元", facts)[0].verified
    assert check_bound("2023年公务接待费6.00万元", facts)[0].verified  # the 上年 column


def test_a_table_zero_is_exactly_zero() -> None:
    (zero,) = [f for f in figures("0.14万元")]
    assert not check_bound("因公出国（境）费0.14万元", [_fact("因公出国（境）费", "0")])[0].verified
    assert zero.value > 0
    assert not check_bound("公务接待费0万元", [_fact("公务接待费", "0.25")])[0].verified
