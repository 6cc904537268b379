"""Index files: parse -> extract -> fact store -> vectors, idempotent by sha256, one bad file never stops a batch.

One process writes at a time (a lock file under the home); a second `budgetqa index` waits for it.
The fact store commits one document per transaction; the vector store is then synced against the
store's chunks, so an interrupted run is repaired by the next one.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from budgetqa.config import Settings
from budgetqa.errors import BudgetQAError, IndexCorrupt, UnreadableDocument
from budgetqa.index.store import FactStore

if TYPE_CHECKING:
    from budgetqa.index.vectors import VectorIndex

log = logging.getLogger(__name__)

CORPUS_PACKAGE = "budgetqa.index"


@dataclass(frozen=True)
class IngestReport:
    indexed: int = 0
    unchanged: int = 0
    failed: tuple[tuple[str, str], ...] = ()  # (file name, reason in Chinese)
    facts: int = 0  # facts written for the indexed documents
    chunks: int = 0
    seconds: float = 0.0
    names: tuple[str, ...] = field(default=())  # documents indexed in this run

    def summary(self) -> str:
        text = (f"已索引 {self.indexed} 个文件（{self.facts} 条数据，{self.chunks} 个检索片段），"
                f"未变化 {self.unchanged} 个，失败 {len(self.failed)} 个，用时 {self.seconds:.1f} 秒")
        return "\n".join([text, *(f"  失败：{name}：{reason}" for name, reason in self.failed)])


@functools.cache
def pipeline_version() -> str:
    """A hash of the parsing code (every module and data file of budgetqa.index): when it changes,
    `budgetqa index` re-parses files whose bytes did not change, so an upgrade never serves stale facts."""
    digest = hashlib.sha256()
    root = resources.files(CORPUS_PACKAGE)
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.is_file() and entry.name.endswith((".py", ".txt", ".toml", ".json")):
            digest.update(entry.name.encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()[:16]


def default_corpus() -> list[Path]:
    """The bundled seed documents (index/corpus)."""
    root = resources.files(CORPUS_PACKAGE).joinpath("corpus")
    return sorted(Path(str(p)) for p in root.iterdir() if p.is_file() and not p.name.startswith("."))


def expand(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Files to index (folders expanded, supported suffixes only) and the paths that cannot be."""
    from budgetqa.index.readers import SUPPORTED

    files: list[Path] = []
    failed: list[tuple[str, str]] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*"))
                         if p.is_file() and p.suffix.lower() in SUPPORTED and not p.name.startswith("."))
        elif path.is_file():
            files.append(path)  # an explicit unsupported file is reported by the reader
        else:
            failed.append((path.name or str(path), "文件不存在"))
    unique = list(dict.fromkeys(p.resolve() for p in files))  # a file named twice is indexed once
    return unique, failed


def open_store(settings: Settings, repair: bool = False) -> FactStore:
    """The fact store; with `repair`, a corrupt one is moved aside and a fresh one started.

    The vector store is kept: the sync after indexing re-embeds only chunks whose text changed."""
    try:
        return FactStore(settings.store_path)
    except IndexCorrupt:
        if not repair:
            raise
        aside = settings.store_path.with_name(f"{settings.store_path.name}.corrupt-{int(time.time())}")
        log.warning("索引库损坏，已移至 %s 并重建", aside)
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{settings.store_path}{suffix}")
            if src.exists():
                src.replace(Path(f"{aside}{suffix}"))
        return FactStore(settings.store_path)


def index_paths(paths: Sequence[Path], settings: Settings, progress: bool = True,
                dense: bool | None = None) -> IngestReport:
    """Index files and folders into the store under settings.home; see the module docstring.

    `dense` (default: settings.dense) embeds the chunks into chroma; the fact store and BM25 are
    always written."""
    start = time.perf_counter()
    files, failed = expand(paths)
    settings.home.mkdir(parents=True, exist_ok=True)
    with writer_lock(settings.home):
        store = open_store(settings, repair=True)
        try:
            vectors = _vector_index(settings) if (settings.dense if dense is None else dense) else None
            counts = _index_files(files, store, vectors, progress, failed)
            if vectors is not None:
                _sync_vectors(store, vectors)
            _warm_bm25(store)
        finally:
            store.close()
    indexed, unchanged, facts, chunks, names = counts
    return IngestReport(indexed, unchanged, tuple(failed), facts, chunks,
                        round(time.perf_counter() - start, 3), tuple(names))


def _index_files(files: list[Path], store: FactStore, vectors: VectorIndex | None, progress: bool,
                 failed: list[tuple[str, str]]) -> tuple[int, int, int, int, list[str]]:
    from tqdm import tqdm

    indexed = unchanged = n_facts = n_chunks = 0
    names: list[str] = []
    bar = tqdm(files, desc="索引", unit="文件", file=sys.stderr, disable=not progress or not files,
               dynamic_ncols=True)
    for path in bar:
        bar.set_postfix_str(path.name[:40], refresh=False)
        try:
            result = _index_one(path, store, vectors)
        except (BudgetQAError, Exception) as exc:  # noqa: B014 - any parser bug must not stop the batch
            failed.append((path.name, _reason(exc)))
            log.warning("跳过 %s：%s", path.name, _reason(exc))
            continue
        if result is None:
            unchanged += 1
        else:
            indexed += 1
            n_facts += result[0]
            n_chunks += result[1]
            names.append(path.name)
    bar.close()
    return indexed, unchanged, n_facts, n_chunks, names


def _index_one(path: Path, store: FactStore, vectors: VectorIndex | None) -> tuple[int, int] | None:
    """(facts, chunks) written, or None when the file is unchanged since it was indexed."""
    from budgetqa.index.chunk import make_chunks
    from budgetqa.index.extract import extract_facts
    from budgetqa.index.readers import read_document

    sha = _sha256(path)
    if sha is not None and store.stamp_of(path.name) == (sha, pipeline_version()):
        return None
    doc = read_document(path)
    facts = extract_facts(doc)
    chunks = make_chunks(doc, facts)
    store.replace_document(doc, facts, chunks, pipeline=pipeline_version())
    if vectors is not None:
        vectors.replace_document(doc.name, chunks)
    return len(facts), len(chunks)


def _warm_bm25(store: FactStore) -> None:
    """Tokenise the corpus now (and cache it), so the first question does not pay for it."""
    from budgetqa.index.vectors import load_lexical

    load_lexical(store)


def _vector_index(settings: Settings) -> VectorIndex:
    from budgetqa.index.vectors import VectorIndex

    return VectorIndex(settings, rebuild=True)  # indexing replaces vectors of another model


def _sync_vectors(store: FactStore, vectors: VectorIndex) -> None:
    """Bring chroma in line with the store (after a crash, a removed file, or a dense=False run)."""
    upserted, deleted = vectors.sync(store.chunks())
    if upserted or deleted:
        log.info("向量库同步：写入 %d，删除 %d", upserted, deleted)


def ensure_index(settings: Settings, progress: bool = False) -> IngestReport | None:
    """Index the bundled corpus when the store is empty (first `ask`/`serve` on a fresh install).

    Facts and BM25 only, in about a second: embedding ~1,400 chunks takes a minute on 2 cores and the
    English-only model adds nothing measurable on Chinese questions. `budgetqa index` fills the
    vector store; the retriever uses it from then on."""
    if settings.store_path.exists():
        store = FactStore(settings.store_path)
        try:
            if store.documents():
                return None
        finally:
            store.close()
    return index_paths(default_corpus(), settings, progress=progress, dense=False)


@contextmanager
def writer_lock(home: Path) -> Iterator[None]:
    """Exclusive across processes: a second indexer waits rather than interleaving writes."""
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / "index.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("另一个索引进程正在运行，等待其完成…")
            print("另一个索引进程正在运行，等待其完成…", file=sys.stderr)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None  # the reader reports it with a proper reason


def _reason(exc: BaseException) -> str:
    if isinstance(exc, UnreadableDocument):
        return exc.reason
    if isinstance(exc, BudgetQAError):
        return str(exc)
    return f"解析出错（{type(exc).__name__}: {exc}）"
