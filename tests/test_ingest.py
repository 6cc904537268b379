"""Ingest: idempotent by sha256, a changed file replaces its entries, bad files never stop a batch."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest
from budgetqa.config import Settings
from budgetqa.index.store import ingest
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.ingest import default_corpus, ensure_index, index_paths, writer_lock
from budgetqa.index.store.vectors import VectorIndex, embedded


def _settings(tmp_path: Path, dense: bool = True) -> Settings:
    return Settings(home=tmp_path / "home", dense=dense)


def test_default_corpus_is_the_five_seeds(seed_paths: list[Path]) -> None:
    assert [p.name for p in default_corpus()] == [p.name for p in seed_paths]


def test_seeds_index_then_reindex_does_nothing(tmp_path: Path, seed_paths: list[Path]) -> None:
    settings = _settings(tmp_path)
    first = index_paths(seed_paths, settings, progress=False)
    assert (first.indexed, first.unchanged, first.failed) == (5, 0, ())
    assert first.facts > 500 and first.chunks > 500
    store = FactStore(settings.store_path)
    assert len(store.documents()) == 5
    assert {d.unit for d in store.documents()} >= {"福州市医疗保障局"}
    assert VectorIndex(settings).count() == len(embedded(store.chunks()))
    generation = store.generation

    again = index_paths([seed_paths[0].parent], settings, progress=False)  # a folder this time
    assert (again.indexed, again.unchanged, again.failed) == (0, 5, ())
    assert store.generation == generation


def test_changed_file_replaces_facts_and_chunks(tmp_path: Path, seed_paths: list[Path]) -> None:
    settings = _settings(tmp_path)
    seed = next(p for p in seed_paths if p.name.startswith("001_"))
    copy = tmp_path / "docs" / seed.name
    copy.parent.mkdir()
    shutil.copy(seed, copy)
    index_paths([copy], settings, progress=False)
    store = FactStore(settings.store_path)
    before = {f.value for f in store.facts(doc=copy.name) if f.row.endswith("公务接待费")}
    assert "5.00" in before

    text = copy.read_text(encoding="utf-8")
    assert "2、公务接待费\t5.00" in text
    copy.write_text(text.replace("2、公务接待费\t5.00", "2、公务接待费\t6.25"), encoding="utf-8")
    report = index_paths([copy], settings, progress=False)
    assert (report.indexed, report.unchanged) == (1, 0)

    after = {f.value for f in store.facts(doc=copy.name) if f.row.endswith("公务接待费")}
    assert "6.25" in after
    chunk_texts = [c.text for c in store.chunks(copy.name)]
    assert any("公务接待费 | 预算数 6.25 万元" in t for t in chunk_texts)
    vectors = VectorIndex(settings)
    stored = vectors.collection.get(where={"doc": copy.name}, include=["documents"])
    assert sorted(stored["documents"]) == sorted(c.text for c in embedded(store.chunks(copy.name)))


def test_bad_files_are_reported_and_the_rest_indexed(tmp_path: Path, seed_paths: list[Path]) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(2000))
    (folder / "readme.txt").write_text("This project is a tool. Run it with python.\n\nNothing to see here.\n",
                                       encoding="utf-8")
    shutil.copy(seed_paths[1], folder / seed_paths[1].name)
    unknown = tmp_path / "notes.docx"
    unknown.write_bytes(b"PK\x03\x04 not really a docx")
    missing = tmp_path / "gone.txt"

    report = index_paths([folder, unknown, missing], _settings(tmp_path, dense=False), progress=False)

    failed = dict(report.failed)
    skipped = dict(report.skipped)
    assert report.indexed == 1
    assert set(failed) == {"empty.txt", "broken.pdf", "gone.txt"}
    assert set(skipped) == {"readme.txt", "notes.docx"}  # not budget documents: listed, not failures
    assert "空" in failed["empty.txt"]
    assert ".docx" in skipped["notes.docx"] and "不是预算" in skipped["readme.txt"]
    assert "不存在" in failed["gone.txt"]
    assert all(reason for reason in failed.values())
    assert "失败：broken.pdf" in report.summary()


def test_a_parser_crash_is_reported_not_raised(tmp_path: Path, seed_paths: list[Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from budgetqa.index.extract import facts as extract

    real = extract.extract_facts

    def flaky(doc):  # type: ignore[no-untyped-def]
        if doc.name == seed_paths[0].name:
            raise ValueError("boom")
        return real(doc)

    monkeypatch.setattr(extract, "extract_facts", flaky)
    in_process = Settings(home=tmp_path / "home", dense=False, parse_timeout=0)  # sees the monkeypatch
    report = index_paths(seed_paths[:2], in_process, progress=False)
    assert report.indexed == 1
    assert report.failed == ((seed_paths[0].name, "解析出错（ValueError: boom）"),)


def test_vectors_interrupted_after_store_commit_are_repaired(tmp_path: Path, seed_paths: list[Path],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path)

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed")

    with monkeypatch.context() as m:
        m.setattr(VectorIndex, "replace_document", crash)
        m.setattr(VectorIndex, "sync", crash)
        with pytest.raises(RuntimeError):
            index_paths(seed_paths[:1], settings, progress=False)
    store = FactStore(settings.store_path)
    assert store.documents()  # the store committed before the vectors failed
    assert VectorIndex(settings).count() == 0

    report = index_paths(seed_paths[:1], settings, progress=False)
    assert report.unchanged == 1
    assert VectorIndex(settings).count() == len(embedded(store.chunks()))


def test_new_parsing_code_reindexes_unchanged_files(tmp_path: Path, seed_paths: list[Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(tmp_path, dense=False)
    index_paths(seed_paths[:2], settings, progress=False)
    monkeypatch.setattr(ingest, "pipeline_version", lambda: "a-newer-parser")
    report = index_paths(seed_paths[:2], settings, progress=False)
    assert (report.indexed, report.unchanged) == (2, 0)


def test_corrupt_store_is_moved_aside_and_rebuilt(tmp_path: Path, seed_paths: list[Path]) -> None:
    settings = _settings(tmp_path, dense=False)
    settings.home.mkdir(parents=True)
    settings.store_path.write_bytes(b"garbage, not sqlite" * 50)
    report = index_paths(seed_paths[:1], settings, progress=False)
    assert report.indexed == 1
    assert len(FactStore(settings.store_path).documents()) == 1
    assert list(settings.home.glob("facts.sqlite3.corrupt-*"))


def test_ensure_index_indexes_the_bundled_corpus_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    report = ensure_index(settings)
    assert report is not None and report.indexed == 5 and not report.failed
    assert ensure_index(settings) is None
    assert len(FactStore(settings.store_path).documents()) == 5


def test_writer_lock_excludes_a_second_writer(tmp_path: Path) -> None:
    with writer_lock(tmp_path):
        fd = os.open(tmp_path / "index.lock", os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(tmp_path / "index.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again
    finally:
        os.close(fd)


def test_the_worker_pool_stores_what_one_process_stores(tmp_path: Path, seed_paths: list[Path]) -> None:
    """Two pool workers (parse, extract, chunks, tokens in the workers) write the same documents, facts,
    chunks, tokens and unit-registry entries as parsing everything in this process, one file after another."""
    serial = Settings(home=tmp_path / "serial", dense=False, parse_timeout=0)
    pooled = Settings(home=tmp_path / "pooled", dense=False, index_workers=2)
    assert index_paths(seed_paths, serial, progress=False).indexed == len(seed_paths)
    assert index_paths(seed_paths, pooled, progress=False).indexed == len(seed_paths)

    def content(home: Path) -> dict[str, object]:
        store = FactStore(home / "facts.sqlite3")
        names = store.document_names()
        return {"docs": [(d.name, d.unit, d.aliases, d.subunits, d.n_facts) for d in store.documents()],
                "facts": {n: store.facts(doc=n) for n in names},
                "chunks": {n: [(c.id, c.text) for c in store.chunks(n)] for n in names},
                "tokens": store._query("SELECT id, tokens FROM chunks ORDER BY id"),
                # written in the files' order whichever worker finishes first: ties in a ranking go alike
                "order": store._query("SELECT id FROM chunks ORDER BY rowid"),
                "entries": store.unit_entries()}

    one, two = content(serial.home), content(pooled.home)
    assert one["docs"] == two["docs"] and len(one["docs"]) == len(seed_paths)  # type: ignore[arg-type]
    for key in ("facts", "chunks", "tokens", "entries", "order"):
        assert one[key] == two[key], key
