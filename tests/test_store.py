"""The fact store on each backend (SQLite; PostgreSQL when a test server is given, see `backend` in
conftest): round trip, atomic replacement, corruption, concurrent readers, kill -9 while indexing,
two indexers at once."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from budgetqa.errors import IndexCorrupt
from budgetqa.index.model import Document, Fact
from budgetqa.index.store import database as store_module
from budgetqa.index.store.database import FactStore

from tests.conftest import Backend, make_tiny_doc, make_tiny_facts, postgres_schema, postgres_url


def test_round_trip(backend: Backend, tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    store = backend.open()
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


def test_store_survives_reopen(backend: Backend, tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    first = backend.open()
    first.replace_document(tiny_doc, tiny_facts)
    first.close()
    assert backend.open().facts() == tiny_facts


def test_plain_constructor_opens_sqlite(tmp_path: Path, tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    store = FactStore(tmp_path / "facts.sqlite3")
    assert isinstance(store, store_module.SqliteFactStore)
    store.replace_document(tiny_doc, tiny_facts)
    assert store.facts() == tiny_facts


def test_replace_and_remove(backend: Backend) -> None:
    store = backend.open()
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


def test_crash_inside_replace_keeps_previous_state(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    store = backend.open()
    old = make_tiny_doc(reception="5.00")
    store.replace_document(old, make_tiny_facts(old))
    before = (store.facts(), store.documents(), store.chunks(), store.sections(),
              store.lexical_match(["公务", "接待"], 5, {}))

    real_insert = store._insert_doc

    def crash_half_way(conn: object, *args: object) -> None:
        real_insert(conn, *args)
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "_insert_doc", crash_half_way)
    new = make_tiny_doc(reception="9.99", sha="2" * 64)
    with pytest.raises(RuntimeError, match="power cut"):
        store.replace_document(new, make_tiny_facts(new))

    assert (store.facts(), store.documents(), store.chunks(), store.sections(),
            store.lexical_match(["公务", "接待"], 5, {})) == before
    # and a fresh connection (another process) sees the same
    assert backend.open().facts() == before[0]


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


def test_old_schema_version_raises_index_corrupt(backend: Backend) -> None:
    backend.open().close()
    backend.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    with pytest.raises(IndexCorrupt, match="版本"):
        backend.open()


def test_readers_in_threads_while_writing(backend: Backend) -> None:
    store = backend.open()
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


# -- faults across processes: kill -9 while indexing, two indexers at once ---------------------------

_KILL_ON_SECOND_WRITE = """
import os, signal, sys
from pathlib import Path
from budgetqa.config import load_settings
from budgetqa.index.store import database, postgres
from budgetqa.index.store.ingest import index_paths

writes = 0

def killing(real):
    def insert(conn, *args):
        global writes
        real(conn, *args)
        writes += 1
        if writes == 2:  # inside the second document's transaction, all its rows written
            os.kill(os.getpid(), signal.SIGKILL)
    return insert

database._insert_doc = killing(database._insert_doc)
postgres._insert_doc = killing(postgres._insert_doc)
index_paths([Path(p) for p in sys.argv[1:]], load_settings(), progress=False, dense=False)
"""

_INDEX = """
import sys
from pathlib import Path
from budgetqa.config import load_settings
from budgetqa.index.store.ingest import index_paths

report = index_paths([Path(p) for p in sys.argv[1:]], load_settings(), progress=False, dense=False)
print("indexed", report.indexed)
"""


def _python(script: str, *args: object) -> list[str]:
    return [sys.executable, "-c", script, *map(str, args)]


def test_kill_9_while_indexing_leaves_the_previous_state_and_the_next_run_completes(
        backend: Backend, seed_paths: list[Path]) -> None:
    from budgetqa.app.pipeline import Engine
    from budgetqa.index.store.ingest import index_paths

    settings = backend.settings(dense=False)
    index_paths(seed_paths[:2], settings, progress=False)
    store = backend.open()
    before = {d.name: store.facts(doc=d.name) for d in store.documents()}

    killed = subprocess.run(_python(_KILL_ON_SECOND_WRITE, *seed_paths[2:]), capture_output=True, text=True,
                            timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr

    after = backend.open()
    docs = after.documents()
    # the earlier documents untouched, the first new one committed, the second not there at all
    assert {d.name for d in docs} == {*before, seed_paths[2].name}
    assert all(after.facts(doc=name) == facts for name, facts in before.items())
    assert all(len(after.facts(doc=d.name)) == d.n_facts for d in docs)
    answer = Engine(settings).ask("福州市医疗保障局2024年公务接待费是多少")
    assert answer.status == "answered" and "5.00" in answer.answer, answer

    report = index_paths(seed_paths, settings, progress=False)  # the lock is free again
    assert report.indexed == len(seed_paths) - 3 and not report.failed
    assert {d.name for d in backend.open().documents()} == {p.name for p in seed_paths}


def test_a_second_indexer_waits_and_says_why(backend: Backend, seed_paths: list[Path]) -> None:
    from budgetqa.index.store.ingest import index_lock

    settings = backend.settings(dense=False)
    backend.open().close()  # the tables exist before the second indexer starts
    with index_lock(settings):
        second = subprocess.Popen(_python(_INDEX, seed_paths[0]), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        assert second.stderr is not None
        said = ""
        while "等待" not in said:
            line = second.stderr.readline()
            if not line:
                break  # it finished (or died) without waiting for the lock
            said += line
        assert "另一个索引进程" in said and second.poll() is None
        assert backend.open().documents() == []  # it wrote nothing while it waited
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, err
    assert "indexed 1" in out
    assert [d.name for d in backend.open().documents()] == [seed_paths[0].name]


def test_a_damaged_index_says_so_and_the_next_index_run_repairs_it(backend: Backend, seed_paths: list[Path]) -> None:
    """A table gone (a half-restored backup, a hand-made mistake): answering says so in Chinese and how
    to fix it; `budgetqa index` then clears the damaged index and indexes its files again."""
    from budgetqa.index.store.ingest import index_paths

    settings = backend.settings(dense=False)
    assert not index_paths(seed_paths[:1], settings, progress=False).failed
    backend.execute("DROP TABLE rows")
    with pytest.raises(IndexCorrupt, match="不完整（缺少 rows）.*budgetqa index"):
        backend.open()
    report = index_paths(seed_paths[:1], settings, progress=False)
    assert report.indexed == 1 and not report.failed
    store = backend.open()
    try:
        assert [d.name for d in store.documents()] == [seed_paths[0].name]
        assert len(store.facts(doc=seed_paths[0].name)) == store.documents()[0].n_facts > 0
    finally:
        store.close()


def test_postgres_reads_share_a_small_pool_of_connections() -> None:
    """Many threads checking the generation (the web page does it per question) reuse a few pooled
    connections instead of connecting for every check."""
    from budgetqa.index.store.postgres import POOL_SIZE, PostgresFactStore

    with postgres_schema(postgres_url()) as url:
        _read_from_threads(PostgresFactStore(url), POOL_SIZE)


def _read_from_threads(store: Any, pool_size: int) -> None:
    try:
        seen: list[int] = []
        threads = [threading.Thread(target=lambda: seen.extend(store.generation for _ in range(25)))
                   for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert seen == [0] * 200
        assert store._pool.get_stats()["connections_num"] <= pool_size
    finally:
        store.close()


def test_owner_is_stored_and_an_older_store_gains_the_column(tmp_path: Path) -> None:
    path = tmp_path / "facts.sqlite3"
    store = FactStore(path)
    doc = make_tiny_doc()
    facts = make_tiny_facts(doc)
    owned = [replace(facts[0], owner="测试市医疗保障局信息中心"), *facts[1:]]
    store.replace_document(doc, owned)
    assert store.facts(doc=doc.name)[0].owner == "测试市医疗保障局信息中心"
    store.close()
    with sqlite3.connect(path) as conn:  # a store written before facts had an owner
        conn.execute("ALTER TABLE facts DROP COLUMN owner")
    again = FactStore(path)
    assert {f.owner for f in again.facts(doc=doc.name)} == {""}  # read, not reported damaged
    again.replace_document(doc, owned)
    assert again.facts(doc=doc.name)[0].owner == "测试市医疗保障局信息中心"
    again.close()
