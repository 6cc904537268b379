"""Item resolution by meaning: the row labels nearest to citizens' words the vocabulary lacks.

    matcher = get_item_matcher(settings)
    matcher.nearest("招待客人花的钱", labels, k=3)  # [("公务接待费", 0.91), ...]

The question-understanding side calls this only after the vocabulary (vocabulary.toml) and the
document's own wording found nothing. Label vectors are cached in memory and on disk
(BUDGETQA_HOME/item-vectors.sqlite3, keyed by model name + label text), so once the labels of the
corpus have been seen a question costs one query embedding (itself cached for repeated words).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from budgetqa.config import Settings
from budgetqa.index.store.embeddings import embed_queries, embeddings_name, get_embeddings
from langchain_core.embeddings import Embeddings

# Numbering and lead-ins the tables print before a label ("2、", "（一）", "其中：", "<b>"): noise to
# the model, and two spellings of one label then share a vector.
_LEAD = re.compile(r"^(?:[\s\d０-９一二三四五六七八九十]+[、.．)）]\s*|[（(][一二三四五六七八九十\d]+[)）]\s*|其中[:：]\s*)+")
_TAGS = re.compile(r"<[^>]+>")
# e5 is trained with "query: " on both sides for short symmetric matches; labels are embedded the same
# way as the citizen's words (eval/bench_embed.py measures both ways).
LABELS_AS_QUERIES = True
MATRIX_CACHE = 8  # label sets kept stacked in memory (one per document or unit the caller asks about)


def label_text(label: str) -> str:
    """What the model reads of a row label."""
    text = _LEAD.sub("", _TAGS.sub("", label)).strip()
    return text or label.strip()


class LabelVectorCache:
    """model + label text -> vector, in memory and in an SQLite file (written once per new label)."""

    def __init__(self, path: Path | None, model: str) -> None:
        self.path, self.model = path, model
        self._vectors: dict[str, np.ndarray] | None = None
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("CREATE TABLE IF NOT EXISTS label_vectors (model TEXT NOT NULL, label TEXT NOT NULL, "
                    "vector BLOB NOT NULL, PRIMARY KEY (model, label))")
        return con

    def _loaded(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self.path is not None and self.path.exists():
                try:
                    with self._connect() as con:
                        rows = con.execute("SELECT label, vector FROM label_vectors WHERE model = ?",
                                           (self.model,)).fetchall()
                    self._vectors = {label: np.frombuffer(blob, dtype=np.float32) for label, blob in rows}
                except sqlite3.DatabaseError:  # a damaged cache is rebuilt, never fatal
                    self._vectors = {}
        return self._vectors

    def missing(self, texts: Sequence[str]) -> list[str]:
        with self._lock:
            have = self._loaded()
            return [t for t in dict.fromkeys(texts) if t not in have]

    def add(self, texts: Sequence[str], vectors: Sequence[Sequence[float]]) -> None:
        arrays = [np.asarray(v, dtype=np.float32) for v in vectors]
        with self._lock:
            self._loaded().update(zip(texts, arrays, strict=True))
            if self.path is None:
                return
            try:
                with self._connect() as con:
                    con.executemany("INSERT OR REPLACE INTO label_vectors VALUES (?, ?, ?)",
                                    [(self.model, t, a.tobytes()) for t, a in zip(texts, arrays, strict=True)])
            except sqlite3.Error:  # a read-only home still answers, it only embeds again next start
                pass

    def get(self, text: str) -> np.ndarray:
        with self._lock:
            return self._loaded()[text]


class ItemMatcher:
    """Nearest row labels to a phrase by cosine similarity of the embedding model's vectors."""

    def __init__(self, embeddings: Embeddings, cache_path: Path | None = None) -> None:
        self.embeddings = embeddings
        self.model = embeddings_name(embeddings)
        self.cache = LabelVectorCache(cache_path, self.model)
        self._matrices: OrderedDict[tuple[str, ...], tuple[list[str], np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def warm(self, labels: Sequence[str]) -> int:
        """Embed the labels not cached yet (e.g. at index time); returns how many were embedded."""
        todo = self.cache.missing([label_text(lab) for lab in labels])
        if todo:
            vectors = (embed_queries(self.embeddings, todo) if LABELS_AS_QUERIES
                       else self.embeddings.embed_documents(todo))
            self.cache.add(todo, vectors)
        return len(todo)

    def _matrix(self, labels: Sequence[str]) -> tuple[list[str], np.ndarray]:
        key = tuple(labels)
        with self._lock:
            hit = self._matrices.get(key)
            if hit is not None:
                self._matrices.move_to_end(key)
                return hit
        self.warm(labels)
        unique = list(dict.fromkeys(lab for lab in labels if lab.strip()))
        matrix = (np.stack([self.cache.get(label_text(lab)) for lab in unique]) if unique
                  else np.zeros((0, 1), dtype=np.float32))
        with self._lock:
            self._matrices[key] = (unique, matrix)
            while len(self._matrices) > MATRIX_CACHE:
                self._matrices.popitem(last=False)
        return unique, matrix

    def nearest(self, words: str, labels: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
        """The k labels (as given, duplicates once) most similar to `words`, best first, with cosines."""
        if not words.strip() or k <= 0:
            return []
        unique, matrix = self._matrix(labels)
        if not unique:
            return []
        query = np.asarray(self.embeddings.embed_query(words), dtype=np.float32)
        scores = matrix @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(unique[i], float(scores[i])) for i in order]


_matchers: dict[tuple[str, str], ItemMatcher] = {}
_matchers_lock = threading.Lock()


def get_item_matcher(settings: Settings) -> ItemMatcher:
    """One matcher per home and model per process (the label vectors stay in memory)."""
    embeddings = get_embeddings(settings.embed_model)
    key = (str(settings.home), embeddings_name(embeddings))
    with _matchers_lock:
        matcher = _matchers.get(key)
        if matcher is None or matcher.embeddings is not embeddings:
            matcher = _matchers[key] = ItemMatcher(embeddings, settings.home / "item-vectors.sqlite3")
        return matcher


# Cosine below which the nearest phrase is not trusted (eval/bench_items.py measures the choice).
PHRASE_MIN = 0.93  # 0.88: 15/50 right, 22 wrong; 0.91: 13 right, 11 wrong; 0.93: 11 right, 4 wrong


class PhraseMatcher:
    """The vocabulary phrase nearest to words the vocabulary lacks ("招待客人花的钱" -> "招待费"), or None.

    The understander asks only when neither the vocabulary nor the documents' labels name an item, so a
    question the vocabulary covers never waits for the model; the phrases are the vocabulary's own keys
    (a few hundred, embedded once and cached), not every row label of the corpus.
    """

    def __init__(self, matcher: ItemMatcher, phrases: Sequence[str], threshold: float = PHRASE_MIN) -> None:
        self.matcher, self.phrases, self.threshold = matcher, list(dict.fromkeys(phrases)), threshold

    def __call__(self, words: str) -> str | None:
        if len(words) < 2:
            return None
        found = self.matcher.nearest(words, self.phrases, k=1)
        return found[0][0] if found and found[0][1] >= self.threshold else None
