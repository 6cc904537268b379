"""The fact store in a PostgreSQL database (BUDGETQA_DATABASE_URL), shared by many `budgetqa serve` workers.

Same tables as the SQLite store (budgetqa.index.store.database), same reads (budgetqa.index.store.base),
one transaction per document. The lexical index is a table of postings (chunk, term, tf) over the
very tokens the SQLite FTS5 index holds (jieba words + CJK bigrams, budgetqa.index.store.lexical),
ranked in SQL with FTS5's own BM25 (k1 = 1.2, b = 0.75, idf floor 1e-6, corpus counts kept in `meta`),
so a search ranks the same chunks in the same order on either backend. PostgreSQL's own full-text
search was not used: its parsers do not split Chinese and ts_rank is not BM25.

Index writers take a session advisory lock (`index_lock`): it works across machines, and the server
drops it when a killed indexer's connection goes away.

Each store holds a small pool of connections (psycopg_pool, POOL_SIZE): a read or a write borrows one
for its statement or transaction, so the web page's threads and its once-a-question generation check
reuse open connections instead of connecting anew (a TCP + authentication round trip each). A damaged
index (a table missing, another schema version) is a clear IndexCorrupt; `budgetqa index` (repair)
clears budgetqa's tables and indexes the files again, as it moves a damaged SQLite file aside.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
import psycopg_pool
from budgetqa.errors import BudgetQAError, IndexCorrupt
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
    FactStore,
    Prepared,
    doc_rows,
    entry_row,
    prepare,
    where_clause,
)
from budgetqa.index.store.chunk import Chunk, make_chunks
from psycopg import conninfo

log = logging.getLogger(__name__)

_SCHEMA = SHARED_SCHEMA + ";" + FACTS_SCHEMA.format(id="BIGSERIAL PRIMARY KEY") + """;
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
           "dense_pending", "unit_entries", *registry.TABLES)
# FTS5's bm25() defaults; `lex_rows`/`lex_tokens` in meta are its row count and total token count
K1, B = 1.2, 0.75
POOL_SIZE = 4  # connections per process at most; a fifth concurrent reader waits for one
POOL_TIMEOUT = 10.0  # seconds to wait for the first connection, or for a free one
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
    """The fact store in the PostgreSQL database at `url` (tables created on first use), over a small
    pool of connections; with `repair`, a damaged index is cleared so the caller can index afresh."""

    def __init__(self, url: str, repair: bool = False) -> None:
        self.url = url
        with connect(url) as first:  # a wrong URL or a stopped server is reported at once, in Chinese
            _init_schema(first, url, repair)
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, timeout=POOL_TIMEOUT, open=False, name="budgetqa",
            kwargs={"autocommit": True, "connect_timeout": int(POOL_TIMEOUT)})
        self._pool.open(wait=False)

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def _conn(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for one statement or transaction (a broken one is dropped by the pool)."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg_pool.PoolTimeout as exc:
            raise BudgetQAError(f"数据库 {describe(self.url)} 的连接全部忙碌（{POOL_TIMEOUT:.0f} 秒），请稍后再试") from exc
        except psycopg.OperationalError as exc:
            raise BudgetQAError(f"数据库 {describe(self.url)} 读写失败（{str(exc).strip()}）") from exc

    def close(self) -> None:
        self._pool.close()

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._conn() as conn:
            return conn.execute(_pg(sql), params).fetchall()

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
                         pipeline: str = "", origin: str = "", prepared: Prepared | None = None) -> None:
        chunks = make_chunks(doc, facts) if chunks is None else chunks
        tokens, terms, entry = prepared or prepare(doc, facts, chunks)
        with self._conn() as conn, conn.transaction():
            _delete_doc(conn, doc.name)
            self._insert_doc(conn, doc, facts, chunks, pipeline, origin, tokens, terms, entry)
            registry.sync(_runner(conn), [doc.name])
            _bump_generation(conn)

    def _insert_doc(self, conn: psycopg.Connection[Any], *args: Any) -> None:
        _insert_doc(conn, *args)  # a method, so a test can cut the power half-way through a write

    def put_unit_entries(self, entries: dict[str, dict[str, Any]]) -> None:
        with self._conn() as conn, conn.transaction(), conn.cursor() as cur:
            cur.executemany("INSERT INTO unit_entries VALUES (%s, %s, %s) ON CONFLICT (doc) DO UPDATE "
                            "SET version = EXCLUDED.version, entry = EXCLUDED.entry",
                            [entry_row(name, e) for name, e in entries.items()])

    def set_origin(self, name: str, origin: str) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE documents SET origin=%s WHERE name=%s AND origin=''", (origin, name))

    def remove(self, name: str) -> bool:
        with self._conn() as conn, conn.transaction():
            found = conn.execute("SELECT 1 FROM documents WHERE name=%s", (name,)).fetchone() is not None
            _delete_doc(conn, name)
            registry.sync(_runner(conn), [name])
            _bump_generation(conn)
        return found

    def rebuild_registry(self) -> None:
        with self._conn() as conn, conn.transaction():
            registry.rebuild(_runner(conn))
            _bump_generation(conn)


def _runner(conn: psycopg.Connection[Any]) -> registry.Run:
    def run(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        cur = conn.execute(_pg(sql), params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []
    return run

    def dense_done(self, name: str) -> None:
        with self._conn() as conn:
            conn.execute("DELETE FROM dense_pending WHERE doc=%s", (name,))


def _init_schema(conn: psycopg.Connection[Any], url: str, repair: bool) -> None:
    """Create the tables on first use; a damaged index raises IndexCorrupt, or with `repair` (an
    indexer) is cleared so the run indexes its files afresh."""
    with conn.transaction():
        # two processes starting on an empty database create the tables once
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('budgetqa-schema:' || current_schema()))")
        existing = _existing_tables(conn)
        if "meta" in existing and set(_TABLES) - existing and set(_TABLES) - existing <= set(ADDED_TABLES):
            for script in dict.fromkeys(ADDED_TABLES[t] for t in sorted(set(_TABLES) - existing)):
                for statement in registry.statements(script):  # an older store: add what it lacks
                    conn.execute(statement)
            existing = _existing_tables(conn)
        problem = _damage(conn, existing)
        if problem and repair and _ours(conn, existing):
            log.warning("数据库 %s 中的索引%s，已清空 budgetqa 的表并重建", describe(url), problem)
            for table in _TABLES:
                conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")
            existing, problem = set(), ""
        if not problem and "meta" not in existing:
            for statement in _SCHEMA.split(";"):
                conn.execute(statement)
            conn.cursor().executemany("INSERT INTO meta VALUES (%s, %s) ON CONFLICT DO NOTHING",
                                      [("schema_version", str(SCHEMA_VERSION)), ("generation", "0"),
                                       (registry.VERSION_KEY, registry.current_version()),
                                       ("lex_rows", "0"), ("lex_tokens", "0")])
    if problem:
        raise IndexCorrupt(f"数据库 {describe(url)} 中的索引{problem}；{REINDEX}")
    _add_fact_columns(conn)


def _add_fact_columns(conn: psycopg.Connection[Any]) -> None:
    """A store written before facts had an owner gains the column ('' until re-indexed)."""
    with conn.transaction():
        have = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = 'facts'")}
        for name, sql in ADDED_FACT_COLUMNS.items():
            if have and name not in have:
                conn.execute(sql)


def _existing_tables(conn: psycopg.Connection[Any]) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}


def _damage(conn: psycopg.Connection[Any], existing: set[str]) -> str:
    """What is wrong with the index in this schema ('' when nothing, or when there is none yet)."""
    if "meta" not in existing:
        return "不完整（缺少 meta）" if existing & set(_TABLES) - {"meta"} else ""
    missing = set(_TABLES) - existing
    if missing:
        return f"不完整（缺少 {'、'.join(sorted(missing))}）"
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = row[0] if row else None
    return "" if version == str(SCHEMA_VERSION) else f"的版本（{version}）与本程序（{SCHEMA_VERSION}）不符"


def _ours(conn: psycopg.Connection[Any], existing: set[str]) -> bool:
    """Whether the tables are budgetqa's (its `meta` says so, or budgetqa's own tables remain without
    it): a repair never drops another application's tables of the same names."""
    if "meta" in existing:
        return conn.execute("SELECT 1 FROM meta WHERE key='schema_version'").fetchone() is not None
    return {"documents", "chunks", "lex_postings"} <= existing


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
                pipeline: str, origin: str, tokens: list[list[str]], terms: list[str],
                entry: dict[str, Any]) -> None:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    rows = doc_rows(doc, facts, chunks, pipeline, origin, tokens, terms, now, entry)
    conn.execute(f"INSERT INTO documents ({DOCUMENT_COLUMNS}) VALUES ({_marks(15)})", rows.document)
    _copy(conn, f"facts ({FACT_COLUMNS})", rows.facts)
    _copy(conn, "sections", rows.sections)
    _copy(conn, "tables", rows.tables)
    _copy(conn, "rows", rows.rows)
    _copy(conn, f"chunks ({CHUNK_COLUMNS}, ntok)", [(*r, len(t)) for r, t in zip(rows.chunks, tokens, strict=True)])
    _copy(conn, "doc_terms", rows.terms)
    conn.execute("INSERT INTO unit_entries VALUES (%s, %s, %s)", rows.unit_entry)
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
