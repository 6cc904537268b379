"""The `budgetqa` command line: argument handling and printing with a fake Engine, then end to end
through the installed console script against the real stages (BUDGETQA_HOME in tmp)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from budgetqa.app import cli
from budgetqa.errors import BadQuestion
from budgetqa.types import Answer, Check, Citation, FigureCheck, Value
from click.testing import CliRunner

ANSWER_KEYS = {"id", "question", "status", "answer", "values", "citations", "latency_ms"}
CITATION_KEYS = {"title", "doc", "unit", "year", "kind", "section", "table", "row", "page", "quote"}
FACT_KEYS = {"doc", "unit", "year", "kind", "section", "table", "row", "code", "column", "value", "measure",
             "page", "quote"}
CITE = Citation(doc="001_x.txt", unit="福州市医疗保障局", year=2024, kind="预算", section="十、三公",
                table="三公经费表", row="2、公务接待费", page=3, quote="2、公务接待费\t5.00")


class FakeEngine:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def ask(self, question: str, *, unit: str | None = None, year: int | None = None,
            history: Sequence[Any] = (), qid: str | None = None) -> Answer:
        self.asked.append((question, qid))
        if question == "空":
            raise BadQuestion("问题不能为空")
        if question == "崩溃":
            raise RuntimeError("boom")
        return Answer(question=question, status="answered", answer="公务接待费预算为5.00万元。",
                      values=(Value(5.0, "万元", True),), citations=(CITE,), id=qid, latency_ms=2)

    def verify(self, claim: str, qid: str | None = None) -> Check:
        return Check(claim=claim, verdict="contradicted", id=qid,
                     figures=(FigureCheck(6.0, "万元", False, "5.00万元", (CITE,)),))


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine()
    monkeypatch.setattr(cli, "_engine", lambda settings: engine)
    return engine


def _invoke(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli.cli, list(args), input=stdin)


def test_ask_text_shows_answer_check_mark_and_citation(fake: FakeEngine) -> None:
    result = _invoke("ask", "福州市医疗保障局的公务接待费是多少")
    assert result.exit_code == 0, result.output
    assert "5.00万元" in result.output and "【已核对】" in result.output
    assert "001_x.txt" in result.output and "第 3 页" in result.output and "2、公务接待费\t5.00" in result.output


def test_ask_json_is_the_contract_object(fake: FakeEngine) -> None:
    result = _invoke("ask", "--json", "接待费")
    obj = json.loads(result.output)
    assert set(obj) == ANSWER_KEYS and set(obj["citations"][0]) == CITATION_KEYS
    assert obj["values"] == [{"value": 5.0, "measure": "万元", "verified": True}]


def test_ask_batch_keeps_ids_and_order_and_survives_bad_lines(fake: FakeEngine) -> None:
    lines = ['{"id": "a", "q": "一"}', "{bad json", '{"id": "c", "question": "三"}', "",
             '{"id": "d"}', '{"id": "e", "q": "空"}', '{"id": "f", "q": "崩溃"}', '["list"]', '{"id": "h", "q": "八"}']
    result = _invoke("ask", "--batch", "-", "--json", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o["id"] for o in out] == ["a", "line2", "c", "d", "e", "f", "line8", "h"]
    assert [o["status"] for o in out] == ["answered", "error", "answered", "error", "error", "error", "error",
                                          "answered"]
    assert all(set(o) == ANSWER_KEYS for o in out)
    assert "第 2 行" in out[1]["answer"] and "问题不能为空" in out[4]["answer"]
    assert fake.asked[:2] == [("一", "a"), ("三", "c")]


def test_user_errors_are_messages_not_tracebacks(fake: FakeEngine) -> None:
    result = _invoke("ask", "空")
    assert result.exit_code == 1
    assert "问题不能为空" in result.output and "Traceback" not in result.output
    result = _invoke("ask")
    assert result.exit_code == 2 and "二者取一" in result.output


def test_verify_json_and_text(fake: FakeEngine) -> None:
    obj = json.loads(_invoke("verify", "--json", "公务接待费6万元").output)
    assert obj["verdict"] == "contradicted" and obj["figures"][0]["expected"] == "5.00万元"
    # the contract fields, plus the identity the figure was checked against
    assert set(obj["figures"][0]) == {"value", "measure", "verified", "expected", "citations", "identity"}
    text = _invoke("verify", "公务接待费6万元").output
    assert "与文件不符" in text and "文件中为 5.00万元" in text
    batch = _invoke("verify", "--batch", "-", "--json", stdin='{"id": "v1", "claim": "x 6万元"}\n{"id": "v2"}\n')
    rows = [json.loads(line) for line in batch.output.splitlines()]
    assert [(r["id"], r["verdict"]) for r in rows] == [("v1", "contradicted"), ("v2", "error")]


def test_help_is_fast_and_documents_serve(fake: FakeEngine) -> None:
    code = ("import sys; from budgetqa.app.cli import cli; from click.testing import CliRunner; "
            "CliRunner().invoke(cli, ['--help']); "
            "print(sorted(m for m in ('torch', 'chromadb', 'langchain_core', 'gradio') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
    serve_help = _invoke("serve", "--help").output
    assert "--host" in serve_help and "--port" in serve_help and "BUDGETQA_HOME" in serve_help
    assert "BUDGETQA_CHROMA_URL" in _invoke("--help").output


def test_eval_min_threshold_sets_exit_status(fake: FakeEngine, tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "1", "type": "lookup", "q": "接待费", "values": [[5, "万元"]]}\n'
                    '{"id": "2", "type": "lookup", "q": "办公费", "values": [[9, "万元"]]}\n', encoding="utf-8")
    thresholds = tmp_path / "t.json"
    thresholds.write_text('{"min_accuracy": 0.6}', encoding="utf-8")
    ok = _invoke("eval", str(gold), "--report", str(tmp_path / "r"), "--min", "0.5")
    assert ok.exit_code == 0 and ok.output.splitlines()[-1] == "accuracy 1/2 = 0.500"
    low = _invoke("eval", str(gold), "--report", str(tmp_path / "r"), "--min-accuracy-from", str(thresholds))
    assert low.exit_code == 1 and "低于阈值" in low.output
    assert (tmp_path / "r" / "eval-report.html").is_file()


# ---------------------------------------------------------------- end to end, real stages
SEED = Path(__file__).resolve().parent.parent / "index" / "corpus" / "001_99a0e79d6e43ffbd.txt"


def _budgetqa(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("budgetqa") or ""
    cmd = [exe] if exe else [sys.executable, "-m", "budgetqa.app.cli"]
    env = {**os.environ, "BUDGETQA_HOME": str(home)}
    return subprocess.run([*cmd, *args], input=stdin, capture_output=True, text=True, env=env, timeout=600)


@pytest.fixture(scope="module")
def e2e_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("e2e-home")
    docs = tmp_path_factory.mktemp("e2e-docs")
    shutil.copy(SEED, docs / SEED.name)
    done = _budgetqa(home, "index", str(docs))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "索引完成" in done.stdout
    return home


@pytest.mark.slow
def test_e2e_index_is_idempotent(e2e_home: Path) -> None:
    again = _budgetqa(e2e_home, "index", str(SEED))
    assert again.returncode == 0 and "新增或更新 0 个文件，未改动 1 个" in again.stdout


@pytest.mark.slow
def test_e2e_ask_json(e2e_home: Path) -> None:
    done = _budgetqa(e2e_home, "ask", "--json", "福州市医疗保障局的公务接待费是多少")
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)
    assert set(obj) >= ANSWER_KEYS and obj["status"] == "answered"
    assert "5" in obj["answer"] and "万元" in obj["answer"]
    assert obj["citations"] and set(obj["citations"][0]) >= CITATION_KEYS
    assert obj["citations"][0]["doc"] == SEED.name


@pytest.mark.slow
def test_e2e_ask_batch_with_a_bad_line(e2e_home: Path) -> None:
    stdin = ('{"id": "q1", "q": "福州市医疗保障局的公务接待费是多少"}\nnot json\n'
             '{"id": "q3", "question": "福州市医疗保障局2024年办公费预算多少？"}\n')
    done = _budgetqa(e2e_home, "ask", "--batch", "-", "--json", stdin=stdin)
    assert done.returncode == 0, done.stderr
    out = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["id"] for o in out] == ["q1", "line2", "q3"]
    assert [o["status"] for o in out] == ["answered", "error", "answered"]
    assert "180.48" in out[2]["answer"]


@pytest.mark.slow
def test_e2e_verify_json(e2e_home: Path) -> None:
    done = _budgetqa(e2e_home, "verify", "--json", "福州市医疗保障局2024年公务接待费预算为5.00万元")
    assert done.returncode == 0, done.stderr
    obj = json.loads(done.stdout)
    assert obj["verdict"] == "supported" and obj["figures"][0]["verified"] is True
    assert obj["figures"][0]["identity"].startswith("福州市医疗保障局 · 2024 · 预算 · “三公”经费表 · 公务接待费")


@pytest.mark.slow
def test_e2e_facts_json(e2e_home: Path) -> None:
    done = _budgetqa(e2e_home, "facts", "--doc", SEED.name, "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows and all(set(r) >= FACT_KEYS for r in rows)
    assert {r["doc"] for r in rows} == {SEED.name}


@pytest.mark.slow
def test_e2e_index_names_each_failed_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    odd = tmp_path / "notes.xyz"
    odd.write_text("hello", encoding="utf-8")
    done = _budgetqa(tmp_path / "home", "index", str(empty), str(odd), str(tmp_path / "missing.pdf"))
    assert done.returncode == 1
    for name in ("empty.txt", "missing.pdf"):
        assert f"失败：{name}：" in done.stderr
    assert "跳过：notes.xyz：不是支持的文档类型（.xyz）" in done.stderr  # not a document: listed, not a failure
    assert "Traceback" not in done.stderr


def test_thresholds_file_names_the_corpus_to_index(fake: FakeEngine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from budgetqa.index.store import ingest

    (tmp_path / "eval").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("x", encoding="utf-8")
    thresholds = tmp_path / "eval" / "thresholds.json"
    thresholds.write_text(json.dumps({"min_accuracy": 0.5, "corpus": ["docs/a.txt", "docs/gone.txt"]}),
                          encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "1", "type": "lookup", "q": "接待费", "values": [[5, "万元"]]}\n', encoding="utf-8")
    indexed: list[list[Path]] = []
    monkeypatch.setattr(ingest, "index_paths",
                        lambda paths, settings, progress=True: indexed.append(list(paths)) or ingest.IngestReport())
    result = _invoke("eval", str(gold), "--report", str(tmp_path / "r"), "--min-accuracy-from", str(thresholds))
    assert result.exit_code == 0, result.output
    assert indexed == [[tmp_path / "docs" / "a.txt"]]
    assert "gone.txt" in result.output


def test_repository_thresholds_are_well_formed() -> None:
    spec = json.loads((Path(__file__).resolve().parent.parent / "eval" / "thresholds.json").read_text("utf-8"))
    assert spec["gold"] == "eval/gold.jsonl"
    assert 0 < spec["min_accuracy"] <= spec["measured_accuracy"] <= 1
