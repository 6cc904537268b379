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
    return {k: getattr(c, k) for k in keys}


@dataclass(frozen=True)
class FigureCheck:
    value: float
    measure: str
    verified: bool
    expected: str | None = None  # the documents' figure, e.g. "5.00万元", when they differ
    citations: tuple[Citation, ...] = ()
    # what the figure was checked against: "福州市医疗保障局 · 2024 · 预算 · “三公”经费表 · 因公出国(境)费用 · 预算数 = 0.00万元"
    identity: str = ""
    reason: str = ""  # why it could not be checked (unverifiable), in Chinese


@dataclass(frozen=True)
class Check:
    claim: str
    verdict: Verdict
    figures: tuple[FigureCheck, ...] = field(default_factory=tuple)
    id: str | None = None
    reason: str = ""  # why the claim as a whole could not be checked (no figure, empty corpus)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"claim": self.claim, "verdict": self.verdict,
                               "figures": [_figure_json(f) for f in self.figures]}
        if self.reason:
            out["reason"] = self.reason
        if self.id is not None:
            out["id"] = self.id
        return out


def _figure_json(f: FigureCheck) -> dict[str, Any]:
    out: dict[str, Any] = {"value": f.value, "measure": f.measure, "verified": f.verified, "expected": f.expected,
                           "citations": [_citation_json(c) for c in f.citations], "identity": f.identity}
    if f.reason:
        out["reason"] = f.reason
    return out
