"""The one place that wires the stages: parse -> extract -> index -> retrieve -> answer -> check.

The CLI, the web page and the evaluation harness only talk to `Engine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from budgetqa.config import Settings
from budgetqa.types import Answer, Check


@dataclass(frozen=True)
class Turn:
    """A previous exchange, so a follow-up ("那差旅费呢？") keeps the unit and year."""

    question: str
    unit: str | None
    year: int | None


class Engine:
    """Owns the fact store, the retrievers and the answer chain. Thread-safe for concurrent `ask`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def ask(self, question: str, *, unit: str | None = None, year: int | None = None,
            history: Sequence[Turn] = (), qid: str | None = None) -> Answer:
        raise NotImplementedError  # filled by the answering stage

    def verify(self, claim: str, qid: str | None = None) -> Check:
        raise NotImplementedError
