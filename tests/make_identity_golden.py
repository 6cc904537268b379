"""Write tests/golden/identity/<doc>.json from the current code: every table's role, and a few facts
per table with their identity. Run, then CHECK EVERY ENTRY BY HAND before committing: a wrong role
or item in a golden file is a bug, not a baseline.

    python -m tests.make_identity_golden [DOC ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.extract.identity import identity_of, table_role

from tests.docs import load
from tests.paths import CORPUS

OUT = Path(__file__).parent / "golden" / "identity"
EXTRA_DOCS = ("changsha-public-security-bureau-2025-budget.txt", "foshan-rail-transit-bureau-2019-final-accounts.txt",
              "shanghai-putuo-finance-bureau-2024-final-accounts.html",
              "shanghai-putuo-wanli-subdistrict-2025-budget.txt", "wuxi-petition-bureau-2025-budget.txt",
              "xian-health-commission-2022-final-accounts.txt", "xian-medical-security-bureau-2022-budget.md")
PER_TABLE = 3


def known_docs() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file()) + list(EXTRA_DOCS)


def golden(name: str) -> dict:
    doc = load(name)
    facts = extract_facts(doc)
    tables = [{"title": t.title, "section": t.section, "role": table_role(t.title, t.section)} for t in doc.tables]
    samples = []
    for t in dict.fromkeys(t.title for t in doc.tables):
        of_table = [f for f in facts if f.table == t and f.source == "table"]
        picked = of_table[:PER_TABLE - 1] + [f for f in of_table if f.code][:1]
        for f in dict.fromkeys(picked):
            i = identity_of(f, doc.subunits)
            samples.append({"table": f.table, "row": f.row, "column": f.column, "value": f.value,
                            "identity": {"role": i.role, "subunit": i.subunit, "item": i.item, "code": i.code,
                                         "column": i.column, "measure": i.measure}})
    return {"doc": name, "unit": doc.unit, "year": doc.year, "kind": doc.kind, "tables": tables, "facts": samples}


def main(names: list[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in names or known_docs():
        (OUT / f"{name}.json").write_text(json.dumps(golden(name), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
