"""Index files: parse -> extract -> fact store -> vectors, idempotent by sha256, one bad file never stops a batch.

Each file is parsed in a worker process under per-document limits (size, pages, time: index/store/isolate.py)
with no lock held; only its commit takes the index lock (a file under the home, or a PostgreSQL advisory
lock with BUDGETQA_DATABASE_URL), so one slow file never holds up
another indexer or the web page. The fact store commits one document per transaction; the vector store
is then synced against the store's chunks, so an interrupted run is repaired by the next one.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from budgetqa.config import Settings
from budgetqa.errors import BudgetQAError, IndexCorrupt, NotBudgetDocument, UnreadableDocument
from budgetqa.index.store.base import FactStore, Stamp, prepare
from budgetqa.index.store.database import SqliteFactStore

if TYPE_CHECKING:
    from budgetqa.index.store.isolate import Limits, Parsed
    from budgetqa.index.store.vectors import VectorIndex

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
    names: tuple[str, ...] = field(default=())  # documents indexed in this run (their keys, as cited)
    skipped: tuple[tuple[str, str], ...] = ()  # not budget documents (README, .docx …): listed, not failures

    def summary(self) -> str:
        text = (f"已索引 {self.indexed} 个文件（{self.facts} 条数据，{self.chunks} 个检索片段），"
                f"未变化 {self.unchanged} 个，跳过 {len(self.skipped)} 个，失败 {len(self.failed)} 个，"
                f"用时 {self.seconds:.1f} 秒")
        return "\n".join([text, *(f"  跳过：{name}：{reason}" for name, reason in self.skipped),
                          *(f"  失败：{name}：{reason}" for name, reason in self.failed)])


@dataclass
class _Tally:
    indexed: int = 0
    unchanged: int = 0
    facts: int = 0
    chunks: int = 0
    names: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


@functools.cache
def pipeline_version() -> str:
    """A hash of the parsing code (every module and data file of budgetqa.index): when it changes,
    `budgetqa index` re-parses files whose bytes did not change, so an upgrade never serves stale facts."""
    digest = hashlib.sha256()
    root = Path(str(resources.files(CORPUS_PACKAGE)))
    for entry in sorted(p for p in root.rglob("*") if p.is_file() and "corpus" not in p.relative_to(root).parts):
        if entry.suffix in (".py", ".txt", ".toml", ".json"):
            digest.update(entry.relative_to(root).as_posix().encode())
            digest.update(entry.read_bytes())
    return digest.hexdigest()[:16]


def default_corpus() -> list[Path]:
    """The bundled seed documents (index/corpus)."""
    root = resources.files(CORPUS_PACKAGE).joinpath("corpus")
    return sorted(Path(str(p)) for p in root.iterdir() if p.is_file() and not p.name.startswith("."))


def expand(paths: Sequence[Path]) -> tuple[list[Path], list[tuple[str, str]], list[tuple[str, str]]]:
    """Files to index (folders expanded), the files skipped as not documents (with the reason), and the
    paths that do not exist."""
    from budgetqa.index.read import SUPPORTED

    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    failed: list[tuple[str, str]] = []
    for path in map(Path, paths):
        if path.is_dir():
            for p in sorted(path.rglob("*")):
                if not p.is_file() or any(part.startswith(".") for part in p.relative_to(path).parts):
                    continue  # hidden files and folders (.git, .DS_Store) are not documents
                if p.suffix.lower() in SUPPORTED:
                    files.append(p)
                else:
                    skipped.append((p.name, f"不是支持的文档类型（{p.suffix or '无扩展名'}），支持：{'、'.join(SUPPORTED)}"))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                files.append(path)
            else:
                skipped.append((path.name, f"不是支持的文档类型（{path.suffix or '无扩展名'}），支持：{'、'.join(SUPPORTED)}"))
        else:
            failed.append((path.name or str(path), "文件不存在"))
    unique = list(dict.fromkeys(p.resolve() for p in files))  # a file named twice is indexed once
    return unique, skipped, failed


def open_store(settings: Settings, repair: bool = False) -> FactStore:
    """The fact store: the PostgreSQL database of BUDGETQA_DATABASE_URL, else the SQLite file under
    the home; with `repair`, a corrupt SQLite file is moved aside and a fresh one started.

    The vector store is kept: the sync after indexing re-embeds only chunks whose text changed."""
    from budgetqa.index.store.lexical import use_cache_dir

    use_cache_dir(settings.home)  # the tokenizer's pickled dictionary lives beside the store
    if settings.database_url:
        from budgetqa.index.store.postgres import PostgresFactStore

        return PostgresFactStore(settings.database_url, repair=repair)
    try:
        return SqliteFactStore(settings.store_path)
    except IndexCorrupt:
        if not repair:
            raise
        aside = settings.store_path.with_name(f"{settings.store_path.name}.corrupt-{int(time.time())}")
        log.warning("索引库损坏，已移至 %s 并重建", aside)
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{settings.store_path}{suffix}")
            if src.exists():
                src.replace(Path(f"{aside}{suffix}"))
        return SqliteFactStore(settings.store_path)


def has_store(settings: Settings) -> bool:
    """Whether a store exists to read (a database URL always names one; it may still be empty)."""
    return bool(settings.database_url) or settings.store_path.exists()


def index_paths(paths: Sequence[Path], settings: Settings, progress: bool = True,
                dense: bool | None = None) -> IngestReport:
    """Index files and folders into the store under settings.home; see the module docstring.

    A document is known by where it came from (the file's resolved path) and its content hash, never by its base name: two different `report.txt` are two documents, the second
    cited by its path (`c2/report.txt`). Each file is parsed in a worker under the limits of
    `Settings` with the lock released; only its commit takes the lock. `dense` (default:
    settings.dense) embeds the chunks into chroma; the fact store and BM25 are always written."""
    start = time.perf_counter()
    files, skipped, failed = expand(paths)
    tally = _Tally(failed=failed, skipped=skipped)
    settings.home.mkdir(parents=True, exist_ok=True)
    with index_lock(settings):
        store = open_store(settings, repair=True)
    try:
        _index_files(files, store, settings, progress, tally)
        with index_lock(settings):
            if refresh_unit_entries(store) or store.registry_stale():
                store.rebuild_registry()  # new name knowledge: once here, never at an answerer's start
            if settings.dense if dense is None else dense:
                _sync_vectors(store, _vector_index(settings))
    finally:
        store.close()
    return IngestReport(tally.indexed, tally.unchanged, tuple(tally.failed), tally.facts, tally.chunks,
                        round(time.perf_counter() - start, 3), tuple(tally.names), tuple(tally.skipped))


def _index_files(files: list[Path], store: FactStore, settings: Settings, progress: bool,
                 tally: _Tally) -> None:
    from budgetqa.index.store.isolate import Limits
    from tqdm import tqdm

    class Bar(tqdm):  # type: ignore[type-arg]
        monitor_interval = 0  # no monitor thread: a single file's parse worker is then a plain fork (isolate)

    limits = Limits.of(settings)
    bar = Bar(total=len(files), desc="索引", unit="文件", file=sys.stderr, disable=not progress or not files,
              dynamic_ncols=True)
    try:
        if len(files) == 1:  # `budgetqa index one.pdf`, an upload: no pool to start (a plain fork, see isolate)
            _tallied(files[0], tally, lambda: _index_one(files[0], str(files[0]), store, settings, limits,
                                                         single=True))
            bar.update(1)
        elif files:
            _index_batch(files, store, settings, limits, tally, bar)
    finally:
        bar.close()


def _tallied(path: Path, tally: _Tally, work: Callable[[], tuple[str, int, int] | None]) -> None:
    """Run one file's indexing and count its outcome; one bad file never stops a batch."""
    try:
        result = work()
    except NotBudgetDocument as exc:
        tally.skipped.append((path.name, exc.reason))
        return
    except (BudgetQAError, Exception) as exc:  # noqa: B014 - any parser bug must not stop the batch
        if isinstance(exc, IndexCorrupt):
            raise
        tally.failed.append((path.name, _reason(exc)))
        log.warning("未索引 %s：%s", path.name, _reason(exc))
        return
    if result is None:
        tally.unchanged += 1
    else:
        tally.indexed += 1
        tally.facts += result[1]
        tally.chunks += result[2]
        tally.names.append(result[0])


def _index_batch(files: list[Path], store: FactStore, settings: Settings, limits: Limits, tally: _Tally,
                 bar: Any) -> None:
    """Many files through a pool of parse workers (settings.index_workers, one document each in flight):
    the workers parse, extract, chunk and tokenise; this process only writes, one document per
    transaction under the lock, as each comes back. Keys are given in the files' order when they are
    submitted, so which file gets a contested name does not depend on which worker finishes first."""
    from budgetqa.index.store.isolate import ParsePool

    stamps = _Stamps(store.stamps())
    todo = list(reversed(files))
    taken: dict[Path, tuple[str, str | None]] = {}  # submitted file -> (key, sha256)
    order: deque[Path] = deque()  # submitted files not yet written, in the files' order
    done: dict[Path, Parsed | Exception] = {}  # parsed ahead of an earlier file still in its worker
    with ParsePool(limits, settings.index_workers, settings.home) as pool:
        while todo or order:
            # bounded memory: at most a worker's worth of documents waits for an earlier file
            while todo and pool.free and len(done) < settings.index_workers:
                path = todo.pop()
                sha = _sha256(path)
                known = stamps.known(sha)
                if known is not None:
                    _tallied(path, tally, functools.partial(_adopt, path, known, store, settings))
                    bar.update(1)
                    continue
                key = stamps.key_for(str(path), path, {k for k, _ in taken.values()})
                try:
                    pool.submit(path, key)
                except BudgetQAError as exc:
                    _tallied(path, tally, functools.partial(_raise, exc))
                    bar.update(1)
                    continue
                taken[path] = (key, sha)
                order.append(path)
            if order and order[0] in done:  # written in the files' order, as one process would: the
                path = order.popleft()      # store (row ids, ties in a ranking) does not depend on which
                outcome = done.pop(path)    # worker finished first
                _key, sha = taken.pop(path)
                bar.set_postfix_str(path.name[:40], refresh=False)
                _tallied(path, tally, functools.partial(_commit, path, sha, outcome, store, settings, stamps))
                bar.update(1)
            elif order:
                path, result = pool.next_done()
                done[path] = result


def _raise(exc: BaseException) -> None:
    raise exc


def _adopt(path: Path, known: Stamp, store: FactStore, settings: Settings) -> None:
    """An unchanged file; one stored before origins were kept is adopted by this one (None: nothing written)."""
    if known.origin == "" and known.name == path.name:
        with index_lock(settings):
            store.set_origin(known.name, str(path))


class _Stamps:
    """The stored documents' identities, read once per batch and kept up to date by its own writes (reading
    them per file costs O(corpus) each time); the commit re-checks the store itself under the lock."""

    def __init__(self, stamps: list[Stamp]) -> None:
        self.items = {s.name: s for s in stamps}
        self._by_sha = {s.sha256: s for s in stamps if s.pipeline == pipeline_version()}
        self._by_origin = {s.origin: s for s in stamps if s.origin}

    def known(self, sha: str | None) -> Stamp | None:
        return self._by_sha.get(sha) if sha is not None else None

    def key_for(self, origin: str, path: Path, reserved: set[str]) -> str:
        """document_key over the stored documents plus the names already given to files in flight."""
        mine = self._by_origin.get(origin)
        if mine is not None:
            return mine.name
        extra = [Stamp(name, f"\0{name}", "", "") for name in reserved if name not in self.items]
        return document_key([*self.items.values(), *extra], origin, path)

    def add(self, stamp: Stamp) -> None:
        old = self.items.get(stamp.name)
        if old is not None:
            self._by_sha.pop(old.sha256, None)
        self.items[stamp.name] = stamp
        self._by_sha[stamp.sha256] = stamp
        self._by_origin[stamp.origin] = stamp


def _commit(path: Path, sha: str | None, outcome: Parsed | BaseException, store: FactStore, settings: Settings,
            stamps: _Stamps) -> tuple[str, int, int] | None:
    """Write one parsed file of a batch under the lock (None: another indexer committed it meanwhile)."""
    from budgetqa.index.store.chunk import make_chunks

    if isinstance(outcome, BaseException):
        raise outcome
    doc, facts = outcome.doc, outcome.facts
    chunks = outcome.chunks if outcome.chunks is not None else make_chunks(doc, facts)
    prepared = outcome.prepared or prepare(doc, facts, chunks)
    origin = str(path)
    with index_lock(settings):
        if sha is not None and store.has_sha(sha, pipeline_version()):
            return None  # another indexer committed the same bytes meanwhile
        owner = store.origin_of(doc.name)
        if owner is not None and owner not in ("", origin):  # another indexer took the name meanwhile
            key = document_key(store.stamps(), origin, path)
            doc, facts = dc_replace(doc, name=key), [dc_replace(f, doc=key) for f in facts]
            chunks = make_chunks(doc, facts)
            prepared = prepare(doc, facts, chunks)
        store.replace_document(doc, facts, chunks, pipeline=pipeline_version(), origin=origin, prepared=prepared)
    stamps.add(Stamp(doc.name, origin, sha or "", pipeline_version()))
    return doc.name, len(facts), len(chunks)


def _index_one(path: Path, origin: str, store: FactStore, settings: Settings, limits: Limits,
               single: bool = False) -> tuple[str, int, int] | None:
    """(key, facts, chunks) written, or None when the file is unchanged since it was indexed.

    Parsing runs with no lock held; the lock covers only the re-check and the one-transaction commit,
    so a slow file delays nobody else's commit. (A batch goes through `_index_batch`'s pool instead.)"""
    from budgetqa.index.store.chunk import make_chunks
    from budgetqa.index.store.isolate import start_parse
    from budgetqa.index.store.lexical import preload_tokenizer

    sha = _sha256(path)
    known = _known(store.stamps(), sha) if sha is not None else None
    if known is not None:
        _adopt(path, known, store, settings)
        return None
    job = start_parse(path, document_key(store.stamps(), origin, path), limits, single=single)
    # jieba's dictionary loads in this process while the worker parses (started after the worker: a
    # single file's worker is forked, and a fork must not copy a half-done load)
    parsed = job.result(meanwhile=preload_tokenizer)
    # chunks, tokens and the unit-registry entry before the lock: a slow file delays nobody's commit
    chunks = make_chunks(parsed.doc, parsed.facts)
    prepared = prepare(parsed.doc, parsed.facts, chunks)
    with index_lock(settings):
        stamps = store.stamps()
        if sha is not None and _known(stamps, sha) is not None:
            return None  # another indexer committed it meanwhile
        key = document_key(stamps, origin, path)
        doc, facts = parsed.doc, parsed.facts
        if key != doc.name:  # another indexer took the name meanwhile: chunk ids carry the name
            doc, facts = dc_replace(doc, name=key), [dc_replace(f, doc=key) for f in facts]
            chunks = make_chunks(doc, facts)
            prepared = prepare(doc, facts, chunks)
        store.replace_document(doc, facts, chunks, pipeline=pipeline_version(), origin=origin, prepared=prepared)
    return key, len(facts), len(chunks)


def refresh_unit_entries(store: FactStore, batch: int = 200) -> int:
    """Write the unit-registry entry of every stored document that lacks one of this version (a store
    indexed before entries were kept, or new name knowledge): from the stored names and row labels,
    no file parsed. Returns how many were written."""
    from budgetqa.index.store.unit_names import doc_entry, entry_version, load_names

    know = load_names()
    stale = set(store.stale_unit_entries(entry_version(know)))
    if not stale:
        return 0
    infos = [d for d in store.documents() if d.name in stale]
    for i in range(0, len(infos), batch):
        store.put_unit_entries({d.name: doc_entry(d.unit, d.aliases, d.subunits, store.row_labels(d.name), know)
                                for d in infos[i:i + batch]})
    return len(infos)


def _known(stamps: list[Stamp], sha: str) -> Stamp | None:
    """The stored document this file already is: the same bytes parsed by this code version, from this
    origin or any other (a copy of an indexed file adds nothing)."""
    version = pipeline_version()
    return next((s for s in stamps if s.sha256 == sha and s.pipeline == version), None)


def document_key(stamps: list[Stamp], origin: str, path: Path) -> str:
    """The name a file is stored and cited by: its own key when its origin is known; else its base name
    when free; else the shortest tail of its path no other origin uses ("c2/report.txt")."""
    for s in stamps:
        if s.origin == origin:
            return s.name
    taken = {s.name: s.origin for s in stamps}
    if taken.get(path.name, "") == "":  # free, or stored before origins were recorded: adopt it
        return path.name
    parts = Path(origin).parts if origin.startswith("/") else path.parts
    for n in range(2, len(parts) + 1):
        candidate = "/".join(parts[-n:]).lstrip("/")
        if candidate not in taken:
            return candidate
    return f"{path.name}#{hashlib.sha256(origin.encode()).hexdigest()[:8]}"


def _vector_index(settings: Settings) -> VectorIndex:
    from budgetqa.index.store.vectors import VectorIndex

    return VectorIndex(settings, rebuild=True)  # indexing replaces vectors of another model


def _sync_vectors(store: FactStore, vectors: VectorIndex) -> None:
    """Bring chroma in line with the store for every document written or removed since its vectors
    were last synced (after a crash, a removed file, or a dense=False run), one document at a time."""
    upserted = deleted = 0
    names = store.dense_pending()
    if vectors.rebuilt:  # another model's vectors were dropped: all documents, not only the changed ones
        names = sorted(set(names) | set(store.document_names()))
    for name in names:
        up, down = vectors.sync(store.chunks(name), where={"doc": name})
        store.dense_done(name)
        upserted, deleted = upserted + up, deleted + down
    if upserted or deleted:
        log.info("向量库同步：写入 %d，删除 %d", upserted, deleted)


def ensure_index(settings: Settings, progress: bool = False) -> IngestReport | None:
    """Index the bundled corpus when the store is empty (first `ask`/`serve` on a fresh install).

    Facts and BM25 only, in about a second: embedding ~1,400 chunks takes a minute on 2 cores and the
    English-only model adds nothing measurable on Chinese questions. `budgetqa index` fills the
    vector store; the retriever uses it from then on."""
    if has_store(settings):
        store = open_store(settings)
        try:
            if store.documents():
                return None
        finally:
            store.close()
    return index_paths(default_corpus(), settings, progress=progress, dense=False)


def index_lock(settings: Settings) -> AbstractContextManager[None]:
    """The writers' lock: a PostgreSQL advisory lock with a database, else the lock file under the home."""
    if settings.database_url:
        from budgetqa.index.store.postgres import index_lock as database_lock

        return database_lock(settings.database_url)
    return writer_lock(settings.home)


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
