"""Engine wiring: the LCEL chain, the answer object, follow-ups, and the seeds end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from budgetqa.app.pipeline import Engine, Turn
from budgetqa.catalog import Catalog, MemorySource
from budgetqa.check.chain import Request, build_chain
from budgetqa.config import load_settings
from budgetqa.understand.understander import Understander
from langchain_core.runnables import Runnable

from tests.fixtures_answer import FZ, corpus
from tests.paths import SHARED

CONTRACT_KEYS = {"id", "question", "status", "answer", "values", "citations", "latency_ms"}
CITATION_KEYS = {"title", "doc", "unit", "year", "kind", "section", "table", "row", "page", "quote"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    return Engine(load_settings(home=str(tmp_path_factory.mktemp("home"))), source=corpus())


def test_chain_is_an_lcel_runnable():
    cat = Catalog(corpus())
    chain = build_chain(cat, Understander(cat))
    assert isinstance(chain.runnable(), Runnable)  # LCEL on demand: langchain is not imported to answer
    a = chain.invoke(Request("福州市医疗保障局的会议费"))
    assert "2.00万元" in a.answer
    assert chain.runnable().invoke(Request("福州市医疗保障局的会议费")) == a
    piped = chain | (lambda ans: ans.status)  # composes like any Runnable
    assert piped.invoke(Request("福州市医疗保障局的会议费")) == "answered"


def test_a_deterministic_ask_imports_no_langchain(tmp_path):
    """Start-up cost: the deterministic answer path never imports langchain (1.5-3 s of a cold start)."""
    code = ("import sys\n"
            "from budgetqa.app.pipeline import Engine\n"
            "from budgetqa.config import load_settings\n"
            "from tests.fixtures_answer import corpus\n"
            "answer = Engine(load_settings(), source=corpus()).ask('福州市医疗保障局的会议费')\n"
            "print(answer.status, sorted({m.split('.')[0] for m in sys.modules if m.startswith('langchain')}))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGETQA_LLM")}
    env["BUDGETQA_HOME"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True,
                         cwd=Path(__file__).resolve().parent.parent)
    assert out.stdout.split() == ["answered", "[]"]


def test_answer_object_follows_the_contract(engine):
    a = engine.ask("福州市医疗保障局的公务接待费是多少", qid="q1")
    out = a.to_json()
    assert set(out) >= CONTRACT_KEYS and out["id"] == "q1" and out["latency_ms"] >= 0
    assert set(out["citations"][0]) == CITATION_KEYS
    assert json.loads(json.dumps(out, ensure_ascii=False)) == out


def test_follow_up_question_uses_history(engine):
    first = engine.ask("福州市医疗保障局的办公费")
    a = engine.ask("那差旅费呢？", history=[Turn("福州市医疗保障局的办公费", first.unit, 2024)])
    assert first.unit == FZ and "6.50万元" in a.answer


def test_explicit_unit_argument(engine):
    a = engine.ask("会议费是多少", unit=FZ)
    assert "2.00万元" in a.answer


def test_every_answered_figure_is_verified_or_flagged(engine):
    for q in ("福州市医疗保障局的公务接待费是多少", "福州市医疗保障局住房公积金和提租补贴一共多少"):
        a = engine.ask(q)
        assert a.values and all(v.verified for v in a.values)


def test_concurrent_asks_share_one_load(engine):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: engine.ask("福州医保局招待费"), range(8)))
    assert all("5.00万元" in a.answer for a in answers)


SEEDS = Path(__file__).resolve().parent.parent / "index" / "corpus"
DEV = SHARED / "dev_qa.jsonl"


@pytest.mark.slow
@pytest.mark.skipif(not DEV.exists(), reason="shared dev sample not present")
def test_dev_sample_on_the_bundled_seeds(tmp_path):
    """Scored like ../shared/score.py: every gold figure appears in the answer with its unit."""
    from budgetqa.index.extract.facts import extract_facts
    from budgetqa.index.read.readers import read_document

    pairs = [(d, extract_facts(d)) for d in (read_document(p) for p in sorted(SEEDS.iterdir()))]
    engine = Engine(load_settings(home=str(tmp_path)), source=MemorySource(pairs))
    wrong = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        g = json.loads(line)
        a = engine.ask(g["q"], qid=g["id"])
        if g["type"] == "unanswerable":
            ok = a.status == "not_found"
        else:
            ok = a.status == "answered" and all(_has(a.answer, v, u) for v, u in g.get("values", []))
            ok = ok and all(s in a.answer for s in g.get("must", []))
        if not ok:
            wrong.append((g["id"], a.answer[:120]))
    assert not wrong


def _has(text: str, value: float, unit: str) -> bool:
    for m in re.finditer(r"(-?\d[\d,]*(?:\.\d+)?)\s*(亿元|万元|元|%|人|个|辆)?", text):
        if abs(float(m.group(1).replace(",", "")) - value) < 0.006 and (m.group(2) or "") == unit:
            return True
    return False
