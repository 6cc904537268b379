"""Benchmark: `budgetqa audit` over every known document, and how many planted errors it finds.

    python -m budgetqa.eval.bench_audit [--plant N] [--seed S]

First, per document (seeds + corpus-extra renderings, parsed in memory): facts, findings on the
unchanged document and audit time. Then, with --plant, N single changes per seed and kind, each
into a fresh copy: a table cell (money, non-zero) or a narrative figure raised by about 10 %; a
change counts as found when the copy raises more findings than the original.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from budgetqa.check.audit import audit
from budgetqa.eval.bench_ask import EXTRA_CANDIDATES
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.model import Fact, parse_number
from budgetqa.index.read.readers import read_document

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"


def known_documents() -> list[Path]:
    extra = EXTRA_CANDIDATES[0]
    texts = sorted(p for p in extra.glob("*") if p.suffix in (".txt", ".md", ".html") and p.name != "SOURCES.md") \
        if extra.is_dir() else []
    return sorted(CORPUS.glob("*.txt")) + texts


def timing() -> None:
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


def _raised(value: str) -> str:
    n = parse_number(value) or Decimal(0)
    if "." in value:
        return f"{n + (n / 10 if n > 10 else 1):.{len(value.split('.')[1])}f}"
    return str(int(n) + max(1, int(n) // 10))


def _plant(text: str, fact: Fact) -> str | None:
    """The text with this fact's printed figure raised, at the place it was read from."""
    value = fact.value.strip()
    at = text.find(fact.quote) if fact.source == "table" else text.find(fact.quote[:20])
    if at < 0 or (fact.source == "table" and text.count(fact.quote) != 1):
        return None
    k = text.find(value, at)
    return None if k < 0 else text[:k] + _raised(value) + text[k + len(value):]


def planted(n: int, seed: int) -> None:
    rng = random.Random(seed)
    found: dict[str, list[int]] = {"table": [0, 0], "text": [0, 0]}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(CORPUS.glob("*.txt")):
            text = path.read_text(encoding="utf-8")
            facts = extract_facts(read_document(path))
            before = len(audit(facts))
            for source in ("table", "text"):
                pool = [f for f in facts if f.source == source and f.measure in ("万元", "元")
                        and (parse_number(f.value) or 0) > 0]
                for fact in rng.sample(pool, min(n, len(pool))):
                    changed = _plant(text, fact)
                    if changed is None:
                        continue
                    copy = Path(tmp) / path.name
                    copy.write_text(changed, encoding="utf-8")
                    hit = len(audit(extract_facts(read_document(copy)))) > before
                    found[source][0] += int(hit)
                    found[source][1] += 1
    for source, (count, total) in found.items():
        print(f"planted {source} changes found: {count}/{total} = {count / max(total, 1):.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plant", type=int, default=0, help="changes per seed and kind (0: timing only)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    timing()
    if args.plant:
        planted(args.plant, args.seed)


if __name__ == "__main__":
    main()
