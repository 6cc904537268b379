"""The SQLite fact store: round trip, atomic replacement, corruption, concurrent readers."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from budgetqa.errors import IndexCorrupt
from budgetqa.index.model import Document, Fact
from budgetqa.index.store import database as store_module
from budgetqa.index.store.database import FactStore

from tests.conftest import make_tiny_doc, make_tiny_facts


def test_round_trip(tmp_path: Path, tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    store = FactStore(tmp_path / "facts.sqlite3")
    store.replace_document(tiny_doc, tiny_facts)

    assert store.facts() == tiny_facts
    assert store.facts(doc="tiny.txt", unit="测试市医疗保障局") == tiny_facts
    assert store.facts(unit="别的单位") == []
    [info] = store.documents()
    assert (info.name, info.unit, info.year, info.kind, info.n_facts) == ("tiny.txt", "测试市医疗保障局", 2024,
                                                                        "预算", len(tiny_facts))
    assert store.sha_of("tiny.txt") == tiny_doc.sha256 and store.sha_of("nope.txt") is None
    assert [s.title for s in store.sections("tiny.txt")] == [s.title for s in tiny_doc.sections]
    assert store.sections()[1].path == tiny_doc.sections[1].path
    assert store.document("tiny.txt") == tiny_doc  # tables, rows, sections all survive the trip
    rows = store.table_rows("tiny.txt", "2024年度一般公共预算“三公”经费支出预算表")
    assert [r.label for r in rows] == ["1、因公出国（境）费", "2、公务接待费", "3、公务用车购置及运行费"]


def test_store_survives_reopen(tmp_path: Path, tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    path = tmp_path / "facts.sqlite3"
    first = FactStore(path)
    first.replace_document(tiny_doc, tiny_facts)
    first.close()
    assert FactStore(path).facts() == tiny_facts


def test_replace_and_remove(tmp_path: Path) -> None:
    store = FactStore(tmp_path / "facts.sqlite3")
    old = make_tiny_doc(reception="5.00")
    other = make_tiny_doc(name="other.txt", unit="另一个单位")
    store.replace_document(old, make_tiny_facts(old))
    store.replace_document(other, make_tiny_facts(other))
    generation = store.generation

    new = make_tiny_doc(reception="7.00", sha="1" * 64)
    store.replace_document(new, make_tiny_facts(new))
    values = {f.value for f in store.facts(doc="tiny.txt") if "公务接待费" in f.row}
    assert values == {"7.00"}
    assert store.sha_of("tiny.txt") == "1" * 64
    assert len(store.facts(doc="other.txt")) == len(make_tiny_facts(other))
    assert store.generation > generation

    assert store.remove("tiny.txt") is True
    assert store.remove("tiny.txt") is False
    assert [d.name for d in store.documents()] == ["other.txt"]
    assert store.facts(doc="tiny.txt") == [] and store.chunks("tiny.txt") == []


def test_crash_inside_replace_keeps_previous_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FactStore(tmp_path / "facts.sqlite3")
    old = make_tiny_doc(reception="5.00")
    store.replace_document(old, make_tiny_facts(old))
    before = (store.facts(), store.documents(), store.chunks(), store.sections())

    real_insert = store_module._insert_doc

    def crash_half_way(conn: sqlite3.Connection, *args: object) -> None:
        real_insert(conn, *args)  # type: ignore[arg-type]
        raise RuntimeError("power cut")

    monkeypatch.setattr(store_module, "_insert_doc", crash_half_way)
    new = make_tiny_doc(reception="9.99", sha="2" * 64)
    with pytest.raises(RuntimeError, match="power cut"):
        store.replace_document(new, make_tiny_facts(new))

    assert (store.facts(), store.documents(), store.chunks(), store.sections()) == before
    # and a fresh connection (another process) sees the same
    assert FactStore(tmp_path / "facts.sqlite3").facts() == before[0]


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\x07" * 300])
def test_garbage_file_raises_index_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "facts.sqlite3"
    path.write_bytes(content)
    with pytest.raises(IndexCorrupt, match="budgetqa index"):
        FactStore(path)


def test_truncated_database_raises_index_corrupt(tmp_path: Path, tiny_doc: Document,
                                                 tiny_facts: list[Fact]) -> None:
    path = tmp_path / "facts.sqlite3"
    store = FactStore(path)
    for i in range(30):  # enough pages that a cut lands inside the data
        doc = replace(tiny_doc, name=f"d{i}.txt")
        store.replace_document(doc, [replace(f, doc=doc.name) for f in tiny_facts])
    store.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(IndexCorrupt, match="budgetqa index"):
        FactStore(path).facts()


def test_foreign_schema_raises_index_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "facts.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE something_else (x)")
    conn.commit()
    conn.close()
    with pytest.raises(IndexCorrupt, match="budgetqa index"):
        FactStore(path)


def test_old_schema_version_raises_index_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "facts.sqlite3"
    FactStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(IndexCorrupt, match="版本"):
        FactStore(path)


def test_readers_in_threads_while_writing(tmp_path: Path) -> None:
    store = FactStore(tmp_path / "facts.sqlite3")
    doc = make_tiny_doc()
    store.replace_document(doc, make_tiny_facts(doc))
    n_facts = len(make_tiny_facts(doc))
    errors: list[BaseException] = []
    seen: set[int] = set()

    def read() -> None:
        try:
            for _ in range(50):
                seen.add(len(store.facts(doc="tiny.txt")))
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for t in readers:
        t.start()
    for i in range(20):
        new = make_tiny_doc(reception=f"{i}.00", sha=f"{i:064d}")
        store.replace_document(new, make_tiny_facts(new))
    for t in readers:
        t.join()
    assert errors == []
    assert seen == {n_facts}  # never a half-replaced document
