"""The one place that wires the stages: parse -> extract -> index -> retrieve -> answer -> check.

The CLI, the web page and the evaluation harness only talk to `Engine`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from budgetqa.catalog import Catalog, FactSource, MemorySource, Passage
from budgetqa.check.audit import Finding, audit, involving
from budgetqa.check.chain import Request, build_chain, build_draft, finalize
from budgetqa.check.verify import verify_claim
from budgetqa.config import Settings
from budgetqa.errors import BadQuestion, BudgetQAError
from budgetqa.types import Answer, Check, Citation
from budgetqa.understand.understander import Understander
from budgetqa.understand.unit_cache import UnitCache

if TYPE_CHECKING:
    from budgetqa.check.llm import LLMAnswerer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turn:
    """A previous exchange, so a follow-up ("那差旅费呢？") keeps the unit and year."""

    question: str
    unit: str | None
    year: int | None


def follow_up_context(history: Sequence[Turn]) -> tuple[str | None, int | None]:
    """What of a conversation an answer depends on: the last turn's unit and year, which a follow-up
    that names none inherits (the understander reads nothing else of the history). Two conversations
    ending alike get the same answer to the same question, so the page may keep it for both."""
    return (history[-1].unit, history[-1].year) if history else (None, None)


class Engine:
    """Owns the fact store, the retrievers and the answer chain. Thread-safe for concurrent `ask`."""

    def __init__(self, settings: Settings, source: FactSource | None = None, chat_model: Any = None) -> None:
        self.settings = settings
        self._source = source
        self._chat_model = chat_model  # a LangChain chat model; None: the configured LLM, if any
        self._llm: LLMAnswerer | None = None
        self._drafter: Any = None
        self._lock = threading.Lock()
        self._ready: tuple[Catalog, Understander, Any] | None = None
        self._retriever: Any = None
        self._findings: dict[str, list[Finding]] = {}  # audit of each cited document, computed once

    def _load(self) -> tuple[Catalog, Understander, Any]:
        with self._lock:
            if self._ready is None:
                source = self._source or _default_source(self.settings)
                catalog = Catalog(source)
                # answering from the indexed store: what the unit registry learns per document is kept
                cache = UnitCache(self.settings.unit_cache_path) if self._source is None else None
                understander = Understander(catalog, unit_cache=cache, nearest=_phrase_matcher(self.settings))
                # the hybrid retriever reads the indexed store: only when answering from it
                search = self._search if self._source is None else None
                self._llm = _llm_answerer(self.settings, catalog, self._chat_model)
                self._drafter = build_draft(catalog, understander, search)
                refine = self._llm.refine if self._llm is not None else None
                self._ready = (catalog, understander, build_chain(catalog, understander, search, refine))
            return self._ready

    def warm(self) -> None:
        """Load now what a question would load on first use: the indices and, with embeddings on, the
        phrase matcher (its model and the vectors of the vocabulary's phrases, embedded and saved under
        the home on a new one). A server's first questions otherwise queued behind that ~1-2 s."""
        understander = self._load()[1]
        nearest = understander.nearest
        if isinstance(nearest, _LazyPhraseMatcher):
            nearest.warm()

    def reload(self) -> None:
        """Forget the in-memory indices (after `budgetqa index` changed the store)."""
        with self._lock:
            self._ready = None
            self._findings = {}

    def ask(self, question: str, *, unit: str | None = None, year: int | None = None,
            history: Sequence[Turn] = (), qid: str | None = None) -> Answer:
        start = time.perf_counter()
        try:
            catalog, _, chain = self._load()
            ans: Answer = _titled(chain.invoke(Request(question, unit, year, tuple(history))), catalog)
        except BadQuestion as exc:
            ans = Answer(question=question or "", status="error", answer=str(exc))
        except BudgetQAError:
            raise  # index problems (IndexCorrupt …) are the caller's to report
        except Exception as exc:  # one odd question must not end a batch or a chat session
            log.exception("回答问题时出错：%s", question)
            ans = Answer(question=question or "", status="error",
                         answer=f"回答这个问题时出现内部错误（{type(exc).__name__}），请换一种问法或联系维护者。")
        ans = self._with_findings(ans)
        ms = int((time.perf_counter() - start) * 1000)
        return Answer(**{**ans.__dict__, "id": qid, "latency_ms": ms})

    def _with_findings(self, ans: Answer) -> Answer:
        """A cited figure that takes part in one of its document's own inconsistencies says so."""
        if ans.status != "answered" or not ans.citations:
            return ans
        found = [f for doc in dict.fromkeys(c.doc for c in ans.citations) for f in self.findings(doc)]
        cited = [(c.doc, c.table, c.row, c.value) for c in ans.citations]
        notes = [f"文件自身不一致：{m}" for m in involving(found, cited)]
        return replace(ans, notes=(*ans.notes, *notes)) if notes else ans

    def findings(self, doc: str) -> list[Finding]:
        """The document checked against itself (`budgetqa audit`), computed once per loaded index."""
        if doc not in self._findings:
            catalog = self._load()[0]
            self._findings[doc] = audit(catalog.facts.get(doc, []))
        return self._findings[doc]

    def audit_all(self) -> dict[str, list[Finding]]:
        """Findings of every indexed document, by document name."""
        catalog = self._load()[0]
        return {doc: self.findings(doc) for doc in catalog.docs}

    def ask_stream(self, question: str, *, unit: str | None = None, year: int | None = None,
                   history: Sequence[Turn] = (), qid: str | None = None) -> Iterator[str | Answer]:
        """The LLM's text chunks as they come, then the checked Answer to show (only that without an LLM)."""
        self._load()
        if self._llm is None:
            yield self.ask(question, unit=unit, year=year, history=history, qid=qid)
            return
        start = time.perf_counter()
        try:
            drafted = self._drafter.invoke(Request(question, unit, year, tuple(history)))
            parts = self._llm.stream(drafted, finalize(drafted))
        except BadQuestion as exc:
            parts = iter([Answer(question=question or "", status="error", answer=str(exc))])
        for part in parts:
            if isinstance(part, Answer):
                ms = int((time.perf_counter() - start) * 1000)
                part = _titled(Answer(**{**part.__dict__, "id": qid, "latency_ms": ms}), self._load()[0])
            yield part

    def verify(self, claim: str, qid: str | None = None) -> Check:
        """Each figure of the claim against the fact with the identity the claim gives it (budgetqa.check.verify)."""
        catalog, understander, _ = self._load()
        check = verify_claim(claim, catalog, understander, self._drafter, qid)
        figures = tuple(replace(c, citations=_titles(c.citations, catalog)) for c in check.figures)
        return replace(check, figures=figures)

    def _search(self, text: str, target: Any) -> list[Passage]:
        """Passages from the hybrid retriever, when it is available; [] otherwise."""
        try:
            if self._retriever is None:
                from budgetqa.answer.retrieve import HybridRetriever  # type: ignore[import-not-found]
                from budgetqa.index.store.ingest import open_store

                # The dense side only where `budgetqa index` built it (BUDGETQA_DENSE on): the first text
                # question then loads the embedding model once; facts answer every numeric question.
                self._retriever = HybridRetriever(self.settings, open_store(self.settings))
            hits = self._retriever.search(text, 3, unit=target.ref.name, year=target.year, chunk_type="text")
        except Exception:  # the retriever is an optional helper for text questions
            return []
        out = []
        for h in hits or []:
            meta = getattr(h, "metadata", {}) or {}
            body = getattr(h, "page_content", "") or getattr(h, "text", "")
            head, _, rest = body.partition("\n")
            body = rest if " | " in head and rest else body  # the chunk's heading line (unit | path)
            out.append(Passage(meta.get("doc", ""), meta.get("section", "") or meta.get("title", ""), body,
                               meta.get("page")))
        return out


def _llm_answerer(settings: Settings, catalog: Catalog, model: Any) -> LLMAnswerer | None:
    """The optional LLM step; its module (langchain prompts and parsers) is imported only when a model
    is given or configured, so a deterministic `budgetqa ask` never pays for it at start-up."""
    if model is None and not settings.llm_enabled:
        return None
    from budgetqa.check.llm import make_answerer

    return make_answerer(settings, catalog, model)


def _titles(citations: Sequence[Citation], catalog: Catalog) -> tuple[Citation, ...]:
    """Each citation named by its document's own title (the answer stages know facts, not documents)."""
    out = []
    for c in citations:
        meta = catalog.docs.get(c.doc)
        out.append(replace(c, title=meta.title) if meta is not None and meta.title and not c.title else c)
    return tuple(out)


def _titled(answer: Answer, catalog: Catalog) -> Answer:
    return replace(answer, citations=_titles(answer.citations, catalog)) if answer.citations else answer


def _default_source(settings: Settings) -> FactSource:
    """The fact store under BUDGETQA_HOME (indexing the bundled corpus on first use)."""
    try:
        from budgetqa.index.store.ingest import ensure_index, open_store
    except ImportError:
        return _bundled_memory_source()
    ensure_index(settings)
    return open_store(settings)


def _bundled_memory_source() -> MemorySource:
    from budgetqa.index.extract.facts import extract_facts
    from budgetqa.index.read.readers import read_document
    from budgetqa.index.store.ingest import default_corpus

    pairs = []
    for p in default_corpus():
        doc = read_document(p)
        pairs.append((doc, extract_facts(doc)))
    return MemorySource(pairs)


def _phrase_matcher(settings: Settings) -> Any:
    """Item words by meaning (item_match.PhraseMatcher) where embeddings are in use (BUDGETQA_DENSE=1);
    with dense retrieval off nothing loads the model, and unknown words stay not found."""
    return _LazyPhraseMatcher(settings) if settings.dense else None


class _LazyPhraseMatcher:
    """item_match.PhraseMatcher, imported and built at its first question: its modules (langchain
    embeddings, the model loader) cost a new process ~1 s, and most questions never reach it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._matcher: Any = None
        self._lock = threading.Lock()

    WARM_WORDS = "招待客人花的钱"  # words the vocabulary lacks: one query embedding, like a question's

    def _built(self) -> Any:
        with self._lock:
            if self._matcher is None:
                from budgetqa.understand.item_match import PhraseMatcher, get_item_matcher
                from budgetqa.understand.understander import load_vocabulary

                self._matcher = PhraseMatcher(get_item_matcher(self._settings), sorted(load_vocabulary().items))
            return self._matcher

    def warm(self) -> None:
        """Import, load the model, stack the phrases' vectors and embed one query."""
        self._built()(self.WARM_WORDS)

    def __call__(self, words: str) -> str | None:
        found: str | None = self._built()(words)
        return found
