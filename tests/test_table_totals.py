"""Arithmetic checks on the parsed tables: children add up to their parent and top-level rows to 合计.

A failure here means a row was dropped, misaligned or given a wrong (completed) code — or the
document itself does not add up, which the test then has to name explicitly.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from budgetqa.index.model import Row, Table, parse_number

from tests.docs import load

DOCS = [
    "000_01543403f5824e7e.txt", "001_99a0e79d6e43ffbd.txt", "003_1d07f92e8e5daf27.txt",
    "xian-medical-security-bureau-2022-budget.md", "shanghai-putuo-finance-bureau-2024-final-accounts.html",
    "wuxi-petition-bureau-2025-budget.txt", "shanghai-putuo-wanli-subdistrict-2025-budget.txt",
]
# The documents' own inconsistencies: (doc, table title part, row code or label, column) -> why.
WANLI = "shanghai-putuo-wanli-subdistrict-2025-budget.txt"
KNOWN: dict[tuple[str, str, str, str], str] = {
    # 2120101+2120102+2120104+2120199 = 94,995,789 元 but 21201 prints 94,995,790 (and 212 follows it),
    # in every table that lists the functional codes.
    (WANLI, "预算", "21201 ", "合计"): "款 21201 is 1 元 more than its 项",
    (WANLI, "预算", "21201 ", "财政拨款收入"): "款 21201 is 1 元 more than its 项",
    (WANLI, "预算", "212 ", "合计"): "类 212 inherits the 1 元 of 21201",
    (WANLI, "预算", "212 ", "财政拨款收入"): "类 212 inherits the 1 元 of 21201",
}
_NOT_AMOUNT = ("编码", "代码", "名称", "数量", "说明", "备注", "序号")


def _amount(cell: str) -> Decimal:
    return parse_number(cell) or Decimal(0)  # blank = zero in budget tables


def _tolerance(total: str, parts: int) -> Decimal:
    """Half a unit of the total's last printed digit, plus a cent of rounding per part."""
    decimals = len(total.split(".")[1]) if "." in total else 0
    return Decimal(5) / Decimal(10) ** (decimals + 1) + Decimal("0.01") * parts


def _mismatches(table: Table) -> list[str]:
    coded = [r for r in table.rows if r.code and r.code.isdigit()]
    out: list[str] = []
    total = next((r for r in table.rows if r.label.replace(" ", "") in ("合计", "总计") and not r.code), None)
    tops = [r for r in coded if len(r.code or "") == 3]
    if total is not None and tops:
        out += _compare(table, total, tops, "合计")
    for parent in coded:
        code = parent.code or ""
        longer = [r for r in coded if (r.code or "").startswith(code) and len(r.code or "") > len(code)]
        if longer:
            depth = min(len(r.code or "") for r in longer)
            out += _compare(table, parent, [r for r in longer if len(r.code or "") == depth], code)
    return out


def _compare(table: Table, parent: Row, children: list[Row], name: str) -> list[str]:
    bad = []
    for col, column in enumerate(table.columns):
        if any(word in column for word in _NOT_AMOUNT):
            continue
        printed = parent.cells[col] if col < len(parent.cells) else ""
        if parse_number(printed) is None and any(parse_number(c.cells[col]) for c in children):
            bad.append(f"{table.title} {name} [{column}]: blank total, children {[c.cells[col] for c in children]}")
            continue
        if parse_number(printed) is None:
            continue
        got = sum((_amount(c.cells[col]) for c in children), Decimal(0))
        if abs(got - _amount(printed)) > _tolerance(printed, len(children)):
            bad.append(f"{table.title} {name} [{column}]: printed {printed}, children sum {got}")
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("name", DOCS)
def test_children_add_up(name: str) -> None:
    doc = load(name)
    checked = [t for t in doc.tables if any(r.code and len(r.code) == 3 for r in t.rows)]
    assert checked, f"{name}: no coded table to check"
    problems = [p for t in checked for p in _mismatches(t)
                if not any(k[0] == name and k[1] in p and k[2] in p and k[3] in p for k in KNOWN)]
    assert not problems, "\n".join(problems)


def test_checker_catches_a_wrong_child() -> None:
    rows = (Row("合计", None, ("10.00",), None, ""), Row("一般公共服务支出", "201", ("10.00",), None, ""),
            Row("人大事务", "20101", ("6.00",), None, ""), Row("政协事务", "20102", ("3.00",), None, ""))
    problems = _mismatches(Table("支出表", "", "万元", ("合计",), rows, None))
    assert problems == ["支出表 201 [合计]: printed 10.00, children sum 9.00"]


@pytest.mark.slow
def test_every_document_has_enough_checks() -> None:
    """Guard against a parser change that silently leaves nothing to check."""
    for name in DOCS:
        doc = load(name)
        parents = sum(1 for t in doc.tables for r in t.rows if r.code and len(r.code) in (3, 5))
        assert parents >= 5, name
