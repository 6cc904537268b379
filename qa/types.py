"""The answer-side data: what `ask` and `verify` return (CONTRACT.md's answer object)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["answered", "not_found", "error"]
Verdict = Literal["supported", "contradicted", "unverifiable"]


@dataclass(frozen=True)
class Citation:
    doc: str
    unit: str
    year: int | None
    kind: str | None
    section: str
    table: str
    row: str
    page: int | None
    quote: str
    column: str = ""
    value: str = ""
    measure: str = ""
    title: str = ""  # the document's own name ("福州市医疗保障局2024年部门预算"), shown before the file name


def doc_title(c: Citation) -> str:
    """The cited document's own name; built from unit, year and kind where the index has none."""
    if c.title:
        return c.title
    return f"{c.unit}{f'{c.year}年' if c.year else ''}{c.kind or ''}"


@dataclass(frozen=True)
class Value:
    value: float
    measure: str
    verified: bool


@dataclass(frozen=True)
class Answer:
    question: str
    status: Status
    answer: str
    values: tuple[Value, ...] = ()
    citations: tuple[Citation, ...] = ()
    id: str | None = None
    latency_ms: int = 0
    notes: tuple[str, ...] = ()  # e.g. "生成的回答未通过数字核对，已改用确定性回答"
    candidates: tuple[str, ...] = ()  # units the question may mean, when ambiguous
    unit: str | None = None  # the unit answered for (follow-up questions keep it)

    @property
    def verified(self) -> bool:
        return bool(self.values) and all(v.verified for v in self.values)

    def to_json(self) -> dict[str, Any]:
        """The CONTRACT.md answer object."""
        out: dict[str, Any] = {"id": self.id, "question": self.question, "status": self.status,
                               "answer": self.answer,
                               "values": [asdict(v) for v in self.values],
                               "citations": [_citation_json(c) for c in self.citations],
                               "latency_ms": self.latency_ms}
        if self.notes:
            out["notes"] = list(self.notes)
        if self.candidates:
            out["candidates"] = list(self.candidates)
        return out


def _citation_json(c: Citation) -> dict[str, Any]:
    keys = ("doc", "unit", "year", "kind", "section", "table", "row", "page", "quote")
    return {"title": doc_title(c), **{k: getattr(c, k) for k in keys}}


@dataclass(frozen=True)
class FigureCheck:
    value: float
    measure: str
    verified: bool
    expected: str | None = None  # the documents' figure, e.g. "5.00万元", when they differ
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Check:
    claim: str
    verdict: Verdict
    figures: tuple[FigureCheck, ...] = field(default_factory=tuple)
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"claim": self.claim, "verdict": self.verdict,
                               "figures": [{"value": f.value, "measure": f.measure, "verified": f.verified,
                                            "expected": f.expected,
                                            "citations": [_citation_json(c) for c in f.citations]}
                                           for f in self.figures]}
        if self.id is not None:
            out["id"] = self.id
        return out
