"""Benchmark: `budgetqa audit` over every known document (seeds + corpus-extra), parsed in memory.

    python -m budgetqa.eval.bench_audit

Prints per document the facts read, findings and audit time, then the total.
"""

from __future__ import annotations

import time
from pathlib import Path

from budgetqa.audit import audit
from budgetqa.eval.bench_ask import EXTRA_CANDIDATES
from budgetqa.index.extract import extract_facts
from budgetqa.index.readers import read_document

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def known_documents() -> list[Path]:
    extra = EXTRA_CANDIDATES[0]
    texts = sorted(p for p in extra.glob("*") if p.suffix in (".txt", ".md", ".html") and p.name != "SOURCES.md") if extra.is_dir() else []
    return sorted(CORPUS.glob("*.txt")) + texts


def main() -> None:
    total_facts = total_findings = 0
    total_s = 0.0
    for path in known_documents():
        facts = extract_facts(read_document(path))
        start = time.perf_counter()
        findings = audit(facts)
        spent = time.perf_counter() - start
        total_facts += len(facts)
        total_findings += len(findings)
        total_s += spent
        print(f"{path.name:60s} facts {len(facts):6d}  findings {len(findings):3d}  audit {spent * 1000:7.1f} ms")
    print(f"total: {total_facts} facts, {total_findings} findings, audit {total_s * 1000:.0f} ms "
          f"({total_facts / max(total_s, 1e-9):,.0f} facts/s)")


if __name__ == "__main__":
    main()
