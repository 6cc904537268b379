"""The answer chain as a LangChain LCEL pipeline: understand -> answer -> check -> Answer.

Each stage is a plain function over frozen data; LCEL only wires them, so the chain runs the same
offline (deterministic answerer) and stays easy to test stage by stage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from budgetqa.answer import Draft, answer, template
from budgetqa.catalog import Catalog
from budgetqa.check import check_bound, cite
from budgetqa.types import Answer, Citation, Value
from budgetqa.understand import Query, Understander
from langchain_core.runnables import Runnable, RunnableLambda


@dataclass(frozen=True)
class Request:
    question: str
    unit: str | None = None
    year: int | None = None
    history: Sequence[Any] = ()


@dataclass(frozen=True)
class _Understood:
    request: Request
    query: Query


@dataclass(frozen=True)
class _Drafted:
    request: Request
    query: Query
    draft: Draft


Drafted = _Drafted  # public name for the optional LLM step (budgetqa.llm)
Refine = Callable[[_Drafted, Answer], Answer]


def build_draft(catalog: Catalog, understander: Understander, search: object = None) -> Runnable[Request, _Drafted]:
    """The deterministic stages up to the draft (the LLM step streams from here)."""
    def understand(r: Request) -> _Understood:
        return _Understood(r, understander.understand(r.question, unit=r.unit, year=r.year, history=r.history))

    def draft(u: _Understood) -> _Drafted:
        return _Drafted(u.request, u.query, answer(u.query, catalog, search))

    return RunnableLambda(understand) | RunnableLambda(draft)


def build_chain(catalog: Catalog, understander: Understander, search: object = None,
                refine: Refine | None = None) -> Runnable[Request, Answer]:
    """`refine` (the optional LLM step) sees the draft and the checked deterministic Answer."""
    drafted = build_draft(catalog, understander, search)
    if refine is None:
        return drafted | RunnableLambda(finalize)
    return drafted | RunnableLambda(lambda d: refine(d, finalize(d)))


def finalize(d: _Drafted) -> Answer:
    """Check every figure of the sentence against the facts bound to the question (each figure against
    the item it is written under); flag what does not check."""
    draft = d.draft
    checks = check_bound(draft.text, draft.facts, draft.derived, pool=draft.pool)
    text = draft.text
    unverified = [f"{c.value:g}{c.measure}" for c in checks if not c.verified]
    if unverified and draft.status == "answered":
        text += template("unverified").format(figures="、".join(unverified))
    citations = _citations(draft)
    notes = tuple(d.query.notes) + draft.notes
    return Answer(question=d.request.question, status=draft.status, answer=text,  # type: ignore[arg-type]
                  values=tuple(dict.fromkeys(Value(c.value, c.measure, c.verified) for c in checks)),
                  citations=citations, notes=notes, candidates=draft.candidates,
                  unit=draft.unit)


def _citations(draft: Draft) -> tuple[Citation, ...]:
    seen: dict[tuple[str, str, str, str, str], Citation] = {}
    for f in (*draft.facts, *draft.extra_citations):
        seen.setdefault((f.doc, f.table, f.row, f.column, f.value), cite(f))
    for dv in draft.derived:
        for f in dv.inputs:
            seen.setdefault((f.doc, f.table, f.row, f.column, f.value), cite(f))
    return tuple(seen.values())
