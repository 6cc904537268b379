"""The folders are the stages and imports only go down them: read → extract → store → understand →
answer → check → app. A module may use its own stage, an earlier one, or the shared modules."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
STAGES = ["budgetqa.index.read", "budgetqa.index.extract", "budgetqa.index.store", "budgetqa.understand",
          "budgetqa.answer", "budgetqa.check", "budgetqa.app"]
FOLDERS = {"index/read": 0, "index/extract": 1, "index/store": 2, "qa/understand": 3, "qa/answer": 4,
           "qa/check": 5, "qa/app": 6}


def stage_of(module: str) -> int | None:
    for i, name in enumerate(STAGES):
        if module == name or module.startswith(name + "."):
            return i
    return None


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found += [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return found


def violations() -> list[str]:
    bad = []
    for folder, own in FOLDERS.items():
        for path in sorted((REPO / folder).glob("*.py")):
            for module in imports(path):
                stage = stage_of(module)
                if stage is not None and stage > own:
                    bad.append(f"{path.relative_to(REPO)} imports {module} (a later stage)")
    return bad


def test_every_stage_folder_exists() -> None:
    assert all((REPO / folder / "__init__.py").is_file() for folder in FOLDERS)


def test_imports_go_down_the_stages() -> None:
    assert violations() == []


def test_shared_modules_import_no_later_stage() -> None:
    """index/model.py sits under every stage; qa's shared modules under qa's stages (the index is below)."""
    qa_shared = [REPO / "qa" / n for n in ("config.py", "errors.py", "types.py", "catalog.py")]
    first_qa = STAGES.index("budgetqa.understand")
    bad = [f"{p.name} imports {m}" for p in qa_shared for m in imports(p) if (stage_of(m) or -1) >= first_qa]
    bad += [f"model.py imports {m}" for m in imports(REPO / "index" / "model.py") if stage_of(m) is not None]
    assert bad == []


def test_no_flat_modules_left_beside_the_stages() -> None:
    flat = {p.name for p in (REPO / "qa").glob("*.py")} | {f"index/{p.name}" for p in (REPO / "index").glob("*.py")}
    assert flat == {"__init__.py", "config.py", "errors.py", "types.py", "catalog.py", "index/__init__.py",
                    "index/model.py"}
