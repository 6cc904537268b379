"""The evaluation harness: gold parsing, scoring parity with ../shared/score.py, report, baseline."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from budgetqa.config import load_settings
from budgetqa.eval.baseline import figure_in, item_found
from budgetqa.eval.harness import percentile, run_eval
from budgetqa.eval.scoring import GoldItem, load_gold
from budgetqa.types import Answer, Citation, Value

from tests.paths import SHARED

SCORE_PY = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "score.py",
                             SHARED / "score.py") if p.is_file()), None)
DEV_QA = SHARED / "dev_qa.jsonl"


def _cite(doc: str, unit: str) -> Citation:
    return Citation(doc=doc, unit=unit, year=2024, kind="预算", section="三公", table="三公表",
                    row="公务接待费", page=None, quote="公务接待费\t5.00")


# question -> (status, answer text, citations, values); every scoring rule of score.py has a case here
ANSWERS: dict[str, tuple[str, str, tuple[Citation, ...], tuple[Value, ...]]] = {
    "接待费是多少": ("answered", "公务接待费预算为5.00万元。", (_cite("001_99a0e79d6e43ffbd.txt", "甲局"),),
                 (Value(5.0, "万元", True),)),
    "办公费是多少": ("answered", "办公费为1,804,800元。", (_cite("009_x.txt", "丁局"),), (Value(1804800, "元", False),)),
    "会议费是多少": ("answered", "会议费为2.00。", (), ()),  # no unit anywhere: wrong
    "差旅费是多少": ("answered", "差旅费为6.5万元（万元口径）。", (_cite("x.txt", "甲局"),), (Value(6.5, "万元", True),)),
    "电费是多少": ("answered", "电费为11.00万元。", (), (Value(11.0, "万元", True),)),
    "占比多少": ("answered", "占比为12.3%。", (), ()),
    "人数多少": ("answered", "编制39人。", (), ()),
    "车辆多少": ("answered", "共有3辆车。", (), ()),
    "合计多少": ("answered", "合计1073.19万元。", (), (Value(1073.19, "万元", True),)),
    "分别多少": ("answered", "分别为180.48万元和21.98万元。", (), ()),
    "只说一个": ("answered", "为180.48万元。", (), ()),
    "职责是什么": ("answered", "主要职责包括基金管理等。", (), ()),
    "2021年会议费": ("not_found", "没有找到2021年的数据。", (), ()),
    "杭州办公费": ("answered", "杭州市医疗保障局办公费为3万元。", (), ()),
    "飞机购置费": ("error", "暂无相关数据。", (), ()),
    "找不到也答": ("not_found", "未找到。", (), ()),
}

GOLD = [
    {"id": "g01", "type": "lookup", "q": "接待费是多少", "values": [[5.0, "万元"]], "doc": "001", "unit": "甲局"},
    {"id": "g02", "type": "lookup", "q": "办公费是多少", "values": [[180.48, "万元"]], "doc": "002", "unit": "乙局"},
    {"id": "g03", "type": "lookup", "q": "会议费是多少", "values": [[2.0, "万元"]], "doc": "001", "unit": "丙局"},
    {"id": "g04", "type": "lookup", "q": "差旅费是多少", "values": [[6.5, "万元"]], "doc": "a-b", "unit": "甲局"},
    {"id": "g05", "type": "lookup", "q": "电费是多少", "values": [[10.0, "万元"]]},
    {"id": "g06", "type": "lookup", "q": "占比多少", "values": [[12.3, "%"]]},
    {"id": "g07", "type": "lookup", "q": "人数多少", "values": [[39, "人"]]},
    {"id": "g08", "type": "lookup", "q": "车辆多少", "values": [[3, "辆"]]},
    {"id": "g09", "type": "arith", "q": "合计多少", "values": [[1073.19, "万元"]]},
    {"id": "g10", "type": "compare", "q": "分别多少", "values": [[180.48, "万元"], [21.98, "万元"]]},
    {"id": "g11", "type": "compare", "q": "只说一个", "values": [[180.48, "万元"], [21.98, "万元"]]},
    {"id": "g12", "type": "text", "q": "职责是什么", "must": ["基金管理"]},
    {"id": "g13", "type": "unanswerable", "q": "2021年会议费"},
    {"id": "g14", "type": "unanswerable", "q": "杭州办公费"},
    {"id": "g15", "type": "unanswerable", "q": "飞机购置费"},
    {"id": "g16", "type": "lookup", "q": "找不到也答", "values": [[1.0, "万元"]]},
]
EXPECTED_CORRECT = {"g01", "g02", "g04", "g06", "g07", "g08", "g09", "g10", "g12", "g13", "g15"}


class FakeEngine:
    def __init__(self, answers: dict[str, tuple[str, str, tuple[Citation, ...], tuple[Value, ...]]]) -> None:
        self.answers = answers

    def ask(self, question: str, *, unit: str | None = None, year: int | None = None,
            history: Sequence[Any] = (), qid: str | None = None) -> Answer:
        if question not in self.answers:
            raise RuntimeError("engine crashed")
        status, text, cites, values = self.answers[question]
        return Answer(question=question, status=status, answer=text, values=values,  # type: ignore[arg-type]
                      citations=cites, id=qid, latency_ms=3)


def _write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
                    + "\n", encoding="utf-8")
    return path


def _run(tmp_path: Path, gold_rows: list[Any]) -> tuple[Any, list[str]]:
    gold = _write_jsonl(tmp_path / "gold.jsonl", gold_rows)
    lines: list[str] = []
    summary = run_eval(gold, load_settings(), engine=FakeEngine(ANSWERS),  # type: ignore[arg-type]
                       report_dir=tmp_path / "report", echo=lines.append)
    return summary, lines


def test_scores_follow_the_judges_rules(tmp_path: Path) -> None:
    summary, lines = _run(tmp_path, GOLD)
    assert {r.item.id for r in summary.results if r.correct} == EXPECTED_CORRECT
    assert lines[-1] == f"accuracy {len(EXPECTED_CORRECT)}/{len(GOLD)} = {len(EXPECTED_CORRECT) / len(GOLD):.3f}"
    assert summary.by_type()["compare"] == (1, 2)
    # g01 by stem "001_", g02 not (wrong stem and unit), g03 not, g04 by unit "甲局"
    assert summary.citations() == (2, 4)
    # verified figures among answered answers: g01, g04, g05, g09 verified; g02 not
    assert summary.figures_verified() == (4, 5)
    assert any(line.startswith("FAIL g03 [lookup] 会议费是多少") and "期望：2万元" in line for line in lines)


def test_invalid_gold_lines_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    rows: list[Any] = [GOLD[0], "{not json", {"id": "x1", "type": "lookup"}, {"id": "x2", "type": "guess", "q": "?"},
                       {"id": "x3", "type": "lookup", "q": "没有答案字段"}, {"type": "lookup", "q": "无 id"},
                       {"id": "x4", "type": "lookup", "q": "坏值", "values": [["五", "万元"]]},
                       GOLD[0], GOLD[12], {"id": "crash", "type": "lookup", "q": "引擎崩溃", "values": [[1, "元"]]}]
    summary, lines = _run(tmp_path, rows)
    assert [b.line for b in summary.invalid] == [2, 3, 4, 5, 6, 7, 8]
    assert [b.id for b in summary.invalid] == [None, "x1", "x2", "x3", None, "x4", "g01"]
    assert "未知题型" in summary.invalid[2].reason
    assert [r.item.id for r in summary.results] == ["g01", "g13", "crash"]
    crashed = summary.results[2]
    assert crashed.answer["status"] == "error" and "engine crashed" in crashed.answer["answer"]
    assert lines[-1] == "accuracy 2/3 = 0.667"
    assert sum(line.startswith("INVALID") for line in lines) == 7


def test_report_is_self_contained(tmp_path: Path) -> None:
    _run(tmp_path, GOLD)
    page = (tmp_path / "report" / "eval-report.html").read_text(encoding="utf-8")
    md = (tmp_path / "report" / "eval-report.md").read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert "会议费是多少" in page and "| g03 | lookup |" in md
    answers = (tmp_path / "report" / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(a)["id"] for a in answers] == [g["id"] for g in GOLD]


@pytest.mark.skipif(SCORE_PY is None, reason="../shared/score.py not present")
def test_scores_agree_with_score_py(tmp_path: Path) -> None:
    summary, lines = _run(tmp_path, GOLD)
    judged = subprocess.run([sys.executable, str(SCORE_PY), str(tmp_path / "gold.jsonl"),
                             str(tmp_path / "report" / "answers.jsonl")],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert judged[-1] == lines[-1]
    assert {line.split()[1] for line in judged if line.startswith("FAIL")} == {
        r.item.id for r in summary.failures()}
    ours_by_type = next(line for line in lines if line.startswith("by type: "))
    theirs_by_type = next(line for line in judged if line.startswith("by type: "))
    assert sorted(ours_by_type[9:].split(", ")) == sorted(theirs_by_type[9:].split(", "))
    cited, total = summary.citations()
    assert f"citation names the right document: {cited}/{total}" in judged


def test_load_gold_reads_the_public_sample() -> None:
    if not DEV_QA.is_file():
        pytest.skip("dev_qa.jsonl not present")
    items, invalid = load_gold(DEV_QA)
    assert not invalid and len(items) == 20
    assert {i.type for i in items} == {"lookup", "arith", "compare", "text", "unanswerable"}


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) == 0.0
    assert percentile([5.0], 95) == 5.0
    assert percentile([float(x) for x in range(1, 101)], 50) == 50.0
    assert percentile([float(x) for x in range(1, 101)], 95) == 95.0
    assert percentile([1.0, 2.0, 3.0, 100.0], 95) == 100.0


def test_recall_matches_figures_in_yuan_or_wan_form() -> None:
    assert figure_in("公务接待费\t50,000.00", 5.0, "万元")
    assert figure_in("合计 480544221.62", 48054.42, "万元")
    assert figure_in("公务接待费 5.00", 5.0, "万元")
    assert not figure_in("公务接待费 15.00", 5.0, "万元")
    assert figure_in("办公费 180.48", 1804800, "元")
    assert figure_in("占 12.3%", 12.3, "%")
    item = GoldItem("x", "compare", "q", ((180.48, "万元"), (21.98, "万元")))
    assert item_found(item, ["办公费 180.48", "办公费 219,800.00"])
    assert not item_found(item, ["办公费 180.48"])
    assert item_found(GoldItem("t", "text", "q", (), ("基金管理",)), ["负责基金管理工作"])


@pytest.mark.slow
@pytest.mark.skipif(SCORE_PY is None or not DEV_QA.is_file(), reason="../shared not present")
def test_real_engine_answers_score_the_same_as_score_py(indexed_settings: Any, tmp_path: Path) -> None:
    from budgetqa.app.pipeline import Engine

    lines: list[str] = []
    summary = run_eval(DEV_QA, indexed_settings, engine=Engine(indexed_settings), report_dir=tmp_path,
                       echo=lines.append)
    judged = subprocess.run([sys.executable, str(SCORE_PY), str(DEV_QA), str(tmp_path / "answers.jsonl")],
                            capture_output=True, text=True, check=True).stdout.splitlines()
    assert judged[-1] == lines[-1]
    assert {line.split()[1] for line in judged if line.startswith("FAIL")} == {r.item.id for r in summary.failures()}
    assert summary.total == 20


@pytest.mark.slow
def test_baseline_compares_recall_on_the_same_questions(indexed_settings: Any, tmp_path: Path) -> None:
    """Naive RAG (fake embeddings here) and our retriever, over the same seed file and questions."""
    from budgetqa.eval.baseline import compare_retrieval
    from budgetqa.eval.harness import ItemResult

    seed = Path(__file__).resolve().parent.parent / "index" / "corpus" / "001_99a0e79d6e43ffbd.txt"
    items = [GoldItem("a", "lookup", "福州市医疗保障局的公务接待费是多少", ((5.0, "万元"),), (), "001"),
             GoldItem("b", "lookup", "福州市医疗保障局办公费", ((180.48, "万元"),), (), "001"),
             GoldItem("c", "lookup", "别的文件的题", ((1.0, "万元"),), (), "003"),
             GoldItem("d", "arith", "合计", ((1073.19, "万元"),))]
    answer = {"status": "answered", "answer": "5.00万元", "citations": [{"row": "2、公务接待费", "quote": "2、公务接待费\t5.00"}]}
    results = [ItemResult(items[0], answer, True, True, 0.01), ItemResult(items[1], {"status": "not_found"}, False, None, 0.01)]
    messages: list[str] = []
    rows = compare_retrieval(items, indexed_settings, results, [seed], echo=messages.append)
    assert [r.total for r in rows] == [2, 2, 2]  # item c is about a file outside the corpus, d is arithmetic
    assert rows[0].hits == 1 and rows[0].accuracy == 0.5
    assert rows[2].system.startswith("naive RAG") and 0 <= rows[2].hits <= 2
    assert any("500" in m for m in messages)


def test_gold_documents_finds_the_files_the_questions_name(tmp_path: Path) -> None:
    from budgetqa.eval.harness import gold_documents

    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "014_无锡_交通局.pdf").write_bytes(b"%PDF-1.4")
    (folder / "other.pdf").write_bytes(b"%PDF-1.4")
    gold = tmp_path / "g.jsonl"
    lines = [{"id": "a", "type": "lookup", "q": "x", "values": [[1, "万元"]], "doc": "014_无锡_交通局"},
             {"id": "b", "type": "lookup", "q": "y", "values": [[1, "万元"]], "doc": "014_无锡_交通局"},
             {"id": "c", "type": "unanswerable", "q": "z", "doc": "missing_doc"},
             {"id": "d", "type": "unanswerable", "q": "w"}]
    gold.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    found, missing = gold_documents(gold, folder)
    assert [p.name for p in found] == ["014_无锡_交通局.pdf"]
    assert missing == ["missing_doc"]
