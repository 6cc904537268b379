"""Ingest under accident and attack (issue 14): name clashes, huge or slow files, the lock, non-documents."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from budgetqa.config import Settings
from budgetqa.errors import UnreadableDocument
from budgetqa.index.store import isolate
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.ingest import index_paths
from budgetqa.index.store.isolate import Limits, parse_file

FUZHOU_MEDICAL = "001_99a0e79d6e43ffbd.txt"


def _settings(tmp_path: Path, **kw: object) -> Settings:
    return Settings(home=tmp_path / "home", dense=False, **kw)  # type: ignore[arg-type]


def _two_report_txt(tmp_path: Path, seed_paths: list[Path]) -> tuple[Path, Path]:
    """Two folders, each with a `report.txt` of a different unit."""
    c1, c2 = tmp_path / "c1", tmp_path / "c2"
    c1.mkdir()
    c2.mkdir()
    shutil.copy(seed_paths[0], c1 / "report.txt")
    shutil.copy(seed_paths[1], c2 / "report.txt")
    return c1, c2


def test_same_name_files_from_two_folders_are_two_documents(tmp_path: Path, seed_paths: list[Path]) -> None:
    c1, c2 = _two_report_txt(tmp_path, seed_paths)
    settings = _settings(tmp_path)
    report = index_paths([c1, c2], settings, progress=False)

    assert report.indexed == 2 and not report.failed
    store = FactStore(settings.store_path)
    docs = {d.name: d.unit for d in store.documents()}
    assert set(docs) == {"report.txt", "c2/report.txt"}  # the second cited by its path
    assert len(set(docs.values())) == 2
    for name in docs:
        assert store.facts(doc=name), name  # neither unit's facts were lost
    # unchanged files: nothing to do, the keys stay
    again = index_paths([c1, c2], settings, progress=False)
    assert (again.indexed, again.unchanged) == (0, 2)
    assert {d.name for d in FactStore(settings.store_path).documents()} == set(docs)


def test_a_changed_file_replaces_its_own_entries_not_the_other_same_named_one(
        tmp_path: Path, seed_paths: list[Path]) -> None:
    c1, c2 = _two_report_txt(tmp_path, seed_paths)
    settings = _settings(tmp_path)
    index_paths([c1, c2], settings, progress=False)
    before = {d.name: d.unit for d in FactStore(settings.store_path).documents()}
    text = (c2 / "report.txt").read_text(encoding="utf-8")
    (c2 / "report.txt").write_text(text.replace("2、公务接待费\t5.00", "2、公务接待费\t6.25"), encoding="utf-8")

    report = index_paths([c2], settings, progress=False)

    assert (report.indexed, report.names) == (1, ("c2/report.txt",))
    store = FactStore(settings.store_path)
    assert {d.name: d.unit for d in store.documents()} == before
    quotes = {f.quote for f in store.facts(doc="c2/report.txt")}
    assert "2、公务接待费\t6.25" in quotes and "2、公务接待费\t5.00" not in quotes


def test_a_copy_of_an_indexed_file_adds_nothing(tmp_path: Path, seed_paths: list[Path]) -> None:
    settings = _settings(tmp_path)
    index_paths(seed_paths[:1], settings, progress=False)
    copy = tmp_path / "elsewhere"
    copy.mkdir()
    shutil.copy(seed_paths[0], copy / seed_paths[0].name)
    report = index_paths([copy], settings, progress=False)
    assert (report.indexed, report.unchanged) == (0, 1)
    assert len(FactStore(settings.store_path).documents()) == 1


def test_a_file_over_the_size_limit_is_refused_by_name_and_the_rest_goes_on(
        tmp_path: Path, seed_paths: list[Path]) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(seed_paths[1], folder / FUZHOU_MEDICAL)
    with (folder / "huge.txt").open("wb") as out:  # 50 MB of table-like text
        line = "2、公务接待费\t5.00\t5.00\t0.00\n".encode()
        out.write(line * (50 * 1024 * 1024 // len(line)))

    report = index_paths([folder], _settings(tmp_path), progress=False)

    assert report.names == (FUZHOU_MEDICAL,)
    reason = dict(report.failed)["huge.txt"]
    assert "文件过大" in reason and "MB" in reason


def test_a_file_over_the_time_limit_is_killed_and_the_rest_goes_on(tmp_path: Path, seed_paths: list[Path]) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    shutil.copy(seed_paths[1], folder / FUZHOU_MEDICAL)
    seed = seed_paths[1].read_text(encoding="utf-8")
    (folder / "slow.txt").write_text(seed * 150, encoding="utf-8")  # ~6 MB: tens of seconds to parse
    # 3 s: a normal file parses in well under that even on a loaded 2-core machine while the indexer
    # loads jieba's dictionary beside it (1 s was exceeded there)
    report = index_paths([folder], _settings(tmp_path, parse_timeout=3.0), progress=False)

    assert dict(report.failed).keys() == {"slow.txt"}
    assert "解析超时" in dict(report.failed)["slow.txt"]
    assert report.names == (FUZHOU_MEDICAL,)


def test_a_pdf_over_the_page_limit_is_refused(tmp_path: Path) -> None:
    import pymupdf

    pdf = pymupdf.open()
    for _ in range(5):
        pdf.new_page().insert_text((72, 72), "2024年部门预算")
    path = tmp_path / "long.pdf"
    pdf.save(path)
    with pytest.raises(UnreadableDocument, match="页数过多（5 页，上限 3 页）"):
        parse_file(path, "long.pdf", Limits(max_bytes=10**8, max_pages=3, timeout=30))


def test_parsing_runs_with_the_index_lock_released(tmp_path: Path, seed_paths: list[Path],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """While a file parses, another indexer can take the lock (to commit its own file): alone or in a batch."""
    settings = _settings(tmp_path)
    seen: list[bool] = []

    def lock_is_free() -> None:
        fd = os.open(settings.home / "index.lock", os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError when held
            fcntl.flock(fd, fcntl.LOCK_UN)
            seen.append(True)
        finally:
            os.close(fd)

    real_start, real_submit = isolate.start_parse, isolate.ParsePool.submit

    def probing(path: Path, key: str, limits: Limits, **kwargs: Any) -> isolate.ParseJob:
        lock_is_free()
        return real_start(path, key, limits, **kwargs)

    def probing_submit(pool: isolate.ParsePool, path: Path, key: str) -> None:
        lock_is_free()
        real_submit(pool, path, key)

    monkeypatch.setattr(isolate, "start_parse", probing)
    monkeypatch.setattr(isolate.ParsePool, "submit", probing_submit)
    report = index_paths(seed_paths[:2], settings, progress=False)
    assert report.indexed == 2 and seen == [True, True]
    report = index_paths(seed_paths[2:3], settings, progress=False)
    assert report.indexed == 1 and seen == [True, True, True]


def test_readme_and_office_files_in_a_folder_are_skipped_not_failed(tmp_path: Path, seed_paths: list[Path]) -> None:
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(seed_paths[1], folder / FUZHOU_MEDICAL)
    (folder / "README.md").write_text("# 说明\n\n这些文件来自各单位网站。\n", encoding="utf-8")
    (folder / "SOURCES.md").write_text("# Sources\n\n- a.pdf: from the city's website\n", encoding="utf-8")
    (folder / "table.xlsx").write_bytes(b"PK\x03\x04 spreadsheet")
    (folder / "memo.docx").write_bytes(b"PK\x03\x04 memo")

    report = index_paths([folder], _settings(tmp_path), progress=False)

    assert report.failed == ()
    assert dict(report.skipped).keys() == {"README.md", "SOURCES.md", "table.xlsx", "memo.docx"}
    assert ".xlsx" in dict(report.skipped)["table.xlsx"]
    assert "跳过：README.md" in report.summary()


def test_a_store_from_before_origins_is_upgraded_and_its_documents_adopted(tmp_path: Path,
                                                                          seed_paths: list[Path]) -> None:
    import sqlite3

    settings = _settings(tmp_path)
    index_paths(seed_paths[:2], settings, progress=False)
    conn = sqlite3.connect(settings.store_path)
    conn.execute("ALTER TABLE documents DROP COLUMN origin")  # the schema as it was
    conn.commit()
    conn.close()

    store = FactStore(settings.store_path)
    assert {s.origin for s in store.stamps()} == {""}
    report = index_paths(seed_paths[:2], settings, progress=False)
    assert (report.indexed, report.unchanged) == (0, 2)  # the same files, nothing re-parsed
    changed = tmp_path / "c" / seed_paths[1].name
    changed.parent.mkdir()
    changed.write_text(seed_paths[1].read_text(encoding="utf-8") + "\n", encoding="utf-8")
    # another folder's file of the same name and other content: a second document, not a replacement
    report = index_paths([changed], settings, progress=False)
    assert report.names == (f"c/{seed_paths[1].name}",)
    assert len(FactStore(settings.store_path).documents()) == 3
