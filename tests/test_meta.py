"""Issuing unit, year, kind, aliases and sub-units read from the printed words."""

from __future__ import annotations

from pathlib import Path

import pytest
from budgetqa.errors import UnreadableDocument
from budgetqa.index.read.blocks import Paragraph
from budgetqa.index.read.meta import aliases, describe

from tests.docs import load
from tests.paths import EXTRA

SEED_META = [
    ("000_01543403f5824e7e.txt", "福州市医疗保障数据技术中心", 2024, "预算"),
    ("001_99a0e79d6e43ffbd.txt", "福州市医疗保障局", 2024, "预算"),
    ("002_62b2df7a6071b29f.txt", "曾都区医疗保障信息中心", 2024, "预算"),
    ("003_1d07f92e8e5daf27.txt", "上饶市医疗保障服务中心", 2024, "预算"),
    ("004_cac2b92dd79aafa7.txt", "福建省医疗保障基金中心", 2023, "决算"),
]
EXTRA_META = [
    ("xian-medical-security-bureau-2022-budget.md", "西安市医疗保障局", 2022, "预算"),
    ("shanghai-putuo-finance-bureau-2024-final-accounts.html", "上海市普陀区财政局", 2024, "决算"),
    ("wuxi-petition-bureau-2025-budget.txt", "无锡市信访局", 2025, "预算"),
    ("shanghai-putuo-wanli-subdistrict-2025-budget.txt", "上海市普陀区人民政府万里街道办事处", 2025, "预算"),
]


@pytest.mark.parametrize(("name", "unit", "year", "kind"), SEED_META + EXTRA_META)
def test_unit_year_kind(name: str, unit: str, year: int, kind: str) -> None:
    doc = load(name)
    assert (doc.unit, doc.year, doc.kind) == (unit, year, kind)


def test_aliases_by_general_rules() -> None:
    assert {"福州医保局", "福州市医保局"} <= set(aliases("福州市医疗保障局"))
    assert {"万里街道", "普陀区万里街道"} <= set(aliases("上海市普陀区人民政府万里街道办事处"))
    assert {"普陀区财政局", "普陀财政局"} <= set(aliases("上海市普陀区财政局"))
    assert "西安市卫健委" in aliases("西安市卫生健康委员会")
    assert "福州市医疗保障局" not in aliases("福州市医疗保障局")


@pytest.mark.parametrize(("name", "expected"), [
    ("001_99a0e79d6e43ffbd.txt", {"福州市医疗保障基金中心", "福州市医疗保障服务行为监测中心", "福州市医疗保障数据技术中心"}),
    ("wuxi-petition-bureau-2025-budget.txt", {"无锡市人民来访接待中心"}),
    ("shanghai-putuo-wanli-subdistrict-2025-budget.txt", {"上海市普陀区万里街道社区事务受理服务中心",
                                                          "上海市普陀区万里街道综合行政执法队"}),
    ("shanghai-putuo-finance-bureau-2024-final-accounts.html", {"上海市普陀区国库收付中心"}),
    ("xian-medical-security-bureau-2022-budget.md", {"西安市医疗保障经办服务中心", "西安市医疗保险基金管理中心"}),
])
def test_subunits(name: str, expected: set[str]) -> None:
    doc = load(name)
    assert expected <= set(doc.subunits)
    assert doc.unit not in doc.subunits


def test_not_a_budget_document_is_refused() -> None:
    blocks = [Paragraph("关于召开年度工作会议的通知", None), Paragraph("请各单位准时参加。", None)]
    with pytest.raises(UnreadableDocument, match="不是预算/决算公开文件"):
        describe("notice.txt", blocks)


def test_description_file_without_unit_or_tables_is_refused() -> None:
    path = EXTRA / "SOURCES.md"
    if not path.is_file():
        pytest.skip("corpus-extra not present")
    from budgetqa.index.read.md import read_md

    blocks, _, _ = read_md(path.read_text(encoding="utf-8"))
    with pytest.raises(UnreadableDocument):
        describe("SOURCES.md", blocks)


def test_corpus_dir_holds_seeds() -> None:
    assert (Path(__file__).resolve().parent.parent / "index" / "corpus" / SEED_META[0][0]).is_file()
