"""Checker benchmark (a script, never a timed test):

    python -m budgetqa.eval.bench_verify [--per-doc N] [--seeds-only]

Builds claims mechanically from the facts of the 12 known documents (budgetqa.eval.claims: true
claims in several phrasings; item, year, unit, column and measure swaps), verifies each with
`Engine.verify` over an in-memory corpus of those documents, and prints the verdicts per kind, the
share of true claims supported, the swaps supported (must be 0) and claims checked per second.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from budgetqa.catalog import MemorySource
from budgetqa.config import load_settings, set_offline_env
from budgetqa.eval.bench_ask import EXTRA_CANDIDATES, renderings
from budgetqa.eval.claims import column_claims, make_claims

REPO = Path(__file__).resolve().parent.parent


def documents(seeds_only: bool) -> list[Path]:
    paths = sorted(p for p in (REPO / "index" / "corpus").iterdir() if p.is_file())
    if not seeds_only:
        for extra in EXTRA_CANDIDATES:
            if extra.is_dir():
                paths += renderings(extra)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-doc", type=int, default=8, help="facts sampled per document")
    parser.add_argument("--seeds-only", action="store_true")
    args = parser.parse_args()
    set_offline_env()
    from budgetqa.app.pipeline import Engine
    from budgetqa.index.extract.facts import extract_facts
    from budgetqa.index.read.readers import read_document

    docs = [read_document(p) for p in documents(args.seeds_only)]
    pairs = [(d, extract_facts(d)) for d in docs]
    engine = Engine(load_settings(home=tempfile.mkdtemp(prefix="bench-verify-")), source=MemorySource(pairs))
    claims = make_claims(pairs, per_doc=args.per_doc) + column_claims(pairs)
    engine.verify(claims[0].text)  # load the indices outside the timing
    verdicts: Counter[tuple[str, str]] = Counter()
    wrong = []
    start = time.perf_counter()
    for c in claims:
        v: str = engine.verify(c.text).verdict
        verdicts[(c.kind, v)] += 1
        if (c.kind == "true") != (v == "supported"):
            wrong.append(f"  {c.kind:8} {v:13} {c.text}")
    elapsed = time.perf_counter() - start
    print(f"{len(docs)} documents, {len(claims)} claims")
    for (kind, v), n in sorted(verdicts.items()):
        print(f"  {kind:8} {v:13} {n}")
    true = sum(n for (k, _), n in verdicts.items() if k == "true")
    ok = verdicts[("true", "supported")]
    swaps = sum(n for (k, v), n in verdicts.items() if k != "true" and v == "supported")
    print(f"true claims supported: {ok}/{true} = {ok / max(true, 1):.3f} (target ≥ 0.85)")
    print(f"swapped claims supported: {swaps} (target 0)")
    print(f"claims checked per second: {len(claims) / elapsed:.1f} ({elapsed * 1000 / len(claims):.0f} ms each)")
    if wrong:
        print("not as expected:")
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
