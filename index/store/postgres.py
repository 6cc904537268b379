"""The fact store in a PostgreSQL database (BUDGETQA_DATABASE_URL), shared by many `budgetqa serve` workers.

Same tables as the SQLite store (budgetqa.index.store.database), same reads (budgetqa.index.store.base),
one transaction per document. The lexical index is a table of postings (chunk, term, tf) over the
very tokens the SQLite FTS5 index holds (jieba words + CJK bigrams, budgetqa.index.store.lexical),
ranked in SQL with FTS5's own BM25 (k1 = 1.2, b = 0.75, idf floor 1e-6, corpus counts kept in `meta`),
so a search ranks the same chunks in the same order on either backend. PostgreSQL's own full-text
search was not used: its parsers do not split Chinese and ts_rank is not BM25.

Index writers take a session advisory lock (`index_lock`): it works across machines, and the server
drops it when a killed indexer's connection goes away.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from budgetqa.errors import BudgetQAError, IndexCorrupt
from budgetqa.index.model import Document, Fact
from budgetqa.index.store.base import (
    CHUNK_COLUMNS,
    DOC_TABLES,
    DOCUMENT_COLUMNS,
    FACT_COLUMNS,
    REINDEX,
    SCHEMA_VERSION,
    SHARED_SCHEMA,
    FactStore,
    doc_rows,
    where_clause,
)
from budgetqa.index.store.chunk import Chunk, make_chunks
from budgetqa.index.store.lexical import tokenize_document
from psycopg import conninfo

_SCHEMA = SHARED_SCHEMA + """;
CREATE TABLE IF NOT EXISTS facts (
    id BIGSERIAL PRIMARY KEY, doc TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER, kind TEXT,
    section TEXT NOT NULL, tbl TEXT NOT NULL, row TEXT NOT NULL, code TEXT, col TEXT NOT NULL,
    value TEXT NOT NULL, measure TEXT NOT NULL, page INTEGER, quote TEXT NOT NULL,
    source TEXT NOT NULL, context TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS facts_doc ON facts(doc);
CREATE INDEX IF NOT EXISTS facts_unit ON facts(unit);
CREATE TABLE IF NOT EXISTS chunks (
    rid BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, pos INTEGER NOT NULL,
    text TEXT NOT NULL, metadata TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER, kind TEXT,
    chunk_type TEXT NOT NULL, tokens TEXT NOT NULL, ntok INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc, pos);
CREATE INDEX IF NOT EXISTS chunks_unit ON chunks(unit);
CREATE TABLE IF NOT EXISTS lex_postings (doc TEXT NOT NULL, rid BIGINT NOT NULL, term TEXT NOT NULL,
    tf INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS lex_postings_term ON lex_postings(term) INCLUDE (rid, tf);
CREATE INDEX IF NOT EXISTS lex_postings_doc ON lex_postings(doc)
"""
_TABLES = ("meta", "documents", "facts", "sections", "tables", "rows", "chunks", "doc_terms", "lex_postings",
           "dense_pending")
# FTS5's bm25() defaults; `lex_rows`/`lex_tokens` in meta are its row count and total token count
K1, B = 1.2, 0.75
_MATCH = f"""
WITH q AS (SELECT DISTINCT unnest(?::text[]) AS term),
df AS (SELECT p.term, count(*) AS n FROM lex_postings p JOIN q ON p.term = q.term GROUP BY p.term),
w AS (SELECT term, greatest(ln((?::float8 - n + 0.5) / (n + 0.5)), 1e-6::float8) AS idf FROM df)
SELECT c.id, c.text, c.metadata,
       sum(w.idf * p.tf * {K1 + 1} / (p.tf + {K1} * ({1 - B} + {B} * c.ntok / ?::float8))) AS score
FROM w JOIN lex_postings p ON p.term = w.term JOIN chunks c ON c.rid = p.rid"""


def describe(url: str) -> str:
    """The database a URL names, without its password (for messages)."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "（无法解析的数据库地址）"
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def connect(url: str) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.Error as exc:
        raise BudgetQAError(f"无法连接数据库 {describe(url)}（{str(exc).strip()}）；"
                            "请检查 BUDGETQA_DATABASE_URL 和数据库服务") from exc


class PostgresFactStore(FactStore):
    """The fact store in the PostgreSQL database at `url` (tables created on first use), one
    connection per thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._connections_lock = threading.Lock()
        self._init_schema()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.url)
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn().execute(_pg(sql), params).fetchall()
        except psycopg.OperationalError as exc:
            self._local.conn = None  # a dropped connection is replaced on the next call
            raise BudgetQAError(f"数据库 {describe(self.url)} 读取失败（{str(exc).strip()}）") from exc

    def _init_schema(self) -> None:
        conn = self._conn()
        with conn.transaction():
            # two processes starting on an empty database create the tables once
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('budgetqa-schema:' || current_schema()))")
            existing = {r[0] for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
            if "meta" not in existing:
                for statement in _SCHEMA.split(";"):
                    conn.execute(statement)
                conn.cursor().executemany("INSERT INTO meta VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                          [("schema_version", str(SCHEMA_VERSION)), ("generation", "0"),
                                           ("lex_rows", "0"), ("lex_tokens", "0")])
                return
        missing = set(_TABLES) - existing
        if missing:
            raise IndexCorrupt(f"数据库 {describe(self.url)} 中的索引不完整（缺少 {'、'.join(sorted(missing))}）；{REINDEX}")
        rows = self._query("SELECT value FROM meta WHERE key='schema_version'")
        version = rows[0][0] if rows else None
        if version != str(SCHEMA_VERSION):
            raise IndexCorrupt(f"数据库 {describe(self.url)} 中索引的版本（{version}）与本程序（{SCHEMA_VERSION}）不符；"
                               f"{REINDEX}")

    # -- the lexical index ---------------------------------------------------------------------

    def lexical_match(self, tokens: Sequence[str], k: int, filters: dict[str, Any]) -> list[tuple[Chunk, float]]:
        """The k best chunks for `tokens` by FTS5's BM25 over the postings, filters applied in the query
        (the same chunks as ranking the whole corpus, then filtering)."""
        terms = list(dict.fromkeys(t.lower() for t in tokens))
        if not terms or k <= 0:
            return []
        stats = dict(self._query("SELECT key, value FROM meta WHERE key IN ('lex_rows', 'lex_tokens')"))
        n_rows, n_tokens = int(stats.get("lex_rows", 0)), int(stats.get("lex_tokens", 0))
        if not n_rows:
            return []
        where, params = where_clause(filters, table="c")
        rows = self._query(f"{_MATCH}{where} GROUP BY c.rid ORDER BY score DESC, c.rid LIMIT ?",
                           [terms, float(n_rows), n_tokens / n_rows, *params, k])
        return [(Chunk(r[0], r[1], json.loads(r[2])), float(r[3])) for r in rows]

    # -- writes ------------------------------------------------------------------------------

    def replace_document(self, doc: Document, facts: list[Fact], chunks: list[Chunk] | None = None,
                         pipeline: str = "", origin: str = "") -> None:
        chunks = make_chunks(doc, facts) if chunks is None else chunks
        tokens, terms = tokenize_document(chunks)
        conn = self._conn()
        with conn.transaction():
            _delete_doc(conn, doc.name)
            self._insert_doc(conn, doc, facts, chunks, pipeline, origin, tokens, terms)
            _bump_generation(conn)

    def _insert_doc(self, conn: psycopg.Connection[Any], *args: Any) -> None:
        _insert_doc(conn, *args)  # a method, so a test can cut the power half-way through a write

    def set_origin(self, name: str, origin: str) -> None:
        self._conn().execute("UPDATE documents SET origin=%s WHERE name=%s AND origin=''", (origin, name))

    def remove(self, name: str) -> bool:
        conn = self._conn()
        with conn.transaction():
            found = conn.execute("SELECT 1 FROM documents WHERE name=%s", (name,)).fetchone() is not None
            _delete_doc(conn, name)
            _bump_generation(conn)
        return found

    def dense_done(self, name: str) -> None:
        self._conn().execute("DELETE FROM dense_pending WHERE doc=%s", (name,))


def _pg(sql: str) -> str:
    # the shared reads use SQLite's `?`; none of our statements holds a literal `?` or `%`
    return sql.replace("?", "%s")


def _bump_generation(conn: psycopg.Connection[Any]) -> None:
    conn.execute("UPDATE meta SET value = (CAST(value AS BIGINT) + 1)::text WHERE key='generation'")


def _add_lex_stats(conn: psycopg.Connection[Any], rows: int, tokens: int) -> None:
    conn.execute("UPDATE meta SET value = (CAST(value AS BIGINT) + %s)::text WHERE key='lex_rows'", (rows,))
    conn.execute("UPDATE meta SET value = (CAST(value AS BIGINT) + %s)::text WHERE key='lex_tokens'", (tokens,))


def _delete_doc(conn: psycopg.Connection[Any], name: str) -> None:
    gone = conn.execute("SELECT count(*), coalesce(sum(ntok), 0) FROM chunks WHERE doc=%s", (name,)).fetchone()
    if gone and gone[0]:
        _add_lex_stats(conn, -int(gone[0]), -int(gone[1]))
    conn.execute("INSERT INTO dense_pending VALUES (%s) ON CONFLICT DO NOTHING", (name,))  # its vectors are stale
    conn.execute("DELETE FROM lex_postings WHERE doc=%s", (name,))
    for table in DOC_TABLES:
        column = "name" if table == "documents" else "doc"
        conn.execute(f"DELETE FROM {table} WHERE {column}=%s", (name,))


def _insert_doc(conn: psycopg.Connection[Any], doc: Document, facts: list[Fact], chunks: list[Chunk],
                pipeline: str, origin: str, tokens: list[list[str]], terms: list[str]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = doc_rows(doc, facts, chunks, pipeline, origin, tokens, terms, now)
    conn.execute(f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({_marks(15)})", rows.document)
    _copy(conn, f"facts ({FACT_COLUMNS})", rows.facts)
    _copy(conn, "sections", rows.sections)
    _copy(conn, "tables", rows.tables)
    _copy(conn, "rows", rows.rows)
    _copy(conn, f"chunks ({CHUNK_COLUMNS}, ntok)", [(*r, len(t)) for r, t in zip(rows.chunks, tokens, strict=True)])
    _copy(conn, "doc_terms", rows.terms)
    rid = dict(conn.execute("SELECT id, rid FROM chunks WHERE doc=%s", (doc.name,)).fetchall())
    # FTS5 folds case; the tokens are lower-case already, this keeps the two indexes equal regardless
    _copy(conn, "lex_postings (doc, rid, term, tf)",
          [(doc.name, rid[c.id], term, tf) for c, toks in zip(chunks, tokens, strict=True)
           for term, tf in Counter(t.lower() for t in toks).items()])
    _add_lex_stats(conn, len(chunks), sum(len(t) for t in tokens))


def _copy(conn: psycopg.Connection[Any], target: str, rows: list[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _marks(n: int) -> str:
    return ",".join(["%s"] * n)


@contextmanager
def index_lock(url: str) -> Iterator[None]:
    """Exclusive across processes and machines: a session advisory lock in the database; a second
    indexer says so and waits. The server releases it when the holder's connection ends (kill -9 too)."""
    conn = connect(url)
    key = "SELECT {}(hashtext('budgetqa-index:' || current_schema()))"
    try:
        got = conn.execute(key.format("pg_try_advisory_lock")).fetchone()
        if not (got and got[0]):
            print(f"另一个索引进程正在写入数据库 {describe(url)}，等待其完成…", file=sys.stderr)
            conn.execute(key.format("pg_advisory_lock"))
        yield
    finally:
        conn.close()  # ends the session: the lock goes with it
