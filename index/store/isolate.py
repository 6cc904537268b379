"""Parse one file under limits, in a worker process: a huge or pathological file costs its own
process and its own time, never the index lock or the batch.

The worker (forked from a forkserver that has the readers imported) reads, assembles and extracts;
the parent only waits with a timeout. A file over the size limit is refused before any parsing; one
over the page limit as soon as the count is known; one over the time limit is killed. Every refusal
is an UnreadableDocument with a Chinese reason naming the limit.
"""

from __future__ import annotations

import contextlib
import functools
import multiprocessing
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from budgetqa.config import Settings
from budgetqa.errors import BudgetQAError, NotBudgetDocument, UnreadableDocument
from budgetqa.index.model import Document, Fact
from budgetqa.index.store.base import Prepared
from budgetqa.index.store.chunk import Chunk

MEMORY_LIMIT = 3 * 1024**3  # bytes of address space for one worker: a bad file must not take the machine
_PRELOAD = ["budgetqa.index.read.readers", "budgetqa.index.extract.facts", "budgetqa.index.read.pdf",
            "budgetqa.index.store.lexical", "budgetqa.index.store.unit_names", "jieba"]
# files a pool worker parses before it is replaced by a fresh one: whatever a parser leaves behind
# (caches, fragmented heap) stays bounded
WORKER_FILES = 200
STARTUP_LIMIT = 300.0  # seconds for a pool worker to start (a file's own time limit runs after)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pages: int
    timeout: float  # seconds; 0 = parse in this process, no time limit (debugging, monkeypatched tests)

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(int(settings.max_file_mb * 1024 * 1024), settings.max_pages, settings.parse_timeout)


@dataclass(frozen=True)
class Parsed:
    doc: Document
    facts: list[Fact]
    chunks: list[Chunk] | None = None  # with `prepared`: made by a pool worker, ready to write
    prepared: Prepared | None = None


def parse_file(path: Path, key: str, limits: Limits, single: bool = False,
               meanwhile: Callable[[], None] | None = None) -> Parsed:
    """The file as a Document named `key` and its facts; UnreadableDocument when refused or unreadable.

    `single`: the only file of this run; `meanwhile` runs in this process while the worker parses."""
    return start_parse(path, key, limits, single).result(meanwhile)


class ParseJob:
    """A file being parsed in its worker: `result()` waits for it (under the time limit), `cancel()`
    ends it. Started ahead, a batch parses the next file while this process writes the current one."""

    def __init__(self, path: Path, key: str, limits: Limits, single: bool = False) -> None:
        self.path, self.key, self.limits = path, key, limits
        self._worker: Any = None
        self._receive: Connection | None = None
        if limits.timeout <= 0:
            return  # parsed in this process by result()
        ctx = _one_shot() if single else _ctx()
        self._receive, send = ctx.Pipe(duplex=False)
        self._worker = ctx.Process(target=_work, args=(str(path), key, limits.max_pages, send), daemon=True)
        with _main_not_from_stdin():
            self._worker.start()
        send.close()

    def result(self, meanwhile: Callable[[], None] | None = None) -> Parsed:
        if meanwhile is not None:
            meanwhile()  # e.g. the tokenizer's dictionary loads here while the worker parses
        if self._worker is None:
            return _parse(self.path, self.key, self.limits.max_pages)
        return _received(self.path, self.limits, self._worker, self._receive)

    def cancel(self) -> None:
        if self._worker is not None:
            if self._receive is not None:
                self._receive.close()
            if self._worker.is_alive():
                self._worker.kill()
            self._worker.join()


def start_parse(path: Path, key: str, limits: Limits, single: bool = False) -> ParseJob:
    """Start parsing a file (refused at once when over the size limit)."""
    check_size(path, limits)
    return ParseJob(path, key, limits, single)


def check_size(path: Path, limits: Limits) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableDocument(path.name, f"无法读取文件（{exc.strerror or exc}）") from exc
    if size > limits.max_bytes:
        raise UnreadableDocument(path.name, f"文件过大（{size / 1024**2:.1f} MB，上限 {limits.max_bytes / 1024**2:.0f} MB），"
                                            "未索引；请拆分文件或由管理员调高 BUDGETQA_MAX_FILE_MB")


def _parse(path: Path, key: str, max_pages: int) -> Parsed:
    from budgetqa.index.extract import facts as extract
    from budgetqa.index.read.readers import read_document

    if path.suffix.lower() == ".pdf":
        _check_pdf_pages(path, max_pages)
    doc = read_document(path)
    if doc.pages is not None and doc.pages > max_pages:
        raise UnreadableDocument(path.name, _too_many_pages(doc.pages, max_pages))
    doc = replace(doc, name=key)
    return Parsed(doc, extract.extract_facts(doc))


def _check_pdf_pages(path: Path, max_pages: int) -> None:
    import pymupdf as fitz

    try:
        with fitz.open(path) as pdf:
            pages = pdf.page_count
    except Exception:  # noqa: BLE001 - the reader reports a broken PDF with its own reason
        return
    if pages > max_pages:
        raise UnreadableDocument(path.name, _too_many_pages(pages, max_pages))


def _too_many_pages(pages: int, limit: int) -> str:
    return f"页数过多（{pages} 页，上限 {limit} 页），未索引；请拆分文件或由管理员调高 BUDGETQA_MAX_PAGES"


_context: Any = None


def _ctx() -> Any:
    """A forkserver: workers start in milliseconds with the readers imported, and forking never copies
    the caller's threads (the web server has many)."""
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        warm = ctx.Process(target=_noop, daemon=True)  # the server's imports are not a file's parse time
        with _main_not_from_stdin():
            warm.start()
        warm.join()
        _context = ctx
    return _context


def _noop() -> None:
    return None


@contextlib.contextmanager
def _main_not_from_stdin() -> Iterator[None]:
    """multiprocessing re-imports the caller's __main__ in the worker from its file; a program read
    from stdin ("<stdin>") has none, so the worker would die. The worker needs nothing from it."""
    main = sys.modules.get("__main__")
    name = getattr(main, "__file__", None)
    if main is None or name is None or Path(name).is_file() or getattr(main, "__spec__", None) is not None:
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = name


def _one_shot() -> Any:
    """For a single file in a process with no other thread (`budgetqa index one.pdf`): a plain fork.
    Starting a forkserver (a new interpreter importing every reader) costs ~1 s, more than the parse;
    a forked worker imports only the reader its file needs. A fork copies no thread when there is none."""
    return multiprocessing.get_context("fork") if threading.active_count() == 1 else _ctx()


def _received(path: Path, limits: Limits, worker: Any, receive: Any) -> Parsed:
    try:
        if not receive.poll(limits.timeout):
            raise UnreadableDocument(path.name, f"解析超时（超过 {limits.timeout:.0f} 秒），未索引；"
                                                "文件可能过大或格式异常")
        try:
            status, payload = receive.recv()
        except EOFError:
            raise UnreadableDocument(path.name, f"解析进程异常退出（退出码 {worker.exitcode}），"
                                                "文件可能过大或已损坏") from None
    finally:
        receive.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    if status == "ok":
        return payload  # type: ignore[no-any-return]
    kind, reason = payload
    raise (NotBudgetDocument if kind == "not-budget" else UnreadableDocument)(path.name, reason)


def _work(path: str, key: str, max_pages: int, send: Connection) -> None:
    """In the worker: parse, send ("ok", Parsed) or ("error", (kind, reason))."""
    with contextlib.suppress(ValueError, OSError):  # a platform without the limit still has the timeout
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    status, payload = _outcome(lambda: _parse(Path(path), key, max_pages))
    send.send(("error" if status == "fatal" else status, payload))
    send.close()


# -- a pool of long-lived workers, for batches ------------------------------------------------------


@dataclass
class _Slot:
    """One pool worker: its process, its end of the pipe, the file it is on and since when."""

    process: Any
    conn: Connection
    path: Path | None = None
    started: float = 0.0
    done: int = 0
    ready: bool = False  # its imports and dictionary are loaded: a file's time limit runs from then


class ParsePool:
    """`workers` long-lived processes, each parsing, extracting, chunking and tokenising one file at a
    time (at most one document per worker in memory), under the same limits as a single file's worker:
    one over the time limit is killed and its worker replaced. A worker loads the readers and jieba's
    dictionary once, not once per file; the caller only writes what comes back. With `limits.timeout`
    0 every file is handled in this process when submitted (debugging, monkeypatched tests)."""

    def __init__(self, limits: Limits, workers: int, home: Path | None = None) -> None:
        self.limits, self.size, self.home = limits, max(1, workers), home
        self._slots: list[_Slot] = []
        self._ready: list[tuple[Path, Parsed | Exception]] = []  # in-process results, in order

    def __enter__(self) -> ParsePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def free(self) -> bool:
        """Whether a file can be submitted now (a worker is idle or may be started)."""
        if self.limits.timeout <= 0:
            return not self._ready
        return sum(s.path is not None for s in self._slots) < self.size

    @property
    def busy(self) -> bool:
        return bool(self._ready) or any(s.path is not None for s in self._slots)

    def submit(self, path: Path, key: str) -> None:
        """Start on a file (refused at once when over the size limit); its outcome comes from `next_done`."""
        check_size(path, self.limits)
        if self.limits.timeout <= 0:
            try:
                self._ready.append((path, prepared_parse(path, key, self.limits.max_pages)))
            except Exception as exc:  # noqa: BLE001 - reported as this file's failure by the caller
                self._ready.append((path, exc))
            return
        slot = next((s for s in self._slots if s.path is None and s.process.is_alive()), None)
        if slot is None:
            self._slots = [s for s in self._slots if s.path is not None or s.process.is_alive()]
            slot = self._start()
        slot.conn.send((str(path), key))
        slot.path, slot.started = path, time.monotonic()

    def next_done(self) -> tuple[Path, Parsed | Exception]:
        """The next finished file: its Parsed, or the refusal/failure as an error (never raised)."""
        if self._ready:
            return self._ready.pop(0)
        from multiprocessing.connection import wait

        while True:
            working = [s for s in self._slots if s.path is not None]
            if not working:
                raise RuntimeError("no file is being parsed")
            now = time.monotonic()
            due = min(s.started + self._allowed(s) for s in working)
            ready = wait([s.conn for s in working], timeout=max(0.0, due - now))
            for slot in working:
                if slot.conn in ready:
                    if not slot.ready and self._greet(slot):
                        break
                    return self._collect(slot)
            for slot in working:
                if time.monotonic() >= slot.started + self._allowed(slot):
                    path = slot.path
                    assert path is not None
                    self._retire(slot)
                    return path, UnreadableDocument(path.name, f"解析超时（超过 {self.limits.timeout:.0f} 秒），未索引；"
                                                               "文件可能过大或格式异常")

    def _allowed(self, slot: _Slot) -> float:
        """Seconds a slot's file may take: its time limit once the worker is ready; a worker's start
        (imports; jieba's dictionary built once for a fresh home, 3-4 s) is not the file's time."""
        return self.limits.timeout if slot.ready else max(self.limits.timeout, STARTUP_LIMIT)

    def _greet(self, slot: _Slot) -> bool:
        """Read a new worker's ("ready", None); False when it died starting (its file is then reported)."""
        try:
            slot.conn.recv()
        except (EOFError, OSError):
            return False
        slot.ready, slot.started = True, time.monotonic()
        return True

    def close(self) -> None:
        for slot in list(self._slots):
            self._retire(slot, wait=1.0, ask=True)
        self._slots = []

    def _start(self) -> _Slot:
        ctx = _ctx()
        mine, theirs = ctx.Pipe(duplex=True)
        process = ctx.Process(target=_serve, args=(theirs, self.limits.max_pages, str(self.home or "")), daemon=True)
        with _main_not_from_stdin():
            process.start()
        theirs.close()
        slot = _Slot(process, mine)
        self._slots.append(slot)
        return slot

    def _collect(self, slot: _Slot) -> tuple[Path, Parsed | Exception]:
        path = slot.path
        assert path is not None
        try:
            status, payload = slot.conn.recv()
        except (EOFError, OSError):
            self._retire(slot)
            return path, UnreadableDocument(path.name, f"解析进程异常退出（退出码 {slot.process.exitcode}），"
                                                       "文件可能过大或已损坏")
        slot.path, slot.done = None, slot.done + 1
        if status == "fatal" or slot.done >= WORKER_FILES:  # out of memory, or worn: a fresh worker next time
            self._retire(slot, wait=1.0, ask=True)
        if status == "ok":
            return path, payload
        kind, reason = payload
        return path, (NotBudgetDocument if kind == "not-budget" else UnreadableDocument)(path.name, reason)

    def _retire(self, slot: _Slot, wait: float = 0.0, ask: bool = False) -> None:
        """End a worker (`ask`: tell it to stop, as an idle one ends by itself; else it is killed)."""
        global WORKER_CPU
        WORKER_CPU += _cpu_seconds(slot.process.pid)  # while it still exists
        if ask and slot.path is None:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(None)
        slot.path = None
        with contextlib.suppress(OSError):
            slot.conn.close()
        if wait:
            slot.process.join(wait)
        if slot.process.is_alive():
            slot.process.kill()
        slot.process.join()
        if slot in self._slots:
            self._slots.remove(slot)


WORKER_CPU = 0.0  # CPU seconds of this process' retired pool workers (a benchmark reads it)


def _cpu_seconds(pid: int | None) -> float:
    """A live process' user + system CPU seconds (Linux /proc; 0 elsewhere): the pool's workers are the
    forkserver's children, so the indexer's own rusage never includes them."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def prepared_parse(path: Path, key: str, max_pages: int) -> Parsed:
    """Parse and extract, then what the store's write needs: chunks, tokens, unit-registry entry."""
    from budgetqa.index.store.base import prepare
    from budgetqa.index.store.chunk import make_chunks

    parsed = _parse(path, key, max_pages)
    chunks = make_chunks(parsed.doc, parsed.facts)
    return replace(parsed, chunks=chunks, prepared=prepare(parsed.doc, parsed.facts, chunks))


def _serve(conn: Connection, max_pages: int, home: str) -> None:
    """A pool worker: files in, ("ok", Parsed) or ("error", (kind, reason)) out, until told to stop."""
    from budgetqa.index.store.lexical import shared_tokenizer, use_cache_dir

    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    use_cache_dir(Path(home) if home else None)  # the dictionary the indexer keeps under its home
    shared_tokenizer()
    conn.send(("ready", None))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        path, key = job
        result = _outcome(functools.partial(prepared_parse, Path(path), key, max_pages))
        conn.send(result)
        if result[0] == "fatal":
            return


def _outcome(work: Callable[[], Parsed]) -> tuple[str, Any]:
    try:
        return ("ok", work())
    except NotBudgetDocument as exc:
        return ("error", ("not-budget", exc.reason))
    except UnreadableDocument as exc:
        return ("error", ("unreadable", exc.reason))
    except MemoryError:
        return ("fatal", ("unreadable", f"解析所需内存超过 {MEMORY_LIMIT // 1024**3} GB，未索引"))
    except (BudgetQAError, Exception) as exc:  # noqa: B014 - any parser bug is this file's failure
        return ("error", ("unreadable", f"解析出错（{type(exc).__name__}: {exc}）"))
