"""The answer chain as a LangChain LCEL pipeline: understand -> answer -> check -> Answer.

Each stage is a plain function over frozen data; LCEL only wires them, so the chain runs the same
offline (deterministic answerer) and stays easy to test stage by stage. The deterministic path only
ever calls `invoke`, so a `Stage` runs its function directly and builds the LCEL Runnable only when
something composes or streams it (the optional LLM step): importing langchain_core.runnables costs a
new process 1.5-3 s, most of a cold `budgetqa ask` (measured with python -X importtime).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from budgetqa.answer.answerer import Draft, answer, template
from budgetqa.catalog import Catalog
from budgetqa.check.checker import check_bound, cite
from budgetqa.types import Answer, Citation, Value
from budgetqa.understand.understander import Query, Understander

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

In = TypeVar("In")
Out = TypeVar("Out")


class Stage(Generic[In, Out]):
    """A chain step with LCEL's `invoke`; `runnable()` (and any other Runnable attribute: `|`,
    `stream`, `batch` …) is the same function as a langchain RunnableLambda, built on first use."""

    def __init__(self, fn: Callable[[In], Out]) -> None:
        self.fn = fn
        self._runnable: Runnable[In, Out] | None = None

    def invoke(self, value: In, config: Any = None) -> Out:
        return self.fn(value)

    def runnable(self) -> Runnable[In, Out]:
        if self._runnable is None:
            from langchain_core.runnables import RunnableLambda

            self._runnable = RunnableLambda(self.fn)
        return self._runnable

    def __or__(self, other: Any) -> Runnable[In, Any]:
        return self.runnable() | other

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.runnable(), name)


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


Drafted = _Drafted  # public name for the optional LLM step (budgetqa.check.llm)
Refine = Callable[[_Drafted, Answer], Answer]


def build_draft(catalog: Catalog, understander: Understander, search: object = None) -> Stage[Request, _Drafted]:
    """The deterministic stages up to the draft (the LLM step streams from here)."""
    def understand(r: Request) -> _Understood:
        return _Understood(r, understander.understand(r.question, unit=r.unit, year=r.year, history=r.history))

    def draft(u: _Understood) -> _Drafted:
        return _Drafted(u.request, u.query, answer(u.query, catalog, search))

    return Stage(lambda r: draft(understand(r)))


def build_chain(catalog: Catalog, understander: Understander, search: object = None,
                refine: Refine | None = None) -> Stage[Request, Answer]:
    """One frame per question the message asks (budgetqa.understand.frame), each understood, answered and checked
    on its own; `refine` (the optional LLM step) sees each draft and its checked deterministic Answer."""
    def checked(d: _Drafted) -> Answer:
        return finalize(d) if refine is None else refine(d, finalize(d))

    def run(r: Request) -> Answer:
        queries = understander.frames(r.question, unit=r.unit, year=r.year, history=r.history)
        answers = [checked(_Drafted(replace(r, question=text), q, answer(q, catalog, search)))
                   for text, q in queries]
        return answers[0] if len(answers) == 1 else joined(r.question, answers)

    return Stage(run)


def joined(question: str, answers: Sequence[Answer]) -> Answer:
    """The frames' answers in the question's order: answered when any frame is."""
    done = [a for a in answers if a.status == "answered"]
    status = "answered" if done else answers[0].status
    return Answer(question=question, status=status, answer=_said_once(_once("".join(a.answer for a in answers))),
                  values=tuple(dict.fromkeys(v for a in answers for v in a.values)),
                  citations=tuple(dict.fromkeys(c for a in answers for c in a.citations)),
                  notes=tuple(dict.fromkeys(n for a in answers for n in a.notes)),
                  candidates=answers[0].candidates, unit=next((a.unit for a in done if a.unit), None))


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


def _said_once(text: str) -> str:
    """A sentence a later frame repeats word for word (the figure a follow-up compares with: "…是多少？比Y多
    多少？") is said once, where it first comes."""
    out: list[str] = []
    seen: set[str] = set()
    depth, start = 0, 0
    for i, ch in enumerate(text):
        depth += (ch == "（") - (ch == "）")
        if (ch in "。）" and depth == 0) or i == len(text) - 1:
            sentence = text[start:i + 1]
            if sentence not in seen or len(sentence) <= 12:
                out.append(sentence)
            seen.add(sentence)
            start = i + 1
    return "".join(out)


def _once(text: str) -> str:
    """A bracketed note repeated by several frames ("（问题未指定年份…）") is said once, where it first comes."""
    out, seen, i = [], set(), 0
    while i < len(text):
        j = text.find("（", i)
        k = text.find("）", j) if j >= 0 else -1
        if j < 0 or k < 0:
            out.append(text[i:])
            break
        note = text[j:k + 1]
        out.append(text[i:j] if note in seen and len(note) > 12 else text[i:k + 1])
        seen.add(note)
        i = k + 1
    return "".join(out)
