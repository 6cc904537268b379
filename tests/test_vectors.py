"""Tokenizer, BM25 (against rank_bm25), the lexical index's filters, and the chroma vector index."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from budgetqa.config import Settings
from budgetqa.index.model import Document, Fact
from budgetqa.index.store.chunk import make_chunks
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.embeddings import DIM, ModelEmbeddings, get_embeddings
from budgetqa.index.store.vectors import (
    BM25,
    Tokenizer,
    VectorIndex,
    budget_terms,
    chroma_where,
    collection_name,
    embedded,
    load_lexical,
)
from rank_bm25 import BM25Okapi

from tests.conftest import make_tiny_doc, make_tiny_facts


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(["公务接待费", "一般公共预算拨款"])


def test_tokens_words_bigrams_numbers_no_question_words(tokenizer: Tokenizer) -> None:
    tokens = tokenizer("福州医保局的公务接待费安排了多少？30217 合计1,353.26万元")
    assert {"公务接待费", "公务", "接待", "待费", "医保", "30217", "1353.26", "万元"} <= set(tokens)
    assert not {"多少", "安排", "的", "？", "353", "26"} & set(tokens)
    assert "费安" not in tokens  # no bigram glues an item to the question words around it


def test_budget_terms_strip_numbering() -> None:
    doc = make_tiny_doc()
    terms = budget_terms(make_chunks(doc, make_tiny_facts(doc)))
    assert {"公务接待费", "因公出国（境）费", "办公费"} <= terms
    assert not any(t[0].isdigit() for t in terms)


def test_vocabulary_keeps_labels_whole() -> None:
    assert "基本支出经济分类" not in Tokenizer()("基本支出经济分类情况表")
    assert "基本支出经济分类" in Tokenizer(["基本支出经济分类"])("基本支出经济分类情况表")


def test_bm25_matches_rank_bm25() -> None:
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(40)]
    corpus = [[rng.choice(vocab) for _ in range(rng.randint(1, 30))] for _ in range(200)]
    ours, theirs = BM25(corpus), BM25Okapi(corpus)
    for _ in range(20):
        query = [rng.choice(vocab + ["unseen"]) for _ in range(rng.randint(1, 6))]
        assert np.allclose(ours.get_scores(query), theirs.get_scores(query))


@pytest.fixture()
def two_unit_store(tmp_path: Path) -> FactStore:
    store = FactStore(tmp_path / "facts.sqlite3")
    for name, unit, year, reception in (("a.txt", "甲市医疗保障局", 2024, "5.00"),
                                        ("b.txt", "乙县医疗保障局", 2023, "3.00")):
        doc = make_tiny_doc(name=name, unit=unit, year=year, reception=reception)
        store.replace_document(doc, make_tiny_facts(doc))
    return store


def test_lexical_search_ranks_the_row_and_filters(two_unit_store: FactStore) -> None:
    index = load_lexical(two_unit_store)
    top = index.search("甲市医疗保障局 公务接待费", 3)
    assert top[0].chunk.metadata["unit"] == "甲市医疗保障局"
    assert "公务接待费" in top[0].chunk.metadata["row"]
    only_b = index.search("公务接待费", 50, {"unit": "乙县医疗保障局", "year": 2023})
    assert only_b and {s.chunk.metadata["doc"] for s in only_b} == {"b.txt"}
    assert index.search("公务接待费", 5, {"unit": "乙县医疗保障局", "year": 2024}) == []
    rows = index.search("公务接待费", 50, {"chunk_type": "row"})
    assert rows and all(s.chunk.chunk_type == "row" for s in rows)


def test_lexical_index_grows_and_forgets_per_document(two_unit_store: FactStore, tmp_path: Path) -> None:
    first = load_lexical(two_unit_store)
    assert not list(tmp_path.glob("*.json"))  # no whole-corpus token file
    doc = make_tiny_doc(name="c.txt", unit="丙区医疗保障局", reception="7.00")
    two_unit_store.replace_document(doc, make_tiny_facts(doc))
    third = load_lexical(two_unit_store)
    assert third.generation != first.generation
    assert any(s.chunk.metadata["doc"] == "c.txt" for s in third.search("丙区医疗保障局 公务接待费", 20))
    assert third.search("7.00", 5)[0].chunk.metadata["doc"] == "c.txt"
    assert two_unit_store.remove("c.txt")
    assert not load_lexical(two_unit_store).search("丙区", 5)  # its postings went with it


def test_a_documents_tokens_do_not_depend_on_the_others(tmp_path: Path) -> None:
    alone = FactStore(tmp_path / "alone.sqlite3")
    crowd = FactStore(tmp_path / "crowd.sqlite3")
    other = make_tiny_doc(name="o.txt", unit="丁县医疗保障局")
    crowd.replace_document(other, make_tiny_facts(other))
    doc = make_tiny_doc(name="a.txt", unit="甲市医疗保障局")
    for store in (alone, crowd):
        store.replace_document(doc, make_tiny_facts(doc))
    assert alone.lexical_candidates({"doc": "a.txt"}) == crowd.lexical_candidates({"doc": "a.txt"})


def test_collection_per_embedding_model() -> None:
    assert collection_name("all-MiniLM-L6-v2") != collection_name("fake-bigram-hash")
    assert chroma_where({"unit": "甲", "year": 2024}) == {"$and": [{"unit": "甲"}, {"year": 2024}]}
    assert chroma_where({"unit": "甲"}) == {"unit": "甲"}
    assert chroma_where({}) is None


def _chunks(doc: Document, facts: list[Fact] | None = None) -> list:
    return embedded(make_chunks(doc, facts if facts is not None else make_tiny_facts(doc)))


def test_vector_index_upsert_replace_sync_search(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    index = VectorIndex(settings)
    a, b = make_tiny_doc(name="a.txt", unit="甲市医疗保障局"), make_tiny_doc(name="b.txt", unit="乙县医疗保障局")
    index.replace_document("a.txt", _chunks(a))
    index.replace_document("b.txt", _chunks(b))
    assert index.count() == len(_chunks(a)) + len(_chunks(b))

    hits = index.search("乙县医疗保障局 公务接待费", 5, {"unit": "乙县医疗保障局"})
    assert hits and all(h.chunk.metadata["doc"] == "b.txt" for h in hits)
    assert "text_sha" not in hits[0].chunk.metadata

    # a changed document: same ids, only the changed texts are re-embedded
    a2 = make_tiny_doc(name="a.txt", unit="甲市医疗保障局", reception="8.00")
    upserted, deleted = index.replace_document("a.txt", _chunks(a2))
    assert (deleted, 0 < upserted < len(_chunks(a2))) == (0, True)
    stored = index.collection.get(ids=[c.id for c in _chunks(a2)], include=["documents"])
    assert sorted(stored["documents"]) == sorted(c.text for c in _chunks(a2))

    # a document gone from the store disappears from the vectors on sync
    upserted, deleted = index.sync(_chunks(b))
    assert (upserted, deleted) == (0, len(_chunks(a2)))
    assert index.count() == len(_chunks(b))


@pytest.mark.slow
@pytest.mark.real_embeddings
def test_packaged_minilm_loads_offline_and_embeds() -> None:
    emb = get_embeddings("minilm")  # the fallback and test model
    assert isinstance(emb, ModelEmbeddings) and emb.name == "all-MiniLM-L6-v2"
    vectors = emb.embed_documents(["公务接待费 5.00 万元", "travel expenses", "公务接待费"])
    assert all(len(v) == DIM for v in vectors)
    assert abs(float(np.linalg.norm(vectors[0])) - 1.0) < 1e-3
    sim = [float(np.dot(vectors[2], v)) for v in vectors[:2]]
    assert sim[0] > sim[1]
    assert get_embeddings("minilm") is emb  # cached: one model per process


def test_dense_text_drops_head_and_figures(tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    from budgetqa.index.store.vectors import dense_text

    chunks = make_chunks(tiny_doc, tiny_facts)
    row = next(c for c in chunks if c.metadata.get("code") == "30217")
    assert dense_text(row) == "2024年度一般公共预算基本支出经济分类情况表 30217 公务接待费"
    prose = next(c for c in chunks if c.chunk_type == "text")
    assert dense_text(prose).startswith("第一部分 > 一、部门主要职责\n测试市医疗保障局的主要职责")


def test_the_stock_dictionary_is_kept_under_the_home_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    """A new process opens jieba's prefix dictionary from the home's trie (milliseconds, where loading
    500,000 entries took a second on a busy machine; no rebuild from the text in a fresh temp folder);
    a damaged one is rebuilt, and tokens are the same whichever way the dictionary came."""
    import jieba
    from budgetqa.index.store import lexical

    monkeypatch.setattr(lexical, "_stock", None)
    lexical.use_cache_dir(tmp_path)
    try:
        text = "基本支出经济分类情况表：2、公务接待费和一般公共预算财政拨款"
        tokens = lexical.Tokenizer()(text)
        cached = tmp_path / lexical.DICTIONARY_CACHE
        assert (cached / "trie.marisa").is_file()
        monkeypatch.setattr(lexical, "_stock", None)
        assert lexical.Tokenizer()(text) == tokens  # read from the home
        (cached / "freq.bin").write_bytes(b"damaged")
        monkeypatch.setattr(lexical, "_stock", None)
        assert lexical.Tokenizer()(text) == tokens
        meta = json.loads((cached / "meta.json").read_text(encoding="utf-8"))  # written afresh
        assert meta["stamp"] == list(lexical._dictionary_stamp(jieba)) and meta["total"] > 0
        # the same cut as jieba's own dictionary loaded whole
        whole = jieba.Tokenizer()
        whole.initialize()
        ours = lexical.Tokenizer()
        ours(text)  # fills its dictionary with the entries the text reaches
        assert ours._jieba.lcut(text, HMM=False) == whole.lcut(text, HMM=False)
    finally:
        lexical.use_cache_dir(None)
