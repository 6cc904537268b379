"""Hybrid retrieval over the seeds: the right row first, filters, BM25-only mode, no merging by text."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from budgetqa.answer.retrieve import HybridRetriever
from budgetqa.config import Settings
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.ingest import index_paths

from tests.conftest import make_tiny_doc, make_tiny_facts

QUERY = "福州市医疗保障局 公务接待费"


@pytest.fixture()
def retriever(indexed_settings: Settings) -> HybridRetriever:
    return HybridRetriever(indexed_settings, FactStore(indexed_settings.store_path))


def _is_reception_row_of_001(hit) -> bool:  # type: ignore[no-untyped-def]
    return (hit.metadata["doc"].startswith("001_") and hit.chunk_type == "row"
            and hit.metadata["row"].endswith("公务接待费"))


def test_reception_row_of_seed_001_in_top_3(retriever: HybridRetriever) -> None:
    assert retriever.dense_enabled
    hits = retriever.search(QUERY, k=3)
    assert any(_is_reception_row_of_001(h) for h in hits), [h.text for h in hits]
    assert hits[0].score >= hits[-1].score
    assert "5.00 万元" in next(h.text for h in hits if _is_reception_row_of_001(h))


def test_plain_question_finds_it_too(retriever: HybridRetriever) -> None:
    hits = retriever.search("福州市医疗保障局的公务接待费是多少？", k=3, unit="福州市医疗保障局")
    assert any(_is_reception_row_of_001(h) for h in hits)


def test_filters_apply_to_both_sides(retriever: HybridRetriever) -> None:
    other = "福州市医疗保障数据技术中心"
    hits = retriever.search(QUERY, k=8, unit=other, year=2024, kind="预算")
    assert len(hits) == 8
    assert all((h.metadata["unit"], h.metadata["year"], h.metadata["kind"]) == (other, 2024, "预算") for h in hits)
    rows = retriever.search(QUERY, k=5, chunk_type="text")
    assert rows and all(h.chunk_type == "text" for h in rows)
    assert retriever.search(QUERY, k=5, year=1999) == []
    doc = retriever.search(QUERY, k=5, doc="003_1d07f92e8e5daf27.txt")
    assert doc and {h.metadata["doc"] for h in doc} == {"003_1d07f92e8e5daf27.txt"}


def test_dense_side_contributes(retriever: HybridRetriever) -> None:
    hits = retriever.search(QUERY, k=8, chunk_type="text")  # prose is what gets a vector
    assert any(h.dense_rank is not None for h in hits)
    assert any(h.bm25_rank is not None for h in hits)


def test_bm25_only_when_dense_is_off(indexed_settings: Settings) -> None:
    settings = Settings(home=indexed_settings.home, dense=False)
    bm25 = HybridRetriever(settings, FactStore(settings.store_path))
    assert not bm25.dense_enabled
    hits = bm25.search(QUERY, k=3)
    assert any(_is_reception_row_of_001(h) for h in hits)
    assert all(h.dense_rank is None and h.bm25_rank is not None for h in hits)


def test_concurrent_searches_agree(retriever: HybridRetriever) -> None:
    queries = [QUERY, "上饶市医疗保障服务中心 电费", "福州市医疗保障局 办公费", "差旅费"] * 4
    expected = [[h.id for h in retriever.search(q, k=5)] for q in queries]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda q: [h.id for h in retriever.search(q, k=5)], queries))
    assert got == expected


def test_identical_rows_of_two_documents_do_not_merge(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    store = FactStore(settings.store_path)
    for name in ("copy-a.txt", "copy-b.txt"):  # the same disclosure filed twice: identical chunk texts
        doc = make_tiny_doc(name=name)
        store.replace_document(doc, make_tiny_facts(doc))
    from budgetqa.index.store.vectors import VectorIndex

    VectorIndex(settings).sync(store.chunks())
    hits = HybridRetriever(settings, store).search("测试市医疗保障局 公务接待费", k=4, chunk_type="row")
    top_two = hits[:2]
    assert top_two[0].text == top_two[1].text
    assert {h.metadata["doc"] for h in top_two} == {"copy-a.txt", "copy-b.txt"}


def test_retriever_sees_a_newly_indexed_document(tmp_path: Path, seed_paths: list[Path]) -> None:
    settings = Settings(home=tmp_path / "home", dense=False)
    index_paths(seed_paths[:1], settings, progress=False)
    retriever = HybridRetriever(settings, FactStore(settings.store_path))
    assert not retriever.search(QUERY, k=3, unit="福州市医疗保障局")
    folder = tmp_path / "more"
    folder.mkdir()
    shutil.copy(seed_paths[1], folder)
    index_paths([folder], settings, progress=False)
    assert any(_is_reception_row_of_001(h) for h in retriever.search(QUERY, k=3))


@pytest.mark.slow
@pytest.mark.real_embeddings
def test_hybrid_with_the_packaged_model(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    store = FactStore(settings.store_path)
    # four units: with two, BM25's idf of a unit name (in half the chunks) is zero
    for name, unit in (("a.txt", "甲市医疗保障局"), ("b.txt", "乙县医疗保障局"), ("c.txt", "丙区财政局"),
                       ("d.txt", "丁镇人民政府")):
        doc = make_tiny_doc(name=name, unit=unit)
        store.replace_document(doc, make_tiny_facts(doc))
    from budgetqa.index.store.vectors import VectorIndex

    VectorIndex(settings).sync(store.chunks())
    retriever = HybridRetriever(settings, store)
    assert retriever.dense_enabled
    hits = retriever.search("乙县医疗保障局 公务接待费", k=3)
    assert hits[0].metadata["unit"] == "乙县医疗保障局" and hits[0].metadata["row"].endswith("公务接待费")
    assert any(h.dense_rank is not None for h in hits)
