"""New answers in worker processes, so both cores answer while the page's own process serves requests.

Python runs one thread at a time (the GIL): answers computed in threads of the page's process wait for
each other and for gradio's request handling, and a crowd's first questions (all new to the server)
queued there for seconds (eval/load_test.py). Each worker process holds its own `PageAnswers` over the
same index, warmed before the page opens, and answers exactly as the page would (same engine, same
HTML); the page's process keeps the answers it gets back, so a repeat never reaches a worker.

Workers are started with "spawn" (a fresh interpreter: forking a process that already runs gradio's
threads is unsafe) and never import gradio. A visitor's own uploads and a model's streamed drafts stay
in the page's process (`web.Handlers`): they belong to one session or stream through gradio's queue.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from budgetqa.app import web_render as R
from budgetqa.app.pipeline import Engine, Turn
from budgetqa.app.web_answers import INTERNAL_ERROR, PageAnswers
from budgetqa.config import Settings, set_offline_env
from budgetqa.types import Answer

log = logging.getLogger(__name__)

Reply = tuple[Answer | None, str]  # the checked answer (None: a failure message) and its bubble's HTML
START_LIMIT = 600.0  # seconds for every worker to import, load the index and warm; a hang guard only
PARENT_CHECK = 1.0  # seconds between a worker's checks that the page's process still runs

_ANSWERS: PageAnswers | None = None  # this worker's answerer (set in the worker process only)


def _start(settings: Settings, parent: int) -> None:
    """A worker's first step: its own engine over the index, warmed like the page's."""
    global _ANSWERS
    threading.Thread(target=_follow, args=(parent,), name="follow-page", daemon=True).start()
    set_offline_env()
    answers = PageAnswers(Engine(settings), settings)
    answers.warm()
    _ANSWERS = answers
    settle_heap()


def settle_heap() -> None:
    """Take what start-up loaded (the index's facts, the libraries) out of the garbage collector's
    scans: a full collection over it took ~270 ms on the shared 2-core box, a pause every request
    waiting at that moment paid. Unreachable objects are still freed by reference counting."""
    gc.collect()
    gc.freeze()


def _follow(parent: int) -> None:
    """End with the page's process: a killed server (SIGTERM, a crash) never runs the pool's shutdown,
    and a spawned worker would otherwise live on, orphaned, holding its copy of the index."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK)
    os._exit(0)


def _ready() -> int:
    time.sleep(0.05)  # long enough that one worker cannot take every start-up ping
    return os.getpid()


def _answer(question: str, unit: str | None, year: int | None, turns: tuple[Turn, ...]) -> Reply:
    """The checked answer's bubble, as `PageAnswers._replies` gives it last."""
    if _ANSWERS is None:  # the initializer failed: the page answers in its own process instead
        raise RuntimeError("answer worker not started")
    replies = list(_ANSWERS._replies(question, unit, year, turns))
    return replies[-1] if replies else (None, R.render_failure(INTERNAL_ERROR))


class AnswerWorkers:
    """A pool of warmed answer processes; a question already being answered is waited for, not sent
    twice."""

    def __init__(self, settings: Settings, processes: int) -> None:
        self.processes = processes
        self._pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start, initargs=(settings, os.getpid()))
        self._pending: dict[Hashable, tuple[asyncio.AbstractEventLoop, asyncio.Future[Reply]]] = {}
        self._pings: list[Future[int]] = []
        self.broken = False  # the pool cannot answer (a worker failed to start or died): threads answer

    def start(self) -> None:
        """Start every worker now (they import and warm while the caller goes on); see `ready`."""
        self._pings = [self._pool.submit(_ready) for _ in range(self.processes)]

    def ready(self, limit: float = START_LIMIT) -> bool:
        """Return once every worker has warmed (a worker takes tasks only after its initializer): the
        first citizens must not wait for a worker's cold start. False (and the page answers in its own
        process) when a worker cannot start."""
        try:
            self._wait(limit)
            return True
        except Exception:
            log.exception("answer processes did not start: answering in the page's process")
            self.broken = True
            self.shutdown()
            return False

    def _wait(self, limit: float) -> None:
        seen: set[int] = set()
        deadline = time.monotonic() + limit
        pings = self._pings or [self._pool.submit(_ready) for _ in range(self.processes)]
        while True:
            seen |= {p.result(timeout=max(1.0, deadline - time.monotonic())) for p in pings}
            if len(seen) >= self.processes:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"answer workers not ready within {limit:.0f} s")
            pings = [self._pool.submit(_ready) for _ in range(self.processes)]  # one worker took them all

    async def answer(self, key: Hashable, question: str, unit: str | None, year: int | None,
                     turns: tuple[Turn, ...], keep: Callable[[Hashable, tuple[Answer, str]], None]) -> Reply | None:
        """The reply from a worker; None when the pool cannot answer (the caller answers in-process).
        `keep(key, reply)` is called once per computed checked answer (the page's answer cache)."""
        if self.broken:
            return None
        loop = asyncio.get_running_loop()
        found = self._pending.get(key)
        if found is None or found[0] is not loop:
            future = loop.run_in_executor(self._pool, _answer, question, unit, year, turns)
            self._pending[key] = (loop, future)
            future.add_done_callback(lambda done: self._done(key, done, keep))
        else:
            future = found[1]
        try:
            return await asyncio.shield(future)
        except BrokenProcessPool:  # a worker died (killed, out of memory): the pool cannot recover
            log.exception("an answer process died: answering in the page's process from now on")
            self.broken = True
            return None
        except Exception:  # an unexpected failure of this question: the page's process tries it
            log.exception("answer process failed for %r", question[:200])
            return None

    def _done(self, key: Hashable, done: asyncio.Future[Reply],
              keep: Callable[[Hashable, tuple[Answer, str]], None]) -> None:
        found = self._pending.get(key)
        if found is not None and found[1] is done:
            del self._pending[key]
        if done.cancelled() or done.exception() is not None:
            return
        answer, html = done.result()
        if answer is not None and answer.status != "error":
            keep(key, (answer, html))

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def worker_count() -> int:
    """Answer processes for this machine: one per core beyond the page's own, at least one."""
    return max(1, (os.cpu_count() or 1) - 1)

