"""Golden facts: every hand-checked figure in tests/golden/*.json must come out of extract_facts.

Format and matching rule: tests/golden/README.md. One test per golden file, so each document
fails on its own and the message lists what is missing next to the closest extracted facts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from budgetqa.index.model import Document, Fact, parse_number

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).parents[1]
MAX_CANDIDATES = 6


def _golden_files() -> list[Path]:
    return sorted(GOLDEN.glob("*.json"))


def _shared_root() -> Path:
    env = os.environ.get("BUDGETQA_SHARED")
    return Path(env) if env else Path(__file__).parents[2] / "shared"


def _locate(spec: dict[str, Any]) -> Path | None:
    """The document named by the golden file: under ../shared, or the bundled corpus for seeds."""
    rel = spec.get("path") or spec["doc"]
    candidates = [_shared_root() / rel, REPO / "index" / "corpus" / Path(rel).name]
    return next((p for p in candidates if p.is_file()), None)


def _number(text: Any) -> Decimal | None:
    return parse_number(str(text))


def _contains(needle: Any, hay: str | None) -> bool:
    return not needle or str(needle) in (hay or "")


def _matches_table(exp: dict[str, Any], f: Fact) -> bool:
    if f.source != "table":
        return False
    if not (_contains(exp.get("table"), f.table) and _contains(exp.get("row"), f.row)
            and _contains(exp.get("column"), f.column)):
        return False
    if exp.get("code") and exp["code"] != f.code:
        return False
    if "page" in exp and exp["page"] != f.page:
        return False
    if "owner" in exp and exp["owner"] != f.owner:
        return False
    return _same_figure(exp, f)


def _matches_text(exp: dict[str, Any], f: Fact) -> bool:
    if f.source != "text":
        return False
    row = str(exp.get("row", ""))
    if row and row not in f.row and row not in f.context:
        return False
    return _same_figure(exp, f)


def _same_figure(exp: dict[str, Any], f: Fact) -> bool:
    want = _number(exp["value"])
    return want is not None and want == f.number and exp.get("measure", "") == f.measure


def _candidates(exp: dict[str, Any], facts: Iterable[Fact], source: str) -> list[Fact]:
    """Closest facts first: same row and number, then same row, then same number elsewhere."""
    row = str(exp.get("row", ""))
    want = _number(exp["value"])
    pool = [f for f in facts if f.source == source]

    def same_row(f: Fact) -> bool:
        return bool(row) and (row in f.row or bool(f.row and f.row in row) or row in f.context)

    def rank(f: Fact) -> int:
        same_number = want is not None and f.number == want
        return 0 if same_row(f) and same_number else 1 if same_row(f) else 2 if same_number else 3

    shown: dict[str, Fact] = {}
    for f in sorted(pool, key=rank):
        if rank(f) < 3:
            shown.setdefault(_show(f), f)
    return list(shown.values())[:MAX_CANDIDATES]


def _show(f: Fact) -> str:
    code = f" code={f.code}" if f.code else ""
    ctx = f" context={f.context!r}" if f.source == "text" else ""
    return (f"table={f.table!r} row={f.row!r}{code} column={f.column!r} value={f.value!r} "
            f"measure={f.measure!r} page={f.page}{ctx}")


def _report(missing: list[tuple[str, dict[str, Any], list[Fact]]], total: int) -> str:
    lines = [f"{len(missing)} of {total} golden facts not extracted:"]
    for kind, exp, near in missing:
        lines.append(f"- [{kind}] expected {json.dumps(exp, ensure_ascii=False)}")
        lines.extend(f"    near: {_show(f)}" for f in near)
        if not near:
            lines.append("    near: (no fact with this row or value)")
    return "\n".join(lines)


def _check_meta(spec: dict[str, Any], doc: Document) -> list[str]:
    problems = []
    for key in ("unit", "year", "kind"):
        if key in spec and spec[key] != getattr(doc, key):
            problems.append(f"{key}: expected {spec[key]!r}, got {getattr(doc, key)!r}")
    absent = [s for s in spec.get("subunits", []) if s not in doc.subunits]
    if absent:
        problems.append(f"subunits missing {absent}; got {list(doc.subunits)}")
    return problems


@pytest.mark.slow
@pytest.mark.parametrize("golden", _golden_files(), ids=lambda p: p.name.removesuffix(".json"))
def test_golden_document(golden: Path) -> None:
    from budgetqa.index.extract.facts import extract_facts
    from budgetqa.index.read.readers import read_document

    spec = json.loads(golden.read_text(encoding="utf-8"))
    path = _locate(spec)
    if path is None:
        pytest.skip(f"document {spec.get('path') or spec['doc']} not found under {_shared_root()}")
    doc = read_document(path)
    facts = extract_facts(doc)
    missing: list[tuple[str, dict[str, Any], list[Fact]]] = []
    for exp in spec.get("facts", []):
        if not any(_matches_table(exp, f) for f in facts):
            missing.append(("table", exp, _candidates(exp, facts, "table")))
    for exp in spec.get("narrative", []):
        if not any(_matches_text(exp, f) for f in facts):
            missing.append(("text", exp, _candidates(exp, facts, "text")))
    problems = _check_meta(spec, doc)
    total = len(spec.get("facts", [])) + len(spec.get("narrative", []))
    message = "\n".join(problems + ([_report(missing, total)] if missing else []))
    if problems or missing:
        pytest.fail(f"{golden.name}:\n{message}", pytrace=False)


def test_golden_files_are_well_formed() -> None:
    """A malformed golden file would silently test nothing; fail loudly instead."""
    for golden in _golden_files():
        spec = json.loads(golden.read_text(encoding="utf-8"))
        assert spec.get("doc"), f"{golden.name}: no doc"
        assert golden.name == spec["doc"] + ".json", f"{golden.name}: name must be doc + .json"
        for exp in spec.get("facts", []) + spec.get("narrative", []):
            assert _number(exp.get("value", "")) is not None, f"{golden.name}: bad value in {exp}"
            assert any(exp.get(k) for k in ("row", "code", "column")), f"{golden.name}: {exp} names no row, code or column"
