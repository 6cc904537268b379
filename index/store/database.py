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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from budgetqa.errors import IndexCorrupt
from budgetqa.index.model import Document, Fact, Row, Section, Table
from budgetqa.index.store.chunk import Chunk, make_chunks
from budgetqa.index.store.lexical import tokenize_document

SCHEMA_VERSION = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, unit TEXT NOT NULL, aliases TEXT NOT NULL,
    year INTEGER, kind TEXT, subunits TEXT NOT NULL, pages INTEGER, layout TEXT NOT NULL,
    n_facts INTEGER NOT NULL, indexed_at TEXT NOT NULL, pipeline TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS facts (
    id INTEGER PRIMARY KEY, doc TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER, kind TEXT,
    section TEXT NOT NULL, tbl TEXT NOT NULL, row TEXT NOT NULL, code TEXT, col TEXT NOT NULL,
    value TEXT NOT NULL, measure TEXT NOT NULL, page INTEGER, quote TEXT NOT NULL,
    source TEXT NOT NULL, context TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facts_doc ON facts(doc);
CREATE INDEX IF NOT EXISTS facts_unit ON facts(unit);
CREATE TABLE IF NOT EXISTS sections (
    doc TEXT NOT NULL, pos INTEGER NOT NULL, title TEXT NOT NULL, level INTEGER NOT NULL,
    path TEXT NOT NULL, text TEXT NOT NULL, page INTEGER, PRIMARY KEY (doc, pos));
CREATE TABLE IF NOT EXISTS tables (
    doc TEXT NOT NULL, pos INTEGER NOT NULL, title TEXT NOT NULL, section TEXT NOT NULL,
    measure TEXT NOT NULL, columns TEXT NOT NULL, page INTEGER, blank_is_zero INTEGER NOT NULL,
    PRIMARY KEY (doc, pos));
CREATE TABLE IF NOT EXISTS rows (
    doc TEXT NOT NULL, tpos INTEGER NOT NULL, pos INTEGER NOT NULL, label TEXT NOT NULL, code TEXT,
    cells TEXT NOT NULL, page INTEGER, quote TEXT NOT NULL, PRIMARY KEY (doc, tpos, pos));
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, doc TEXT NOT NULL, pos INTEGER NOT NULL, text TEXT NOT NULL,
    metadata TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER, kind TEXT, chunk_type TEXT NOT NULL,
    tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc, pos);
CREATE INDEX IF NOT EXISTS chunks_unit ON chunks(unit);
CREATE TABLE IF NOT EXISTS doc_terms (doc TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (doc, term));
CREATE VIRTUAL TABLE IF NOT EXISTS lex USING fts5(tokens, content='',
    tokenize="unicode61 remove_diacritics 0 categories 'L* N* M* P* S* Co Cc Cf Cs'");
CREATE INDEX IF NOT EXISTS documents_unit ON documents(unit);
CREATE TABLE IF NOT EXISTS dense_pending (doc TEXT PRIMARY KEY)
"""
# the lexical tokens are space-separated; every other character is part of a token (see lexical.py)
_TABLES = ("meta", "documents", "facts", "sections", "tables", "rows", "chunks", "doc_terms", "lex", "dense_pending")
_REINDEX = "请重新运行 `budgetqa index` 重建索引"


@dataclass(frozen=True)
class DocInfo:
    name: str
    sha256: str
    unit: str
    aliases: tuple[str, ...]
    year: int | None
    kind: str | None
    subunits: tuple[str, ...]
    pages: int | None
    layout: str
    n_facts: int
    indexed_at: str  # ISO 8601, UTC
    title: str = ""  # the document's own name ("福州市医疗保障局2024年部门预算"); "" if indexed before titles
    source: str = ""  # the file it was read from (absolute path), for showing its pages


@dataclass(frozen=True)
class Stamp:
    """What identifies a stored document: its key (the name it is cited by), where it came from
    (the file's resolved path or an uploader's folder), its content hash and the parser version."""

    name: str
    origin: str
    sha256: str
    pipeline: str


@dataclass(frozen=True)
class SectionRecord:
    doc: str
    title: str
    level: int
    path: tuple[str, ...]
    text: str
    page: int | None


class FactStore:
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
                return
            missing = set(_TABLES) - existing
            if missing:
                raise IndexCorrupt(f"索引库 {self.path} 不完整（缺少 {'、'.join(sorted(missing))}）；{_REINDEX}")
            version = self._meta("schema_version")
            if version != str(SCHEMA_VERSION):
                raise IndexCorrupt(f"索引库 {self.path} 的版本（{version}）与本程序（{SCHEMA_VERSION}）不符；{_REINDEX}")
            conn.execute("SELECT count(*) FROM documents").fetchone()
            _add_title_column(conn)
            self._add_origin(conn)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc

    def _add_origin(self, conn: sqlite3.Connection) -> None:
        """Stores written before documents had an origin: add the column ('' = adopted by the next run
        that indexes a file of that name)."""
        columns = {r[1] for r in conn.execute("PRAGMA table_info(documents)")}
        if "origin" not in columns:
            with self._write_lock, _transaction(conn):
                conn.execute("ALTER TABLE documents ADD COLUMN origin TEXT NOT NULL DEFAULT ''")

    def _meta(self, key: str) -> str | None:
        row = self._conn().execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from exc

    # -- reads -------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Bumped by every write: caches built from the store (BM25) compare it to stay fresh."""
        rows = self._query("SELECT value FROM meta WHERE key='generation'")
        return int(rows[0][0]) if rows else 0

    def documents(self) -> list[DocInfo]:
        rows = self._query("SELECT name, sha256, unit, aliases, year, kind, subunits, pages, layout, "
                           "n_facts, indexed_at, title, source FROM documents ORDER BY name")
        return [DocInfo(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5], tuple(json.loads(r[6])),
                        r[7], r[8], r[9], r[10], r[11], r[12]) for r in rows]

    def sha_of(self, name: str) -> str | None:
        rows = self._query("SELECT sha256 FROM documents WHERE name=?", (name,))
        return str(rows[0][0]) if rows else None

    def stamp_of(self, name: str) -> tuple[str, str] | None:
        """(sha256 of the file, version of the parsing code) it was indexed with."""
        rows = self._query("SELECT sha256, pipeline FROM documents WHERE name=?", (name,))
        return (str(rows[0][0]), str(rows[0][1])) if rows else None

    def stamps(self) -> list[Stamp]:
        """Every document's identity, to decide what a file to index is (new, unchanged, changed)."""
        rows = self._query("SELECT name, origin, sha256, pipeline FROM documents ORDER BY name")
        return [Stamp(*map(str, r)) for r in rows]

    def facts(self, doc: str | None = None, unit: str | None = None) -> list[Fact]:
        where, params = _where({"doc": doc, "unit": unit})
        rows = self._query("SELECT doc, unit, year, kind, section, tbl, row, code, col, value, measure, "
                           f"page, quote, source, context FROM facts{where} ORDER BY id", params)
        return [Fact(*r) for r in rows]

    def row_labels(self, doc: str) -> list[str]:
        """The distinct row labels of a document's facts (what the unit registry reads sub-units from),
        without loading the facts."""
        return [str(r[0]) for r in self._query("SELECT DISTINCT row FROM facts WHERE doc=?", (doc,))]

    def sections(self, doc: str | None = None) -> list[SectionRecord]:
        where, params = _where({"doc": doc})
        rows = self._query(f"SELECT doc, title, level, path, text, page FROM sections{where} "
                           "ORDER BY doc, pos", params)
        return [SectionRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5]) for r in rows]

    def tables(self, doc: str) -> list[Table]:
        """The document's tables with their rows, in document order."""
        heads = self._query("SELECT pos, title, section, measure, columns, page, blank_is_zero FROM tables "
                            "WHERE doc=? ORDER BY pos", (doc,))
        rows: dict[int, list[Row]] = {}
        for r in self._query("SELECT tpos, label, code, cells, page, quote FROM rows WHERE doc=? "
                             "ORDER BY tpos, pos", (doc,)):
            rows.setdefault(r[0], []).append(Row(r[1], r[2], tuple(json.loads(r[3])), r[4], r[5]))
        return [Table(h[1], h[2], h[3], tuple(json.loads(h[4])), tuple(rows.get(h[0], ())), h[5], bool(h[6]))
                for h in heads]

    def table_rows(self, doc: str, table: str) -> list[Row]:
        """All rows of the table(s) titled `table` in `doc`, to show a cited row in context."""
        return [row for t in self.tables(doc) if t.title == table for row in t.rows]

    def document(self, name: str) -> Document | None:
        """The Document as indexed (sections and tables rebuilt from the store)."""
        info = next((d for d in self.documents() if d.name == name), None)
        if info is None:
            return None
        sections = tuple(Section(s.title, s.level, s.text, s.page, s.path) for s in self.sections(name))
        kind: Any = info.kind
        return Document(info.name, info.sha256, info.unit, info.aliases, info.year, kind, info.subunits,
                        sections, tuple(self.tables(name)), info.pages, info.layout, info.title,
                        info.source)

    def chunks(self, doc: str | None = None) -> list[Chunk]:
        where, params = _where({"doc": doc})
        rows = self._query(f"SELECT id, text, metadata FROM chunks{where} ORDER BY doc, pos", params)
        return [Chunk(r[0], r[1], json.loads(r[2])) for r in rows]

    def chunk_ids(self) -> set[str]:
        return {r[0] for r in self._query("SELECT id FROM chunks")}

    def chunk(self, chunk_id: str) -> Chunk | None:
        rows = self._query("SELECT id, text, metadata FROM chunks WHERE id=?", (chunk_id,))
        return Chunk(rows[0][0], rows[0][1], json.loads(rows[0][2])) if rows else None

    def document_names(self) -> list[str]:
        return [r[0] for r in self._query("SELECT name FROM documents ORDER BY name")]

    def dense_pending(self) -> list[str]:
        """Documents written or removed since the vector store was last synced for them."""
        return [r[0] for r in self._query("SELECT doc FROM dense_pending ORDER BY doc")]

    def dense_done(self, name: str) -> None:
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            conn.execute("DELETE FROM dense_pending WHERE doc=?", (name,))

    # -- the lexical index (budgetqa.index.store.lexical) --------------------------------------------

    def lexical_candidates(self, filters: dict[str, Any]) -> list[tuple[Chunk, list[str]]]:
        """The chunks matching `filters` (doc/unit/year/kind/chunk_type) with their tokens."""
        where, params = _where(filters)
        rows = self._query(f"SELECT id, text, metadata, tokens FROM chunks{where} ORDER BY doc, pos", params)
        return [(Chunk(r[0], r[1], json.loads(r[2])), r[3].split()) for r in rows]

    def lexical_terms(self, filters: dict[str, Any]) -> set[str]:
        """The row-label terms of the documents matching `filters` (doc/unit/year/kind)."""
        where, params = _where({("name" if k == "doc" else k): v for k, v in filters.items()})
        rows = self._query(f"SELECT term FROM doc_terms WHERE doc IN (SELECT name FROM documents{where})", params)
        return {r[0] for r in rows}

    def lexical_match(self, tokens: Sequence[str], k: int, filters: dict[str, Any]) -> list[tuple[Chunk, float]]:
        """The k best chunks for `tokens` by the full-text index's BM25, filtered after ranking."""
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(tokens))
        if not query:
            return []
        where, params = _where(filters)
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
                         pipeline: str = "", origin: str = "") -> None:
        """Replace everything stored for `doc.name` in one transaction (all or nothing).

        `pipeline` names the parsing code's version, so an upgrade re-indexes unchanged files;
        `origin` where the file came from (see `Stamp`)."""
        chunks = make_chunks(doc, facts) if chunks is None else chunks
        tokens, terms = tokenize_document(chunks)  # before the write lock: jieba is the slow part
        conn = self._conn()
        with self._write_lock:
            try:
                with _transaction(conn):
                    _delete_doc(conn, doc.name)
                    _insert_doc(conn, doc, facts, chunks, pipeline, origin, tokens, terms)
                    _bump_generation(conn)
            except sqlite3.DatabaseError as exc:
                raise self._corrupt(exc) from exc

    def set_origin(self, name: str, origin: str) -> None:
        """Record where a document stored before origins were kept came from (it was just seen there)."""
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            conn.execute("UPDATE documents SET origin=? WHERE name=? AND origin=''", (origin, name))

    def remove(self, name: str) -> bool:
        """Forget a document; True when it was there."""
        conn = self._conn()
        with self._write_lock, _transaction(conn):
            found = conn.execute("SELECT 1 FROM documents WHERE name=?", (name,)).fetchone() is not None
            _delete_doc(conn, name)
            _bump_generation(conn)
        return found


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


def _where(filters: dict[str, Any]) -> tuple[str, list[Any]]:
    given = {k: v for k, v in filters.items() if v is not None}
    if not given:
        return "", []
    return " WHERE " + " AND ".join(f"{k}=?" for k in given), list(given.values())


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
    for table in ("documents", "facts", "sections", "tables", "rows", "chunks", "doc_terms"):
        column = "name" if table == "documents" else "doc"
        conn.execute(f"DELETE FROM {table} WHERE {column}=?", (name,))


def _insert_doc(conn: sqlite3.Connection, doc: Document, facts: list[Fact], chunks: list[Chunk],
                pipeline: str, origin: str, tokens: list[list[str]], terms: list[str]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute("INSERT INTO documents (name, sha256, unit, aliases, year, kind, subunits, pages, layout, "
                 "n_facts, indexed_at, pipeline, title, source, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                 (doc.name, doc.sha256, doc.unit, _json(doc.aliases), doc.year, doc.kind,
                  _json(doc.subunits), doc.pages, doc.layout, len(facts), now, pipeline, doc.title, doc.source, origin))
    conn.executemany("INSERT INTO facts (doc, unit, year, kind, section, tbl, row, code, col, value, measure, "
                     "page, quote, source, context) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     [(f.doc, f.unit, f.year, f.kind, f.section, f.table, f.row, f.code, f.column, f.value,
                       f.measure, f.page, f.quote, f.source, f.context) for f in facts])
    conn.executemany("INSERT INTO sections VALUES (?,?,?,?,?,?,?)",
                     [(doc.name, i, s.title, s.level, _json(s.path), s.text, s.page)
                      for i, s in enumerate(doc.sections)])
    conn.executemany("INSERT INTO tables VALUES (?,?,?,?,?,?,?,?)",
                     [(doc.name, i, t.title, t.section, t.measure, _json(t.columns), t.page, int(t.blank_is_zero))
                      for i, t in enumerate(doc.tables)])
    conn.executemany("INSERT INTO rows VALUES (?,?,?,?,?,?,?,?)",
                     [(doc.name, ti, ri, r.label, r.code, _json(r.cells), r.page, r.quote)
                      for ti, t in enumerate(doc.tables) for ri, r in enumerate(t.rows)])
    conn.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?)",
                     [(c.id, doc.name, i, c.text, _json(c.metadata), doc.unit, doc.year, doc.kind,
                       c.chunk_type, " ".join(t)) for i, (c, t) in enumerate(zip(chunks, tokens, strict=True))])
    conn.execute("INSERT INTO lex(rowid, tokens) SELECT rowid, tokens FROM chunks WHERE doc=?", (doc.name,))
    conn.executemany("INSERT OR IGNORE INTO doc_terms VALUES (?,?)", [(doc.name, t) for t in terms])


def _json(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
