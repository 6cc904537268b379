"""Parsing speed: read + assemble (+ fact extraction) of the known documents.

    python -m budgetqa.eval.bench_parse [--shared DIR] [--no-facts]

Parses the 5 bundled seeds and the 7 text renderings in corpus-extra (the "12 documents"), then
separately the 7 PDFs, and prints per document: pages, seconds, pages/s and facts; then totals
and peak memory (tracemalloc peak of Python allocations, and the process's max RSS).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "index" / "corpus"
RENDERINGS = (".txt", ".md", ".html")


@dataclass(frozen=True)
class Timing:
    name: str
    pages: int | None
    seconds: float
    facts: int


def documents(shared: Path) -> tuple[list[Path], list[Path]]:
    extra = shared / "corpus-extra"
    renderings = sorted(p for p in extra.glob("*") if p.suffix in RENDERINGS and p.with_suffix(".pdf").is_file())
    texts = sorted(CORPUS.glob("*.txt")) + renderings
    return texts, sorted(extra.glob("*.pdf"))


def parse(path: Path, facts: bool) -> Timing:
    from budgetqa.index.read.readers import read_document

    start = time.perf_counter()
    doc = read_document(path)
    n = 0
    if facts:
        from budgetqa.index.extract.facts import extract_facts

        n = len(extract_facts(doc))
    return Timing(path.name, doc.pages, time.perf_counter() - start, n)


def run(paths: list[Path], label: str, facts: bool) -> float:
    print(f"\n== {label}: {len(paths)} documents")
    total = 0.0
    pages = 0
    for path in paths:
        t = parse(path, facts)
        total += t.seconds
        pages += t.pages or 0
        rate = f"{(t.pages or 0) / t.seconds:7.1f}" if t.pages else "      -"
        print(f"{t.seconds:7.2f} s  {t.pages or '-':>4} pp  {rate} pp/s  {t.facts:6d} facts  {t.name}")
    speed = pages / total if total else 0.0
    print(f"total {total:.2f} s for {pages} pages ({speed:.1f} pages/s, {total / max(len(paths), 1):.2f} s/document)")
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--no-facts", action="store_true", help="time reading and assembling only")
    ap.add_argument("--trace", action="store_true", help="also trace Python allocations (slows parsing ~2x)")
    args = ap.parse_args(argv)
    texts, pdfs = documents(args.shared)
    if not texts:
        print(f"no documents under {CORPUS} or {args.shared}", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    import budgetqa.index.read.assemble  # noqa: F401 - import time is reported apart from parsing
    import pymupdf  # noqa: F401

    print(f"imports {time.perf_counter() - t0:.2f} s")
    if args.trace:
        tracemalloc.start()
    run(texts, "text documents (seeds + renderings)", not args.no_facts)
    rss_text = _rss_mib()
    peak_text = tracemalloc.get_traced_memory()[1] if args.trace else 0
    tracemalloc.reset_peak()
    run(pdfs, "PDF documents", not args.no_facts)
    peak_pdf = tracemalloc.get_traced_memory()[1] if args.trace else 0
    print(f"\nmax RSS after text documents {rss_text:.0f} MiB, after PDFs {_rss_mib():.0f} MiB")
    if args.trace:
        tracemalloc.stop()
        print(f"peak traced Python memory: text {peak_text / 2**20:.1f} MiB, PDF {peak_pdf / 2**20:.1f} MiB")
    return 0


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    raise SystemExit(main())
