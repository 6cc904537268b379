"""The dense search index over the store's chunks: chroma vectors (the lexical side, BM25 on jieba
tokens, is budgetqa.index.store.lexical; its names are re-exported here for existing callers).

Chroma: embedded PersistentClient under Settings.chroma_path, or HttpClient for Settings.chroma_url;
cosine space; ids are the chunk ids; our own embedding function only (chroma's default downloads).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlparse

from budgetqa.config import Settings
from budgetqa.errors import BudgetQAError
from budgetqa.index.store.chunk import Chunk
from budgetqa.index.store.embeddings import embeddings_name, get_embeddings
from budgetqa.index.store.lexical import (  # noqa: F401 - re-exported for callers of the former module
    BM25,
    STOPWORDS,
    LexicalIndex,
    Scored,
    Tokenizer,
    budget_terms,
    load_lexical,
)

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# chroma


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def chroma_client(settings: Settings) -> Any:
    """One client per store location per process (chroma wants a single PersistentClient per folder)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    key = settings.chroma_url or str(settings.chroma_path)
    with _clients_lock:
        if key not in _clients:
            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            if settings.chroma_url:
                url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
                _clients[key] = chromadb.HttpClient(host=url.hostname or "127.0.0.1",
                                                    port=url.port or (443 if url.scheme == "https" else 8000),
                                                    ssl=url.scheme == "https", settings=chroma_settings)
            else:
                settings.chroma_path.mkdir(parents=True, exist_ok=True)
                _clients[key] = chromadb.PersistentClient(path=str(settings.chroma_path),
                                                          settings=chroma_settings)
        return _clients[key]


COLLECTION_PREFIX = "budgetqa-chunks-"
MODEL_KEY = "embed_model"  # collection metadata: the model whose vectors the collection holds


def collection_name(embedding: str) -> str:
    # one collection per embedding model: vectors of two models must never be compared; the hash keeps
    # two long names that share a prefix apart after the cut to chroma's length limit
    safe = re.sub(r"[^a-zA-Z0-9._-]", "-", embedding).strip("-.")[:36] or "default"
    digest = hashlib.sha1(embedding.encode("utf-8")).hexdigest()[:8]
    return f"{COLLECTION_PREFIX}{safe}-{digest}"


class EmbeddingMismatch(BudgetQAError):
    """The vector collection was built with another embedding model than the configured one."""


def dense_text(chunk: Chunk) -> str:
    """What the model reads: the words that carry meaning, not the head and figures every row repeats.

    Unit, year and kind are filters; the figures mean nothing to an embedding. A row embeds as
    table + code + label (about a third of its tokens, so indexing is ~3x faster), prose as its
    section path and body."""
    meta = chunk.metadata
    if meta.get("chunk_type") == "row":
        return " ".join(str(p) for p in (meta.get("table", ""), meta.get("code", ""), meta.get("row", "")) if p)
    head, _, body = chunk.text.partition("\n")
    path = head.split(" | ", 1)[-1]
    return f"{path}\n{body}" if body else head


DENSE_TEXT_VERSION = 1  # bump when dense_text() changes: every vector is then re-embedded


def _chunk_sha(chunk: Chunk) -> str:
    key = f"{DENSE_TEXT_VERSION}\x1f{dense_text(chunk)}\x1f{chunk.text}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _chroma_meta(chunk: Chunk) -> dict[str, Any]:
    meta = {k: v for k, v in chunk.metadata.items() if isinstance(v, (str, int, float, bool))}
    meta["text_sha"] = _chunk_sha(chunk)
    return meta


def embedded(chunks: Sequence[Chunk]) -> list[Chunk]:
    """The chunks that get a vector: prose only (see VectorIndex.sync)."""
    return [c for c in chunks if c.metadata.get("chunk_type") != "row"]


def _embed_unique(embeddings: Any, texts: list[str]) -> list[list[float]]:
    """Embed each distinct text once: the same row label recurs across tables and across a PDF and
    its text rendering, and embedding is the slow part of indexing on CPU."""
    unique = list(dict.fromkeys(texts))
    vectors = dict(zip(unique, embeddings.embed_documents(unique), strict=True))
    return [vectors[t] for t in texts]


class VectorIndex:
    """The chroma collection of chunk embeddings."""

    def __init__(self, settings: Settings, rebuild: bool = False) -> None:
        """`rebuild`: a collection of this name holding another model's vectors is emptied (indexing);
        without it that raises EmbeddingMismatch (querying must never compare two models' vectors)."""
        self.embeddings = get_embeddings(settings.embed_model)
        self.model = embeddings_name(self.embeddings)
        self.client = chroma_client(settings)
        name = collection_name(self.model)
        self.collection = self.client.get_or_create_collection(
            name, embedding_function=None, metadata={MODEL_KEY: self.model},
            configuration={"hnsw": {"space": "cosine"}})
        built_with = (self.collection.metadata or {}).get(MODEL_KEY)
        self.rebuilt = False  # emptied here: every document's vectors must be written again
        if built_with != self.model:
            if not rebuild:
                raise EmbeddingMismatch(f"向量库 {name} 由嵌入模型 {built_with or '未知模型'} 建立，当前模型为 "
                                        f"{self.model}，不能混用：请运行 budgetqa index 重建向量")
            log.warning("向量库 %s 由 %s 建立，按当前模型 %s 重建", name, built_with, self.model)
            self.client.delete_collection(name)
            self.rebuilt = True
            self.collection = self.client.create_collection(
                name, embedding_function=None, metadata={MODEL_KEY: self.model},
                configuration={"hnsw": {"space": "cosine"}})

    def other_models(self) -> list[str]:
        """Models whose vectors this vector store also holds (built before the model was changed)."""
        out = []
        for col in self.client.list_collections():
            meta = getattr(col, "metadata", None) or {}
            model = meta.get(MODEL_KEY)
            if str(getattr(col, "name", "")).startswith(COLLECTION_PREFIX) and model and model != self.model:
                out.append(str(model))
        return sorted(out)

    def count(self) -> int:
        return int(self.collection.count())

    def upsert(self, chunks: Sequence[Chunk], batch: int = 1024) -> None:
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            vectors = _embed_unique(self.embeddings, [dense_text(c) for c in part])
            self.collection.upsert(ids=[c.id for c in part], embeddings=vectors,
                                   documents=[c.text for c in part], metadatas=[_chroma_meta(c) for c in part])

    def replace_document(self, name: str, chunks: Sequence[Chunk]) -> tuple[int, int]:
        """Make the document's vectors match `chunks`, embedding only new or changed texts."""
        return self.sync(chunks, where={"doc": name})

    def sync(self, chunks: Sequence[Chunk], where: dict[str, Any] | None = None) -> tuple[int, int]:
        """Make the collection (or the `where` part of it) hold exactly `chunks`; (upserted, deleted).

        Also repairs an interrupted index run: the store is committed before the vectors.
        Only prose chunks are embedded: table rows are answered from the facts and found by BM25
        (the packaged English model added nothing measurable on them), and embedding every row
        cost ~3/4 of indexing time on CPU."""
        chunks = embedded(chunks)
        got = self.collection.get(where=where, include=["metadatas"])
        have = {i: (m or {}).get("text_sha") for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)}
        wanted = {c.id for c in chunks}
        stale = [i for i in have if i not in wanted]
        todo = [c for c in chunks if have.get(c.id) != _chunk_sha(c)]
        for start in range(0, len(stale), 1000):
            self.collection.delete(ids=stale[start:start + 1000])
        self.upsert(todo)
        return len(todo), len(stale)

    def search(self, query: str, k: int, filters: dict[str, Any] | None = None,
               lookup: Callable[[str], Chunk | None] | None = None) -> list[Scored]:
        """Nearest chunks by cosine. With `lookup` (id -> chunk, e.g. the BM25 index's), chroma
        returns ids only: ~4 ms less per search than shipping texts and metadata back."""
        if k <= 0:
            return []
        vector = self.embeddings.embed_query(query)
        include = ["distances"] if lookup else ["metadatas", "documents", "distances"]
        result = self.collection.query(query_embeddings=[vector], n_results=k, where=chroma_where(filters),
                                       include=include)
        ids, dists = result["ids"][0], (result["distances"] or [[]])[0]
        if lookup is not None:
            found = ((lookup(cid), dist) for cid, dist in zip(ids, dists, strict=False))
            return [Scored(chunk, 1.0 - float(dist)) for chunk, dist in found if chunk is not None]
        docs, metas = (result["documents"] or [[]])[0], (result["metadatas"] or [[]])[0]
        out = []
        for cid, text, meta, dist in zip(ids, docs, metas, dists, strict=False):
            clean = {k: v for k, v in (meta or {}).items() if k != "text_sha"}
            out.append(Scored(Chunk(cid, text or "", clean), 1.0 - float(dist)))
        return out


def chroma_where(filters: dict[str, Any] | None) -> dict[str, Any] | None:
    clauses = [{k: v} for k, v in (filters or {}).items() if v is not None]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
