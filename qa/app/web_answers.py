"""The chat page's answers, without the page: the checked answer of a question as its bubble's HTML.

Gradio-free on purpose, so a worker process (`web_workers`) answers exactly as the page does without
importing the web stack. `PageAnswers` keeps checked answers and cited tables until the index changes,
notices a newer index generation between questions, and gives a visitor with uploads their own engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from budgetqa.app import web_render as R
from budgetqa.app.pages import PageImages, image_url, pdf_url
from budgetqa.app.pipeline import Engine, Turn, follow_up_context
from budgetqa.app.uploads import PRIVATE_PREFIX, Visitor
from budgetqa.app.web_cache import AnswerCache, StoreWatch
from budgetqa.config import Settings
from budgetqa.errors import BudgetQAError
from budgetqa.index.model import Table
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.ingest import open_store
from budgetqa.types import Answer, Citation

log = logging.getLogger(__name__)

ANSWER_CACHE = 2048  # checked answers kept per server (a few MB of HTML)
INTERNAL_ERROR = "处理这个问题时出了内部错误，请换个说法再试，或联系管理员。"


class PageAnswers:
    """Questions to bubbles: `engine` answers over the shared corpus; a visitor who uploaded documents
    gets answers from their own `Visitor` engine (shared corpus + their files). Between questions both
    notice a newer index generation (a `budgetqa index` from the command line) and reload."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.pages = PageImages(settings)
        # Citizens ask the same things ("招待费是多少"): a checked answer and its bubble are kept until
        # the index changes, so a crowd costs the page's work, not the answerer's, per repeat.
        self._answers: AnswerCache[tuple[Answer, str]] = AnswerCache(ANSWER_CACHE)
        self._tables: dict[str, list[Table]] = {}  # cited documents' tables, until the index changes
        # a PostgreSQL store changes without any file here changing: its generation row is read instead,
        # through a store kept open (its pooled connections), not a new connection per check
        self._generation_store: FactStore | None = None
        self._generation_store_lock = threading.Lock()
        self._watch = StoreWatch(None if settings.database_url else settings.store_path, self._read_generation)
        self._generation = self._watch.generation()
        self._generation_lock = threading.Lock()
        self._shared: FactStore | None = None

    def _read_generation(self) -> int:
        try:
            if not self.settings.database_url:  # a file that changed: opened afresh (it may have been replaced)
                with _store(self.settings) as store:
                    return store.generation
            with self._generation_store_lock:
                if self._generation_store is None:
                    self._generation_store = open_store(self.settings)
                store = self._generation_store
            return store.generation
        except Exception:  # an unreadable store: the engine reports it on the question
            return -1

    def engine_for(self, visitor: Visitor | None) -> Engine:
        """The engine for this visitor's next question, reloaded when the index changed since."""
        generation = self._fresh()
        with self._generation_lock:
            if self._shared is None and visitor is not None and visitor.docs:
                self._shared = open_store(self.settings)
        if visitor is not None and visitor.docs:
            return visitor.engine_for(self.settings, self._shared, generation)  # type: ignore[no-any-return]
        return self.engine

    def _fresh(self) -> int:
        """The index generation; a newer one (a `budgetqa index` from the command line) reloads the
        engine and forgets what was kept from the older one."""
        generation = self._watch.generation()
        with self._generation_lock:
            if generation != self._generation:
                self._generation = generation
                self.engine.reload()
                self.forget_answers()
        return generation

    def warm(self) -> None:
        """What the first questions would otherwise pay for, done before the page opens (a fresh server
        answers as fast as a warm one): the engine's indices, jieba and phrase matcher, each document's self-check (an
        answer notes a cited figure's inconsistencies), the tables shown around cited rows, and the
        page's own example questions, answered in order as a citizen clicking them would (and kept)."""
        try:
            self.engine.warm()
            self.engine.audit_all()
            with _store(self.settings) as store:
                docs: list[Any] = store.documents()  # DocInfo rows, as the page lists them
            for d in docs:
                self._doc_tables(d.name)
            turns: tuple[Turn, ...] = ()
            for q in R.example_questions(docs):
                answer = list(self._replies(q, None, None, turns))[-1][0]
                if answer is not None and answer.status != "error":
                    turns = (*turns, Turn(q.strip(), *_scope(answer, None, None)))
        except Exception:  # a cold first question is slower, not wrong: the page still opens
            log.exception("warming the answerer failed")

    def _key(self, question: str, unit: str | None, year: int | None, turns: Sequence[Turn],
             visitor: Visitor | None) -> tuple[Any, ...]:
        # a visitor's own uploads answer only for them: their answers are kept apart
        own = (id(visitor), len(visitor.docs)) if visitor is not None and visitor.docs else None
        return (question.strip(), unit, year, follow_up_context(turns), own)

    def _replies(self, question: str, unit: str | None, year: int | None,
                 turns: Sequence[Turn], visitor: Visitor | None = None) -> Iterator[tuple[Answer | None, str]]:
        """Draft bubbles (no Answer) while the model writes, then the checked answer's bubble, last."""
        try:
            engine = self.engine_for(visitor)  # first: a newer index empties the answer cache
        except BudgetQAError as exc:
            yield None, R.render_failure(str(exc))
            return
        if self.settings.llm_enabled:  # a model's wording is streamed fresh each time
            yield from self._fresh_replies(engine, question, unit, year, turns, visitor)
            return
        key = self._key(question, unit, year, turns, visitor)
        hit, mine = self._answers.claim(key)
        if hit is not None:
            yield hit
            return
        try:
            for answer, html in self._fresh_replies(engine, question, unit, year, turns, visitor):
                if answer is not None and answer.status != "error":
                    self._answers.put(key, (answer, html))
                yield answer, html
        finally:
            if mine:
                self._answers.release(key)

    def _fresh_replies(self, engine: Engine, question: str, unit: str | None, year: int | None,
                       turns: Sequence[Turn], visitor: Visitor | None) -> Iterator[tuple[Answer | None, str]]:
        text = ""
        try:
            for part in engine.ask_stream(question, unit=unit, year=year, history=list(turns)):
                if isinstance(part, Answer):
                    # the draft was never checked: the Answer replaces it, whatever the draft said
                    yield part, R.render_answer(part, self._contexts(part.citations, visitor),
                                                self._links(part.citations))
                    return
                text += part
                yield None, R.render_draft(text)
        except BudgetQAError as exc:
            yield None, R.render_failure(str(exc))
            return
        except Exception:  # the page must answer something; the traceback goes to the log
            log.exception("ask failed for %r", question[:200])
            yield None, R.render_failure(INTERNAL_ERROR)
            return
        log.error("answer stream for %r ended without an answer", question[:200])
        yield None, R.render_failure(INTERNAL_ERROR)

    def forget_answers(self) -> None:
        self._answers.clear()
        self._tables = {}

    def _contexts(self, citations: Sequence[Citation], visitor: Visitor | None = None) -> list[R.TableContext | None]:
        """Each cited table around its row, from the fact store (or the visitor's own uploads); None shows
        the quote only."""
        docs = {c.doc for c in citations if c.table}
        try:
            tables = {d: (visitor.tables(d) if visitor is not None and d.startswith(PRIVATE_PREFIX)
                          else self._doc_tables(d)) for d in docs}
        except Exception:  # an unreadable store: the quotes alone still cite
            log.debug("no table context for %s", sorted(docs), exc_info=True)
            return [None] * len(citations)
        return [table_context([t for t in tables.get(c.doc, []) if t.title == c.table], c) if c.table else None
                for c in citations]

    def _doc_tables(self, doc: str) -> list[Table]:
        found = self._tables.get(doc)
        if found is None:
            with _store(self.settings) as store:
                found = self._tables[doc] = store.tables(doc)
        return found

    def _links(self, citations: Sequence[Citation]) -> list[R.SourceLink | None]:
        """The page picture and PDF link of each citation whose source is an indexed PDF on disk."""
        if not any(c.page for c in citations):
            return [None] * len(citations)
        try:
            sources = self.pages.sources()
        except Exception:  # an unreadable store: the quotes alone still cite
            log.debug("no page links", exc_info=True)
            return [None] * len(citations)
        out: list[R.SourceLink | None] = []
        for c in citations:
            src = sources.get(c.doc)
            ok = src is not None and c.page is not None
            out.append(R.SourceLink(image_url(src.id, c.page, c.quote), pdf_url(src.id, c.page))
                       if ok and src is not None and c.page is not None else None)
        return out


def table_context(tables: Sequence[Table], citation: Citation) -> R.TableContext | None:
    """The table a citation names, around the cited row; the first same-titled table holding it."""
    fallback = None
    for t in tables:
        rows = tuple((r.label, tuple(r.cells)) for r in t.rows)
        if not rows:
            continue
        ctx = R.TableContext(columns=tuple(t.columns), rows=rows, focus=R.find_focus(rows, citation.row, citation.quote))
        if ctx.focus is not None:
            return ctx
        fallback = fallback or ctx
    return fallback


@contextmanager
def _store(settings: Settings) -> Iterator[FactStore]:
    store = open_store(settings)
    try:
        yield store
    finally:
        store.close()


def _scope(answer: Answer, unit: str | None, year: int | None) -> tuple[str | None, int | None]:
    """The unit and year a follow-up inherits: what was answered, else what was filtered."""
    years = {c.year for c in answer.citations if c.year}
    units = {c.unit for c in answer.citations if c.unit}
    return (answer.unit or (units.pop() if len(units) == 1 else unit),
            years.pop() if len(years) == 1 else year)
