"""`budgetqa eval GOLD.jsonl`: every gold question through Engine.ask, scored like score.py.

Prints accuracy by question type, citation accuracy, the share of figures the checker verified,
latency p50/p95 and every failure; the last line is `accuracy K/N = R` (as score.py prints it).
Writes answers.jsonl (the exact objects scored, so score.py can re-score them), a Markdown and an
HTML report to the report folder.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from budgetqa.eval.scoring import TYPES, GoldItem, InvalidLine, is_cited, is_correct, load_gold

if TYPE_CHECKING:
    from budgetqa.app.pipeline import Engine
    from budgetqa.config import Settings
    from budgetqa.eval.baseline import RecallResult

Echo = Callable[[str], None]


def gold_documents(gold: Path, folder: Path) -> tuple[list[Path], list[str]]:
    """The files of `folder` the gold questions name in their `doc` field (name with or without its
    suffix), and the names not found there."""
    items, _ = load_gold(gold)
    names = sorted({i.doc for i in items if i.doc})
    by_stem = {p.stem: p for p in folder.iterdir() if p.is_file()} | {p.name: p for p in folder.iterdir()}
    found = [by_stem[n] for n in names if n in by_stem]
    return found, [n for n in names if n not in by_stem]


@dataclass(frozen=True)
class ItemResult:
    item: GoldItem
    answer: dict[str, Any]
    correct: bool
    cited: bool | None
    seconds: float


@dataclass(frozen=True)
class Summary:
    gold: str
    results: tuple[ItemResult, ...]
    invalid: tuple[InvalidLine, ...]
    baseline: tuple[RecallResult, ...] = field(default=())

    @property
    def correct(self) -> int:
        return sum(r.correct for r in self.results)

    @property
    def total(self) -> int:
        return len(self.results)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def by_type(self) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for kind in TYPES:
            rows = [r for r in self.results if r.item.type == kind]
            if rows:
                out[kind] = (sum(r.correct for r in rows), len(rows))
        return out

    def citations(self) -> tuple[int, int]:
        counted = [r.cited for r in self.results if r.cited is not None]
        return sum(counted), len(counted)

    def figures_verified(self) -> tuple[int, int]:
        """Figures in answered answers that the numeric checker matched to the extracted facts."""
        values = [v for r in self.results if r.answer.get("status") == "answered"
                  for v in r.answer.get("values") or []]
        return sum(bool(v.get("verified")) for v in values), len(values)

    def latencies_ms(self) -> list[float]:
        return [r.seconds * 1000 for r in self.results if r.answer.get("status") != "error"]

    def failures(self) -> list[ItemResult]:
        return [r for r in self.results if not r.correct]


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def ask_all(engine: Engine, items: Sequence[GoldItem]) -> list[ItemResult]:
    return [ask_one(engine, item) for item in items]


def ask_one(engine: Engine, item: GoldItem) -> ItemResult:
    """Same path as `budgetqa ask`; an exception is recorded as an error answer, the run goes on."""
    from budgetqa.errors import BudgetQAError

    start = time.perf_counter()
    try:
        answer = engine.ask(item.q, qid=item.id).to_json()
    except BudgetQAError as exc:
        answer = _error(item, str(exc))
    except Exception as exc:  # noqa: BLE001 — one crash is one failed item, not a failed run
        answer = _error(item, f"内部错误：{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    answer["id"] = item.id
    return ItemResult(item, answer, is_correct(item, answer), is_cited(item, answer), seconds)


def _error(item: GoldItem, message: str) -> dict[str, Any]:
    return {"id": item.id, "question": item.q, "status": "error", "answer": message,
            "values": [], "citations": [], "latency_ms": 0}


def run_eval(gold: Path, settings: Settings, *, engine: Engine | None = None,
             report_dir: Path | None = None, baseline: str | None = None,
             corpus: Sequence[Path] = (), echo: Echo = print) -> Summary:
    """Ask every valid gold question; `corpus` (files/folders) is what the baseline reads."""
    items, invalid = load_gold(gold)
    if engine is None:
        from budgetqa.app.pipeline import Engine
        from budgetqa.index.store.ingest import ensure_index

        ensure_index(settings)
        engine = Engine(settings)
    results = ask_all(engine, items)
    recall: tuple[RecallResult, ...] = ()
    if baseline == "naive":
        from budgetqa.eval.baseline import compare_retrieval

        recall = tuple(compare_retrieval(items, settings, results, corpus, echo=echo))
    summary = Summary(str(gold), tuple(results), tuple(invalid), recall)
    if report_dir is not None:
        from budgetqa.eval.report import write_report

        paths = write_report(summary, report_dir)
        echo("报告：" + "，".join(str(p) for p in paths))
    for line in summary_lines(summary):
        echo(line)
    return summary


def write_answers(results: Sequence[ItemResult], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for r in results:
            out.write(json.dumps(r.answer, ensure_ascii=False) + "\n")
    return path


def summary_lines(summary: Summary) -> list[str]:
    """The console summary; failures first, the accuracy line last (like score.py)."""
    lines = []
    for bad in summary.invalid:
        lines.append(f"INVALID 第 {bad.line} 行{f' ({bad.id})' if bad.id else ''}：{bad.reason}")
    for r in summary.failures():
        lines.append(f"FAIL {r.item.id} [{r.item.type}] {r.item.q}\n"
                     f"     期望：{r.item.expected_text()}\n"
                     f"     回答：status={r.answer.get('status')} {str(r.answer.get('answer') or '')[:200]}")
    lines.append("by type: " + ", ".join(f"{k} {c}/{n}" for k, (c, n) in summary.by_type().items()))
    cited, cite_total = summary.citations()
    if cite_total:
        lines.append(f"citation names the right document: {cited}/{cite_total} = {cited / cite_total:.3f}")
    verified, figures = summary.figures_verified()
    if figures:
        lines.append(f"figures verified by the checker: {verified}/{figures} = {verified / figures:.3f}")
    lat = summary.latencies_ms()
    lines.append(f"latency p50 {percentile(lat, 50):.0f} ms, p95 {percentile(lat, 95):.0f} ms")
    lines.extend(baseline_lines(summary))
    if summary.invalid:
        lines.append(f"invalid gold lines: {len(summary.invalid)}")
    lines.append(f"accuracy {summary.correct}/{summary.total} = {summary.accuracy:.3f}")
    return lines


def baseline_lines(summary: Summary) -> list[str]:
    return [f"retrieval recall@5 {r.system}: {r.hits}/{r.total} = {r.recall:.3f}"
            + (f", answer accuracy {r.accuracy:.3f}" if r.accuracy is not None else "")
            for r in summary.baseline]
