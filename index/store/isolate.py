"""Parse one file under limits, in a worker process: a huge or pathological file costs its own
process and its own time, never the index lock or the batch.

The worker (forked from a forkserver that has the readers imported) reads, assembles and extracts;
the parent only waits with a timeout. A file over the size limit is refused before any parsing; one
over the page limit as soon as the count is known; one over the time limit is killed. Every refusal
is an UnreadableDocument with a Chinese reason naming the limit.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from budgetqa.config import Settings
from budgetqa.errors import BudgetQAError, NotBudgetDocument, UnreadableDocument
from budgetqa.index.model import Document, Fact

MEMORY_LIMIT = 3 * 1024**3  # bytes of address space for one worker: a bad file must not take the machine
_PRELOAD = ["budgetqa.index.read.readers", "budgetqa.index.extract.facts", "budgetqa.index.read.pdf"]


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
    try:
        result: tuple[str, Any] = ("ok", _parse(Path(path), key, max_pages))
    except NotBudgetDocument as exc:
        result = ("error", ("not-budget", exc.reason))
    except UnreadableDocument as exc:
        result = ("error", ("unreadable", exc.reason))
    except MemoryError:
        result = ("error", ("unreadable", f"解析所需内存超过 {MEMORY_LIMIT // 1024**3} GB，未索引"))
    except (BudgetQAError, Exception) as exc:  # noqa: B014 - any parser bug is this file's failure
        result = ("error", ("unreadable", f"解析出错（{type(exc).__name__}: {exc}）"))
    send.send(result)
    send.close()
