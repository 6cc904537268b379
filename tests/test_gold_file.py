"""Shape checks for the team's hand-checked gold question set (eval/gold.jsonl + eval/GOLD.md).

These do not judge the answers (score.py does that); they keep the file scoreable: every line parses,
ids are unique, each type carries what the scorer reads, and the set stays spread over all documents.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[1]
GOLD = REPO / "eval" / "gold.jsonl"
GOLD_MD = REPO / "eval" / "GOLD.md"
SEEDS = REPO / "index" / "corpus"

TYPES = {"lookup", "arith", "compare", "text", "unanswerable"}
MEASURES = {"亿元", "万元", "元", "%", "人", "人次", "个", "辆", "台", "次", "件", "家", "分", "批次", "份", "条"}
# The seven real documents of shared/corpus-extra, by file stem (the scorer's `doc` for them).
EXTRA_STEMS = {
    "xian-medical-security-bureau-2022-budget",
    "xian-health-commission-2022-final-accounts",
    "foshan-rail-transit-bureau-2019-final-accounts",
    "wuxi-petition-bureau-2025-budget",
    "changsha-public-security-bureau-2025-budget",
    "shanghai-putuo-finance-bureau-2024-final-accounts",
    "shanghai-putuo-wanli-subdistrict-2025-budget",
}
MIN_ITEMS = 200
MIN_UNANSWERABLE = 30
MIN_PER_DOCUMENT = 12


def _shared_root() -> Path:
    env = os.environ.get("BUDGETQA_SHARED")
    return Path(env) if env else Path(__file__).parents[2] / "shared"


def _items() -> list[dict[str, Any]]:
    lines = [ln for ln in GOLD.read_text(encoding="utf-8").splitlines() if ln.strip()]
    return [json.loads(ln) for ln in lines]


def _seed_prefixes() -> set[str]:
    return {p.name[:3] for p in SEEDS.glob("[0-9][0-9][0-9]_*.txt")}


def test_every_line_is_a_json_object() -> None:
    for n, line in enumerate(GOLD.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            assert isinstance(json.loads(line), dict), f"line {n} is not a JSON object"


def test_ids_unique_and_sequential_format() -> None:
    ids = [it["id"] for it in _items()]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert all(re.fullmatch(r"g\d{3}", i) for i in ids), "ids must look like g001"


def test_size_and_unanswerable_share() -> None:
    items = _items()
    assert len(items) >= MIN_ITEMS
    assert sum(it["type"] == "unanswerable" for it in items) >= MIN_UNANSWERABLE


def test_types_carry_what_the_scorer_reads() -> None:
    for it in _items():
        assert it["type"] in TYPES, it["id"]
        assert isinstance(it["q"], str) and it["q"].strip(), it["id"]
        if it["type"] == "unanswerable":
            assert not ({"values", "must", "doc", "unit"} & it.keys()), f"{it['id']}: unanswerable with an answer"
        elif it["type"] == "text":
            must = it.get("must")
            assert isinstance(must, list) and must and all(isinstance(s, str) and s for s in must), it["id"]
        else:
            assert it.get("values"), f"{it['id']}: {it['type']} without values"


def test_values_well_formed() -> None:
    for it in _items():
        for pair in it.get("values", []):
            assert isinstance(pair, list) and len(pair) == 2, it["id"]
            number, measure = pair
            assert isinstance(number, int | float) and not isinstance(number, bool), it["id"]
            assert math.isfinite(number), it["id"]
            assert measure in MEASURES, f"{it['id']}: unknown measure {measure!r}"
            if measure == "%":
                assert -1000 < number < 1000, f"{it['id']}: implausible percentage {number}"


def test_doc_and_unit_go_together() -> None:
    known = _seed_prefixes() | EXTRA_STEMS
    unit_of: dict[str, str] = {}
    for it in _items():
        if "doc" not in it:
            continue
        assert it["doc"] in known, f"{it['id']}: unknown doc {it['doc']!r}"
        assert it.get("unit"), f"{it['id']}: doc without unit"
        # One issuing unit per document, so a citation check by unit name is unambiguous.
        assert unit_of.setdefault(it["doc"], it["unit"]) == it["unit"], it["id"]


def test_every_document_covered() -> None:
    counts: dict[str, int] = {}
    for it in _items():
        if "doc" in it:
            counts[it["doc"]] = counts.get(it["doc"], 0) + 1
    expected = _seed_prefixes() | EXTRA_STEMS
    assert len(expected) == 12
    thin = {d: counts.get(d, 0) for d in expected if counts.get(d, 0) < MIN_PER_DOCUMENT}
    assert not thin, f"documents with too few questions: {thin}"


def test_extra_stems_match_shared_corpus() -> None:
    extra = _shared_root() / "corpus-extra"
    if not extra.is_dir():
        pytest.skip(f"{extra} not present")
    stems = {p.stem for p in extra.glob("*.pdf")}  # every document ships its original PDF
    assert stems == EXTRA_STEMS


def test_no_question_copied_from_dev_set() -> None:
    dev = _shared_root() / "dev_qa.jsonl"
    if not dev.is_file():
        pytest.skip(f"{dev} not present")
    dev_qs = {json.loads(ln)["q"].strip() for ln in dev.read_text(encoding="utf-8").splitlines() if ln.strip()}
    copied = [it["id"] for it in _items() if it["q"].strip() in dev_qs]
    assert not copied, f"questions equal to dev_qa.jsonl: {copied}"


def test_questions_unique() -> None:
    qs = [it["q"].strip() for it in _items()]
    assert len(qs) == len(set(qs)), "the same question appears twice"


def test_every_item_has_a_review_row() -> None:
    md = GOLD_MD.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| (g\d{3}) \|", md, flags=re.M))
    missing = [it["id"] for it in _items() if it["id"] not in rows]
    assert not missing, f"items without a GOLD.md row: {missing}"
