"""Unit resolution over gold questions: does each question resolve to the unit the gold names?

usage: python -m budgetqa.eval.bench_units GOLD.jsonl [GOLD.jsonl ...] [--expect FILE.json] [-v]

A gold row's `unit` is what the question must resolve to (本级/汇总 in brackets ignored: the department
and its 本级 are one subject). Rows without a unit (compare, unanswerable) take their expectation from
--expect: a JSON object id -> list of unit names, or "not_found" for a unit the corpus does not hold,
or "any" (a known unit, named but not the point of the row). Uses the index in BUDGETQA_HOME.
Prints per-question misses and the accuracy; no figure here is asserted by a test.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

from budgetqa.catalog import Catalog
from budgetqa.config import load_settings
from budgetqa.index.store.ingest import open_store
from budgetqa.understand.understander import Understander

_BRACKET = re.compile(r"[（(](?:本级|汇总|部门|单位)[）)]")


def bare(name: str) -> str:
    return _BRACKET.sub("", name or "").replace(" ", "")


def resolve(u: Understander, question: str) -> tuple[list[str], bool]:
    """Units the question's words resolve to (in order, de-duplicated; none named = every unit) and whether
    it names a unit the corpus lacks. Years are not looked at: a year the unit lacks is another matter."""
    mentions, foreign = u.matcher.find(question)
    names = list(dict.fromkeys(bare(r.name) for m in mentions for r in m.refs))
    if not mentions and not foreign:
        names = [bare(r.name) for r in u.matcher.refs if not r.subunit]
    return names, bool(foreign)


def judge(expected: object, names: list[str], not_found: bool, every: int) -> bool:
    if expected == "not_found":
        return not_found and not names
    if not_found or not names or len(names) >= min(every, 6):
        return False  # a list of every unit is not a resolution
    if expected == "any":
        return True
    want = [bare(str(e)) for e in (expected if isinstance(expected, list) else [expected])]
    return all(w in names for w in want) and len(names) <= len(want) + 1


def self_check(u: Understander, verbose: bool) -> None:
    """Each unit asked by its shortest own form with a place ("西安安监局的公务接待费"): does it come back first?"""
    ok = total = 0
    owners: dict[str, set[str]] = {}
    for ref in u.matcher.refs:
        for v in u.matcher._variants[ref.name]:
            owners.setdefault(v.text, set()).add(ref.name)
    for ref in u.matcher.refs:
        forms = [v.text for v in u.matcher._variants[ref.name] if not v.generic and owners[v.text] == {ref.name}]
        if not forms:
            continue
        form = min(forms, key=len)  # the shortest form with a place that no other unit shares
        mentions, foreign = u.matcher.find(form + "的公务接待费是多少")
        got = [r.name for m in mentions for r in m.refs]
        good = got[:1] == [ref.name] and not foreign
        total += 1
        ok += good
        if not good or verbose:
            print(f"{'ok ' if good else 'MISS'} self {form} -> {'、'.join(got[:3]) or foreign}  want={ref.name}")
    print(f"registry self-resolution (shortest placed form): {ok}/{total} = {ok / max(total, 1):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("gold", nargs="*")
    ap.add_argument("--self", dest="self_check", action="store_true",
                    help="also ask every unit of the registry by its shortest placed form")
    ap.add_argument("--expect", default="")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()
    expect = json.loads(Path(args.expect).read_text(encoding="utf-8")) if args.expect else {}
    settings = load_settings()
    u = Understander(Catalog(open_store(settings)))  # the configured backend (SQLite or PostgreSQL)
    every = len({r.name for r in u.matcher.refs if not r.subunit})
    print(f"registry: {len(u.matcher.refs)} units ({every} with their own document)")
    took: list[float] = []
    if args.self_check:
        self_check(u, args.v)
    for path in args.gold:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
        ok = total = 0
        for r in rows:
            expected = r.get("unit") or expect.get(r["id"])
            if expected is None:
                continue
            total += 1
            t0 = time.perf_counter()
            names, nf = resolve(u, r["q"])
            took.append((time.perf_counter() - t0) * 1000)
            good = judge(expected, names, nf, every)
            ok += good
            if not good or args.v:
                shown = "not_found" if nf else "、".join(names[:4]) + ("…" if len(names) > 4 else "")
                print(f"{'ok ' if good else 'MISS'} {r['id']} {r['q']}  want={expected}  got={shown}")
        print(f"{Path(path).name}: unit resolution {ok}/{total} = {ok / max(total, 1):.3f}")
    if took:
        p95 = statistics.quantiles(took, n=20)[-1] if len(took) > 1 else took[0]
        print(f"UnitMatcher.find: median {statistics.median(took):.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
