"""The fact store: documents, facts, sections, tables, rows and retrieval chunks in one SQLite file.

SQLite in WAL mode lets the web server's reader threads run while `budgetqa index` writes. Each
thread gets its own connection; writes go through one lock and one transaction per document, so a
crash mid-way leaves the previous state. The search chunks live here too, with their tokens and a full-text index of them
(FTS5, budgetqa.index.store.lexical), and the vector store is synced against them, so the store is the single
source of truth. Everything is read on demand (one document's facts, one unit's chunks): nothing
here loads the whole corpus.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from budgetqa.errors import IndexCorrupt
from budgetqa.index.model import Document, Fact
from budgetqa.index.store import registry
from budgetqa.index.store.base import (
    ADDED_FACT_COLUMNS,
    ADDED_TABLES,
    CHUNK_COLUMNS,
    DOC_TABLES,
    DOCUMENT_COLUMNS,
    FACT_COLUMNS,
    FACTS_SCHEMA,
    REINDEX,
    SCHEMA_VERSION,
    SHARED_SCHEMA,
    DocInfo,
    FactStore,
    Prepared,
    SectionRecord,
    Stamp,
    doc_rows,
    entry_row,
    prepare,
    where_clause,
)
from budgetqa.index.store.chunk import Chunk, make_chunks

__all__ = ["DocInfo", "FactStore", "SectionRecord", "SqliteFactStore", "Stamp"]

_SCHEMA = SHARED_SCHEMA + ";" + FACTS_SCHEMA.format(id="INTEGER PRIMARY KEY") + """;
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, doc TEXT NOT NULL, pos INTEGER NOT NULL, text TEXT NOT NULL,
    metadata TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER, kind TEXT, chunk_type TEXT NOT NULL,
    tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc, pos);
CREATE INDEX IF NOT EXISTS chunks_unit ON chunks(unit);
CREATE VIRTUAL TABLE IF NOT EXISTS lex USING fts5(tokens, content='',
    tokenize="unicode61 remove_diacritics 0 categories 'L* N* M* P* S* Co Cc Cf Cs'")
"""
# the lexical tokens are space-separated; every other character is part of a token (see lexical.py)
_TABLES = ("meta", "documents", "facts", "sections", "tables", "rows", "chunks", "doc_terms", "lex", "dense_pending",
           "unit_entries", *registry.TABLES)
_REINDEX = REINDEX


class SqliteFactStore(FactStore):
    """Thread-safe access to the SQLite fact store at `path` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=OFF")
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc
        return conn

    def _corrupt(self, exc: BaseException) -> IndexCorrupt:
        return IndexCorrupt(f"索引库 {self.path} 无法读取（{exc}）；{_REINDEX}")

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _init_schema(self) -> None:
        conn = self._conn()
        try:
            existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not existing:
                with self._write_lock, _transaction(conn):
                    _run_script(conn, _SCHEMA)
                    conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
                    conn.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")
                    # an empty store's registry is complete: documents keep it so as they are written
                    registry.set_version(_runner(conn), registry.current_version())
                return
            missing = set(_TABLES) - existing
            if missing and missing <= set(ADDED_TABLES):  # an older store: add what it lacks
                with self._write_lock, _transaction(conn):
                    for script in dict.fromkeys(ADDED_TABLES[t] for t in sorted(missing)):
                        _run_script(conn, script)
                missing = set()
            if missing:
                raise IndexCorrupt(f"索引库 {self.path} 不完整（缺少 {'、'.join(sorted(missing))}）；{_REINDEX}")
            version = self._meta("schema_version")
            if version != str(SCHEMA_VERSION):
                raise IndexCorrupt(f"索引库 {self.path} 的版本（{version}）与本程序（{SCHEMA_VERSION}）不符；{_REINDEX}")
            conn.execute("SELECT count(*) FROM documents").fetchone()
            _add_title_column(conn)
            self._add_origin(conn)
            self._add_fact_columns(conn)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc

    def _add_origin(self, conn: sqlite3.Connection) -> None:
        """Stores written before documents had an origin: add the column ('' = adopted by the next run
        that indexes a file of that name)."""
        columns = {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
        if "origin" not in columns:
            with self._write_lock, _transaction(conn):
                conn.execute("ALTER TABLE documents ADD COLUMN origin TEXT NOT NULL DEFAULT ''")

    def _add_fact_columns(self, conn: sqlite3.Connection) -> None:
        """Stores written before facts had an owner gain the column ('' until re-indexed)."""
        columns = {r[1] for r in conn.execute("PRAGMA table_info(facts)")}
        missing = [sql for name, sql in ADDED_FACT_COLUMNS.items() if name not in columns]
        if missing:
            with self._write_lock, _transaction(conn):
                for sql in missing:
                    conn.execute(sql)

    def _meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc

    def dense_done(self, name: str) -> None:
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            conn.execute("DELETE FROM dense_pending WHERE doc=?", (name,))

    # -- the lexical index (budgetqa.index.store.lexical) --------------------------------------------

    def lexical_match(self, tokens: Sequence[str], k: int, filters: dict[str, Any]) -> list[tuple[Chunk, float]]:
        """The k best chunks for `tokens` by the full-text index's BM25, filtered after ranking."""
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens))
        if not query:
            return []
        where, params = where_clause(filters)
        limit = k if not filters else k * 20
        while True:
            hits = self._query("SELECT rowid, -bm25(lex) FROM lex WHERE lex MATCH ? ORDER BY bm25(lex) LIMIT ?",
                               (query, limit))
            rowids = [h[0] for h in hits]
            scores = dict(hits)
            marks = ",".join("?" * len(rowids))
            clause = f"{where} AND" if where else " WHERE"
            rows = self._query(f"SELECT rowid, id, text, metadata FROM chunks{clause} rowid IN ({marks})",
                               [*params, *rowids]) if rowids else []
            if len(rows) >= k or len(hits) < limit:
                break
            limit *= 4
        found = sorted(((Chunk(r[1], r[2], json.loads(r[3])), scores[r[0]]) for r in rows), key=lambda p: -p[1])
        return found[:k]

    # -- writes ------------------------------------------------------------------------------

    def replace_document(self, doc: Document, facts: list[Fact], chunks: list[Chunk] | None = None,
                         pipeline: str = "", origin: str = "", prepared: Prepared | None = None) -> None:
        chunks = make_chunks(doc, facts) if chunks is None else chunks
        tokens, terms, entry = prepared or prepare(doc, facts, chunks)
        conn = self._conn()
        with self._write_lock:
            try:
                with _transaction(conn):
                    _delete_doc(conn, doc.name)
                    self._insert_doc(conn, doc, facts, chunks, pipeline, origin, tokens, terms, entry)
                    registry.sync(_runner(conn), [doc.name])
                    _bump_generation(conn)
            except sqlite3.DatabaseError as exc:
                raise self._corrupt(exc) from exc

    def _insert_doc(self, conn: sqlite3.Connection, *args: Any) -> None:
        _insert_doc(conn, *args)  # a method, so a test can cut the power half-way through a write

    def put_unit_entries(self, entries: dict[str, dict[str, Any]]) -> None:
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            conn.executemany("INSERT OR REPLACE INTO unit_entries VALUES (?, ?, ?)",
                             [entry_row(name, e) for name, e in entries.items()])

    def set_origin(self, name: str, origin: str) -> None:
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            conn.execute("UPDATE documents SET origin=? WHERE name=? AND origin=''", (origin, name))

    def remove(self, name: str) -> bool:
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            found = conn.execute("SELECT 1 FROM documents WHERE name=?", (name,)).fetchone() is not None
            _delete_doc(conn, name)
            registry.sync(_runner(conn), [name])
            _bump_generation(conn)
        return found

    def rebuild_registry(self) -> None:
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            registry.rebuild(_runner(conn))
            _bump_generation(conn)


def _runner(conn: sqlite3.Connection) -> registry.Run:
    return lambda sql, params: conn.execute(sql, params).fetchall()


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our open transaction; run the statements one by one instead.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _add_title_column(conn: sqlite3.Connection) -> None:
    """A store written before documents had titles and source paths gains the columns (empty until re-indexed)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
    for name in ("title", "source"):
        if name not in columns:
            conn.execute(f"ALTER TABLE documents ADD COLUMN {name} TEXT NOT NULL DEFAULT ''")


def _bump_generation(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='generation'")


def _delete_doc(conn: sqlite3.Connection, name: str) -> None:
    # the full-text index holds no copy of the tokens: it is told which ones it is forgetting
    conn.execute("INSERT INTO lex(lex, rowid, tokens) SELECT 'delete', rowid, tokens FROM chunks WHERE doc=?",
                 (name,))
    conn.execute("INSERT OR IGNORE INTO dense_pending VALUES (?)", (name,))  # its vectors are now stale
    for table in DOC_TABLES:
        column = "name" if table == "documents" else "doc"
        conn.execute(f"DELETE FROM {table} WHERE {column}=?", (name,))


def _insert_doc(conn: sqlite3.Connection, doc: Document, facts: list[Fact], chunks: list[Chunk],
                pipeline: str, origin: str, tokens: list[list[str]], terms: list[str],
                entry: dict[str, Any]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = doc_rows(doc, facts, chunks, pipeline, origin, tokens, terms, now, entry)
    conn.execute(f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({_marks(15)})", rows.document)
    conn.executemany(f"INSERT INTO facts ({FACT_COLUMNS}) VALUES ({_marks(16)})", rows.facts)
    conn.executemany(f"INSERT INTO sections VALUES ({_marks(7)})", rows.sections)
    conn.executemany(f"INSERT INTO tables VALUES ({_marks(8)})", rows.tables)
    conn.executemany(f"INSERT INTO rows VALUES ({_marks(8)})", rows.rows)
    conn.executemany(f"INSERT INTO chunks ({CHUNK_COLUMNS}) VALUES ({_marks(10)})", rows.chunks)
    conn.execute("INSERT INTO lex(rowid, tokens) SELECT rowid, tokens FROM chunks WHERE doc=?", (doc.name,))
    conn.executemany("INSERT OR IGNORE INTO doc_terms VALUES (?,?)", rows.terms)
    conn.execute("INSERT INTO unit_entries VALUES (?, ?, ?)", rows.unit_entry)


def _marks(n: int) -> str:
    return ",".join("?" * n)
