"""Fact identities: table roles (data in index/extract/roles.toml), items, codes and columns.

tests/golden/identity/<doc>.json holds, for every table of every seed and corpus-extra document,
the role checked by hand, and a few facts per table with their identity (also checked by hand).
Regenerate with `python -m tests.make_identity_golden` and review every changed line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.extract.identity import (
    Identity,
    column_role,
    identity_of,
    item_key,
    normalise_item,
    role_ids,
    same_item,
    table_role,
)
from budgetqa.index.model import Fact

from tests.docs import load
from tests.make_identity_golden import known_docs

GOLDEN = Path(__file__).parent / "golden" / "identity"


def test_every_known_document_has_a_golden_identity_file() -> None:
    assert {p.name for p in GOLDEN.glob("*.json")} == {f"{n}.json" for n in known_docs()}


@pytest.mark.parametrize("name", known_docs())
def test_golden_table_roles(name: str) -> None:
    spec = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    doc = load(name)
    got = [(t.title, table_role(t.title, t.section)) for t in doc.tables]
    want = [(t["title"], t["role"]) for t in spec["tables"]]
    assert got == want
    assert {r for _, r in want} <= set(role_ids())


@pytest.mark.parametrize("name", known_docs())
def test_golden_fact_identities(name: str) -> None:
    spec = json.loads((GOLDEN / f"{name}.json").read_text(encoding="utf-8"))
    doc = load(name)
    facts = extract_facts(doc)
    wrong = []
    for g in spec["facts"]:
        match = [f for f in facts if f.table == g["table"] and f.row == g["row"] and f.column == g["column"]
                 and f.value == g["value"]]
        assert match, f"no fact {g['table']} | {g['row']} | {g['column']} | {g['value']}"
        i = identity_of(match[0], doc.subunits)
        got = {"role": i.role, "subunit": i.subunit, "item": i.item, "code": i.code, "column": i.column,
               "measure": i.measure}
        if got != g["identity"]:
            wrong.append((g["row"], g["column"], got, g["identity"]))
    assert not wrong, wrong


@pytest.mark.parametrize(("title", "role"), [
    ("公开01表 收支总表", "收支总表"),
    ("表1 2022年部门综合预算收支总表", "收支总表"),
    ("2025年部门财务收支预算总表", "收支总表"),
    ("收入支出决算总表", "收支总表"),
    ("财政拨款收入支出决算总表", "财政拨款收支总表"),
    ("2025年财政拨款收支总体情况表", "财政拨款收支总表"),
    ("政府性基金预算财政拨款收入支出决算表", "政府性基金表"),
    ("附表4-2 收入总表", "收入总表"),
    ("表3 支出决算表", "支出总表"),
    ("公开05表 财政拨款支出表（功能科目）", "财政拨款支出表"),
    ("公开06表 财政拨款基本支出表（经济科目）", "财政拨款基本支出表"),
    ("一般公共预算财政拨款支出决算表", "一般公共预算支出表"),
    ("2024年度一般公共预算基本支出经济分类情况表", "一般公共预算基本支出表"),
    ("2024年度一般公共预算支出经济分类情况表", "一般公共预算支出经济分类表"),
    ("附表4-7 一般公共预算“三公”经费支出表", "三公经费表"),
    ("公开12表 一般公共预算机关运行经费支出预算表", "机关运行经费表"),
    ("公开13表 政府采购支出表", "政府采购表"),
    ("西安市级采供血业务经费（政府采购部分）项目绩效自评表", "绩效自评表"),
    ("预算13表 部门整体支出绩效目标申报表", "整体绩效目标表"),
    ("综合工作经费绩效目标表", "项目绩效目标表"),
    ("二、部门预算单位构成", "单位构成"),
    ("附表4-9 项目支出表", "项目支出表"),
    ("某某说明", "other"),
])
def test_table_role_across_provinces(title: str, role: str) -> None:
    assert table_role(title) == role


def test_the_section_names_the_table_when_the_title_does_not() -> None:
    assert table_role("", "十、一般公共预算“三公”经费支出预算表") == "三公经费表"
    assert table_role("2024年度收支预算总表", "二、机构设置及人员情况") == "收支总表"  # the title wins


@pytest.mark.parametrize(("label", "item"), [
    ("1、因公出国（境）费用", "因公出国(境)费用"),
    ("（一）基本支出", "基本支出"),
    ("其中：（1）公务用车购置费", "公务用车购置费"),
    ("八、社会保障和就业支出", "社会保障和就业支出"),
    ("30217 公务接待费", "公务接待费"),
    ("  公务 接待费 ", "公务接待费"),
    ("２１０１５０１ 行政运行", "行政运行"),
])
def test_normalise_item(label: str, item: str) -> None:
    assert normalise_item(label) == item


@pytest.mark.parametrize(("column", "role"), [
    ("本年一般公共预算基本支出/人员经费", "人员经费"),
    ("基本支出/小计", "基本支出/合计"),
    ("收入/预算数", "收入/预算数"),
    ("本年支出合计", "合计"),
    ("人员类", "人员经费"),
    ("全年执行数", "执行数"),
    ("项目(按支出功能科目类级)/支出/一般公共预算支出", "支出/一般公共预算支出"),
])
def test_column_role(column: str, role: str) -> None:
    assert column_role(column) == role


def test_column_role_reads_years_against_the_documents_year() -> None:
    assert column_role("2021年/合计", 2022) == "上年/合计"
    assert column_role("2022年/合计", 2022) == "合计"
    assert column_role("2024年预算数/基本支出", 2024) == "基本支出"


def _fact(table: str, row: str, column: str, value: str = "5.00", code: str | None = None,
          unit: str = "福州市医疗保障局", source: str = "table") -> Fact:
    return Fact(doc="d", unit=unit, year=2024, kind="预算", section="", table=table, row=row, code=code,
                column=column, value=value, measure="万元", page=None, quote="", source=source)  # type: ignore[arg-type]


def test_the_three_public_table_item_is_the_same_item_as_the_economic_row() -> None:
    sangong = identity_of(_fact("2024年度一般公共预算“三公”经费支出预算表", "2、公务接待费", "预算数"))
    basic = identity_of(_fact("2024年度一般公共预算基本支出经济分类情况表", "公务接待费", "预算数", code="30217"))
    other = identity_of(_fact("2024年度一般公共预算基本支出经济分类情况表", "会议费", "预算数", code="30215"))
    assert sangong.role == "三公经费表" and basic.role == "一般公共预算基本支出表"
    assert same_item(sangong, basic)
    assert not same_item(sangong, other)
    assert not same_item(basic, other)


def test_item_synonyms_are_data() -> None:
    assert item_key("因公出国（境）费用") == item_key("因公出国(境)费")
    assert item_key("公务用车购置及运行维护费") == item_key("公务用车购置及运行费")
    assert item_key("公务接待费") != item_key("因公出国(境)费")


def test_items_printed_across_are_read_upright() -> None:
    """决算 三公 tables print 预算数/决算数 down and the items across."""
    f = _fact("表7 一般公共预算财政拨款“三公”经费支出决算表", "", "决算数/公务接待费", "0.16")
    i = identity_of(f)
    assert (i.item, i.column) == ("公务接待费", "决算数")
    f = _fact("公开08表 财政拨款“三公”经费及会议费、培训费支出决算表", "预算数", "财政拨款安排的“三公”经费/小计")
    i = identity_of(f)
    assert (i.item, i.column) == ("“三公”经费", "预算数")
    g = _fact("2024年度支出预算总表", "合计", "基本支出")  # a real column: the row is the item
    assert (identity_of(g).item, identity_of(g).column) == ("合计", "基本支出")


def test_sub_units_are_read_from_rows_that_name_them() -> None:
    f = _fact("二、部门预算单位构成", "福州市医疗保障基金中心", "在职人数", "139")
    own = _fact("二、部门预算单位构成", "福州市医疗保障局", "在职人数", "58")
    subs = ("福州市医疗保障基金中心",)
    assert identity_of(f, subs).subunit == "福州市医疗保障基金中心"
    assert identity_of(own, subs).subunit == "本级"
    assert identity_of(f).subunit is None


def test_narrative_figures_have_the_narrative_role() -> None:
    i = identity_of(_fact("", "“三公”经费一般公共预算安排", "", "5", source="text"))
    assert i.role == "narrative" and i.column == ""


def test_describe_names_what_was_checked() -> None:
    i = Identity("福州市医疗保障局", None, 2024, "预算", "三公经费表", "因公出国(境)费用", None, "预算数", "万元")
    assert i.describe() == "福州市医疗保障局 · 2024 · 预算 · “三公”经费表 · 因公出国(境)费用 · 预算数"


def test_identity_is_cached_and_hashable() -> None:
    f = _fact("2024年度一般公共预算“三公”经费支出预算表", "2、公务接待费", "预算数")
    assert identity_of(f) is identity_of(f)
    assert len({identity_of(f), identity_of(f)}) == 1


def test_every_table_fact_of_the_seeds_has_a_known_role() -> None:
    """A seed table whose role is unknown would make its facts uncheckable by identity."""
    for name in known_docs()[:5]:
        doc = load(name)
        unknown = {f.table for f in extract_facts(doc) if identity_of(f, doc.subunits).role == "other"}
        assert unknown <= {"第三部分曾都区医疗保障信息中心2024年部门预算表"}, unknown
