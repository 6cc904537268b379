"""PostgreSQL against SQLite over the same five seeds: the lexical index ranks the same chunks in the
same order with the same BM25 scores, and the engine gives the same answers.

Runs when BUDGETQA_TEST_DATABASE_URL is set (skipped otherwise; a failure when BUDGETQA_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from budgetqa.config import Settings
from budgetqa.index.store.base import FactStore
from budgetqa.index.store.ingest import index_paths, open_store
from budgetqa.index.store.lexical import LexicalIndex, shared_tokenizer

from tests.conftest import postgres_schema, postgres_url

GOLD = Path(__file__).resolve().parent.parent / "eval" / "gold.jsonl"
QUERIES = ["公务接待费", "因公出国（境）费", "医疗保障 信息化 项目", "30217 办公费", "一般公共预算拨款收入",
           "机关运行经费", "福州市医疗保障局 部门职责", "政府采购 预算", "住房公积金", "绩效目标 满意度"]
FILTERS = [{}, {"year": 2024}, {"kind": "预算"}, {"chunk_type": "text"}, {"year": 2023, "kind": "决算"}]


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory, seed_paths: list[Path]) -> Iterator[tuple[Settings, Settings]]:
    """Settings of a SQLite and a PostgreSQL store, each with the five seeds indexed (facts, lexical index)."""
    url = postgres_url()
    with postgres_schema(url) as scoped:
        home = tmp_path_factory.mktemp("pg-vs-sqlite")
        lite = Settings(home=home / "sqlite", dense=False)
        pg = Settings(home=home / "pg", dense=False, database_url=scoped)
        for settings in (lite, pg):
            assert not index_paths(seed_paths, settings, progress=False).failed
        yield lite, pg


@pytest.fixture()
def stores(indexed: tuple[Settings, Settings]) -> Iterator[tuple[FactStore, FactStore]]:
    pair = (open_store(indexed[0]), open_store(indexed[1]))
    yield pair
    for store in pair:
        store.close()


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: json.dumps(f, ensure_ascii=False))
def test_full_text_ranking_is_the_same(stores: tuple[FactStore, FactStore], filters: dict[str, object]) -> None:
    lite, pg = stores
    tokenizer = shared_tokenizer()
    for query in QUERIES:
        tokens = tokenizer(query)
        want = lite.lexical_match(tokens, 10, filters)
        got = pg.lexical_match(tokens, 10, filters)
        assert want, query
        assert [c.id for c, _ in got] == [c.id for c, _ in want], query
        assert [s for _, s in got] == pytest.approx([s for _, s in want], rel=1e-9), query


def test_scoped_search_and_stored_records_are_the_same(stores: tuple[FactStore, FactStore]) -> None:
    lite, pg = stores
    assert [d.name for d in pg.documents()] == [d.name for d in lite.documents()]
    assert pg.chunks() == lite.chunks()
    for doc in lite.documents():
        assert pg.facts(doc=doc.name) == lite.facts(doc=doc.name)
        assert pg.document(doc.name) == lite.document(doc.name)
        assert pg.lexical_terms({"doc": doc.name}) == lite.lexical_terms({"doc": doc.name})
    unit = lite.documents()[0].unit
    for query in QUERIES:
        want = LexicalIndex(lite).search(query, 5, {"unit": unit})
        got = LexicalIndex(pg).search(query, 5, {"unit": unit})
        assert [(h.chunk.id, h.score) for h in got] == [(h.chunk.id, h.score) for h in want]


def test_engine_answers_the_gold_questions_the_same(indexed: tuple[Settings, Settings]) -> None:
    from budgetqa.app.pipeline import Engine

    questions = [json.loads(line)["q"] for line in GOLD.read_text(encoding="utf-8").splitlines()[::12] if line.strip()]
    engines = [Engine(settings) for settings in indexed]
    for q in questions:
        want, got = (e.ask(q) for e in engines)
        assert (got.status, got.answer, got.citations) == (want.status, want.answer, want.citations), q
