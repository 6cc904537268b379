"""Performance-table projects: the name a title gives, and questions about them on a real document."""

from __future__ import annotations

import pytest
from budgetqa.answer.projects import project_name
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.config import load_settings

from tests.paths import EXTRA

CHANGSHA = EXTRA / "changsha-public-security-bureau-2025-budget.txt"


@pytest.mark.parametrize(("title", "name"), [
    ("天网工程租赁和服务费2025年项目支出绩效目标表", "天网工程租赁和服务费"),
    ("西安市级2022年病媒生物防制项目绩效自评表", "病媒生物防制"),
    ("警务辅助人员经费（含市府机关大院30名）2025年项目支出绩效目标表", "警务辅助人员经费(含市府机关大院30名)"),
    ("2024年度一般公共预算“三公”经费支出预算表", ""),
    ("项目绩效自评表", ""),
])
def test_project_name_from_title(title: str, name: str) -> None:
    assert project_name(title) == name


@pytest.mark.slow
@pytest.mark.skipif(not CHANGSHA.exists(), reason="shared corpus not present")
def test_changsha_project_questions(tmp_path) -> None:
    from budgetqa.index.extract.facts import extract_facts
    from budgetqa.index.read.readers import read_document

    doc = read_document(CHANGSHA)
    engine = Engine(load_settings(home=str(tmp_path)), source=MemorySource([(doc, extract_facts(doc))]))
    cases = [
        ("长沙市公安局天网工程租赁和服务费项目的摄像头数是多少", "37275个", "天网工程"),
        ("长沙市公安局民警训练经费的资金总额是多少", "163.46万元", "民警训练经费"),
        ("长沙市公安局大院运行和维修经费项目的物业配备人员数", "49人", "大院运行"),
        ("长沙市公安局电信诈骗防范拦截系统建设运维及专网租赁运行经费的涉诈电话拦截数", "10000次", "电信诈骗"),
    ]
    for q, figure, table in cases:
        a = engine.ask(q)
        assert a.status == "answered" and figure in a.answer, (q, a.answer)
        assert table in a.citations[0].table, (q, a.citations[0].table)
    a = engine.ask("长沙市公安局的公务接待费是多少")
    assert "绩效" not in a.citations[0].table
