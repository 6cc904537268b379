"""What every fact store is (SQLite file or PostgreSQL database): its records, its reads, its rows.

`FactStore` is the interface the rest of the code holds. Constructed directly, `FactStore(path)`
opens the embedded SQLite store (as `pathlib.Path()` gives a `PosixPath`); `open_store(settings)`
in budgetqa.index.store.ingest picks the backend from the settings. The reads are written once here
in the SQL both engines speak (`?` placeholders, translated by the PostgreSQL backend); each backend
adds its connections, transactions, the document write and its full-text ranking.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budgetqa.index.model import Document, Fact, Row, Section, Table
from budgetqa.index.store.chunk import Chunk
from budgetqa.index.store.registry import SCHEMA as REGISTRY_SCHEMA
from budgetqa.index.store.registry import TABLES as REGISTRY_TABLES

SCHEMA_VERSION = 3
REINDEX = "请重新运行 `budgetqa index` 重建索引"
# The tables both backends declare alike; each adds its facts, chunks and lexical tables (id types and
# full-text machinery differ). Statements are ";"-separated, without a trailing ";".
SHARED_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    name TEXT PRIMARY KEY, sha256 TEXT NOT NULL, unit TEXT NOT NULL, aliases TEXT NOT NULL,
    year INTEGER, kind TEXT, subunits TEXT NOT NULL, pages INTEGER, layout TEXT NOT NULL,
    n_facts INTEGER NOT NULL, indexed_at TEXT NOT NULL, pipeline TEXT NOT NULL, title TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '', origin TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS documents_unit ON documents(unit);
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
CREATE TABLE IF NOT EXISTS doc_terms (doc TEXT NOT NULL, term TEXT NOT NULL, PRIMARY KEY (doc, term));
CREATE TABLE IF NOT EXISTS dense_pending (doc TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS unit_entries (doc TEXT PRIMARY KEY, version TEXT NOT NULL, entry TEXT NOT NULL);
""" + REGISTRY_SCHEMA
# Tables added after a store's first release: an older store gains them when opened (filled by the next
# `budgetqa index`), instead of being reported damaged.
ADDED_TABLES = {"unit_entries": "CREATE TABLE IF NOT EXISTS unit_entries (doc TEXT PRIMARY KEY, version TEXT NOT NULL, "
                                "entry TEXT NOT NULL)",
                **{t: REGISTRY_SCHEMA for t in REGISTRY_TABLES}}  # ";"-separated statements, each idempotent
# Columns added after a store's first release: an older store gains them when opened (empty until its
# documents are indexed again, which a new pipeline version does).
ADDED_FACT_COLUMNS = {"owner": "ALTER TABLE facts ADD COLUMN owner TEXT NOT NULL DEFAULT ''"}
# The facts table: alike in both backends but for its row id's type ({id}).
FACTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS facts (
    id {id}, doc TEXT NOT NULL, unit TEXT NOT NULL, year INTEGER, kind TEXT,
    section TEXT NOT NULL, tbl TEXT NOT NULL, row TEXT NOT NULL, code TEXT, col TEXT NOT NULL,
    value TEXT NOT NULL, measure TEXT NOT NULL, page INTEGER, quote TEXT NOT NULL,
    source TEXT NOT NULL, context TEXT NOT NULL, owner TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS facts_doc ON facts(doc);
CREATE INDEX IF NOT EXISTS facts_unit ON facts(unit)"""


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
    """A fact store: documents, facts, sections, tables, rows and search chunks, read on demand.

    Subclasses provide `_query`, `close`, `_generation_row`, the writes and `lexical_match`."""

    def __new__(cls, *args: Any, **kwargs: Any) -> FactStore:
        if cls is FactStore:  # FactStore(path): the embedded SQLite store
            from budgetqa.index.store.database import SqliteFactStore

            return super().__new__(SqliteFactStore)
        return super().__new__(cls)

    def __init__(self, path: Path) -> None:  # pragma: no cover - replaced by every backend
        raise TypeError("FactStore is opened through a backend")

    # -- backend hooks -----------------------------------------------------------------------

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def replace_document(self, doc: Document, facts: list[Fact], chunks: list[Chunk] | None = None,
                         pipeline: str = "", origin: str = "", prepared: Prepared | None = None) -> None:
        """Replace everything stored for `doc.name` in one transaction (all or nothing).

        `pipeline` names the parsing code's version, so an upgrade re-indexes unchanged files;
        `origin` where the file came from (see `Stamp`). The chunks' tokens and the document's
        unit-registry entry (budgetqa.index.store.unit_names.doc_entry) are written with it:
        `prepared` (see `prepare`) when the caller made them already, outside any lock."""
        raise NotImplementedError

    def put_unit_entries(self, entries: dict[str, dict[str, Any]]) -> None:
        """Store unit-registry entries of documents already stored (a store indexed before entries were
        kept, or read with other name knowledge), one transaction."""
        raise NotImplementedError

    def rebuild_registry(self) -> None:
        """The unit registry afresh from every document's entry, one transaction (registry.rebuild)."""
        raise NotImplementedError

    def registry_stale(self) -> bool:
        """Whether `rebuild_registry` is due: built with other name knowledge, or never built."""
        from budgetqa.index.store.registry import current_version

        if self.registry_version() == current_version():
            return False
        return bool(self._query("SELECT 1 FROM documents LIMIT 1")) or self.registry_version() is not None

    def set_origin(self, name: str, origin: str) -> None:
        """Record where a document stored before origins were kept came from (it was just seen there)."""
        raise NotImplementedError

    def remove(self, name: str) -> bool:
        """Forget a document; True when it was there."""
        raise NotImplementedError

    def dense_done(self, name: str) -> None:
        raise NotImplementedError

    def lexical_match(self, tokens: Sequence[str], k: int, filters: dict[str, Any]) -> list[tuple[Chunk, float]]:
        """The k best chunks for `tokens` by the full-text index's BM25 (k1 = 1.2, b = 0.75)."""
        raise NotImplementedError

    # -- reads -------------------------------------------------------------------------------

    @property
    def generation(self) -> int:
        """Bumped by every write: caches built from the store (BM25, answers) compare it to stay fresh."""
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

    def has_sha(self, sha256: str, pipeline: str) -> bool:
        """Whether a document of these bytes, parsed by this code version, is stored (any origin)."""
        return bool(self._query("SELECT 1 FROM documents WHERE sha256=? AND pipeline=? LIMIT 1", (sha256, pipeline)))

    def origin_of(self, name: str) -> str | None:
        """Where the document stored under `name` came from ('' before origins were kept); None: no such document."""
        rows = self._query("SELECT origin FROM documents WHERE name=?", (name,))
        return str(rows[0][0]) if rows else None

    def stamps(self) -> list[Stamp]:
        """Every document's identity, to decide what a file to index is (new, unchanged, changed)."""
        rows = self._query("SELECT name, origin, sha256, pipeline FROM documents ORDER BY name")
        return [Stamp(*map(str, r)) for r in rows]

    def facts(self, doc: str | None = None, unit: str | None = None) -> list[Fact]:
        where, params = where_clause({"doc": doc, "unit": unit})
        rows = self._query("SELECT doc, unit, year, kind, section, tbl, row, code, col, value, measure, "
                           f"page, quote, source, context, owner FROM facts{where} ORDER BY id", params)
        return [Fact(*r) for r in rows]

    def row_labels(self, doc: str) -> list[str]:
        """The distinct row labels of a document's facts (what the unit registry reads sub-units from),
        without loading the facts."""
        return [str(r[0]) for r in self._query("SELECT DISTINCT row FROM facts WHERE doc=? ORDER BY row", (doc,))]

    def unit_entries(self) -> dict[str, tuple[str, str]]:
        """Every document's unit-registry entry: name -> (version, entry as JSON). One read of small rows:
        the answer side merges them at start instead of reading every document's names."""
        return {r[0]: (str(r[1]), str(r[2])) for r in self._query("SELECT doc, version, entry FROM unit_entries")}

    def stale_unit_entries(self, version: str) -> list[str]:
        """Documents whose unit-registry entry is missing or of another version."""
        rows = self._query("SELECT d.name FROM documents d LEFT JOIN unit_entries u ON u.doc = d.name "
                           "WHERE u.version IS NULL OR u.version <> ? ORDER BY d.name", (version,))
        return [str(r[0]) for r in rows]

    # -- the unit registry (budgetqa.index.store.registry): looked up per question, never loaded whole --

    def registry_version(self) -> str | None:
        """The name knowledge the stored registry was built with; None: never built (an older store)."""
        rows = self._query("SELECT value FROM meta WHERE key='registry_version'")
        return str(rows[0][0]) if rows else None

    def registry_places(self) -> set[str]:
        """The places the corpus' unit names add to the knowledge's places."""
        return {str(r[0]) for r in self._query("SELECT DISTINCT place FROM reg_places")}

    def registry_forms(self, texts: Sequence[str]) -> list[tuple[str, str, int, bool, bool]]:
        """(form, name, its index among the name's forms, generic, weak) of the forms among `texts`."""
        return [(str(r[0]), str(r[1]), int(r[2]), bool(r[3]), bool(r[4])) for part in _parts(texts)
                for r in self._query("SELECT form, name, i, generic, weak FROM reg_forms WHERE form IN "
                                     f"({','.join('?' * len(part))})", part)]

    def registry_heads(self, heads: Sequence[str]) -> list[tuple[str, str, int, int]]:
        """(form, name, index, lead) of the forms with a place that begin with one of `heads` (2 characters)."""
        return [(str(r[0]), str(r[1]), int(r[2]), int(r[3])) for part in _parts(heads)
                for r in self._query("SELECT form, name, i, lead FROM reg_forms WHERE generic = 0 AND head IN "
                                     f"({','.join('?' * len(part))})", part)]

    def registry_refs(self, names: Sequence[str] | None = None) -> list[tuple[str, str, bool, int]]:
        """(name, document, sub-unit, position in the document's sub-units) of `names` (None: all)."""
        if names is None:
            return [(str(r[0]), str(r[1]), bool(r[2]), int(r[3]))
                    for r in self._query("SELECT name, doc, subunit, pos FROM reg_refs")]
        return [(str(r[0]), str(r[1]), bool(r[2]), int(r[3])) for part in _parts(names)
                for r in self._query(f"SELECT name, doc, subunit, pos FROM reg_refs WHERE name IN "
                                     f"({','.join('?' * len(part))})", part)]

    def registry_records(self, names: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Each name's record (forms, place words …: budgetqa.index.store.unit_names.name_record)."""
        return {str(r[0]): json.loads(r[1]) for part in _parts(names)
                for r in self._query(f"SELECT name, record FROM reg_names WHERE name IN "
                                     f"({','.join('?' * len(part))})", part)}

    def sections(self, doc: str | None = None) -> list[SectionRecord]:
        where, params = where_clause({"doc": doc})
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
        where, params = where_clause({"doc": doc})
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

    def lexical_candidates(self, filters: dict[str, Any]) -> list[tuple[Chunk, list[str]]]:
        """The chunks matching `filters` (doc/unit/year/kind/chunk_type) with their tokens."""
        where, params = where_clause(filters)
        rows = self._query(f"SELECT id, text, metadata, tokens FROM chunks{where} ORDER BY doc, pos", params)
        return [(Chunk(r[0], r[1], json.loads(r[2])), r[3].split()) for r in rows]

    def lexical_terms(self, filters: dict[str, Any]) -> set[str]:
        """The row-label terms of the documents matching `filters` (doc/unit/year/kind)."""
        where, params = where_clause({("name" if k == "doc" else k): v for k, v in filters.items()})
        rows = self._query(f"SELECT term FROM doc_terms WHERE doc IN (SELECT name FROM documents{where})", params)
        return {r[0] for r in rows}


def _parts(values: Sequence[str], size: int = 500) -> list[list[str]]:
    """`values` without repeats, in pieces small enough for one statement's placeholders."""
    unique = list(dict.fromkeys(values))
    return [unique[k:k + size] for k in range(0, len(unique), size)]


def where_clause(filters: dict[str, Any], table: str = "") -> tuple[str, list[Any]]:
    given = {k: v for k, v in filters.items() if v is not None}
    if not given:
        return "", []
    prefix = f"{table}." if table else ""
    return " WHERE " + " AND ".join(f"{prefix}{k}=?" for k in given), list(given.values())


# -- the rows one document writes (the same in both backends) ----------------------------------------


@dataclass(frozen=True)
class DocRows:
    document: tuple[Any, ...]
    facts: list[tuple[Any, ...]]
    sections: list[tuple[Any, ...]]
    tables: list[tuple[Any, ...]]
    rows: list[tuple[Any, ...]]
    chunks: list[tuple[Any, ...]]  # id, doc, pos, text, metadata, unit, year, kind, chunk_type, tokens
    terms: list[tuple[str, str]]
    unit_entry: tuple[str, str, str]  # doc, version, entry (JSON)


DOCUMENT_COLUMNS = ("name, sha256, unit, aliases, year, kind, subunits, pages, layout, n_facts, indexed_at, "
                    "pipeline, title, source, origin")
FACT_COLUMNS = "doc, unit, year, kind, section, tbl, row, code, col, value, measure, page, quote, source, context, owner"
CHUNK_COLUMNS = "id, doc, pos, text, metadata, unit, year, kind, chunk_type, tokens"


def doc_rows(doc: Document, facts: list[Fact], chunks: list[Chunk], pipeline: str, origin: str,
             tokens: list[list[str]], terms: list[str], now: str, unit_entry: dict[str, Any]) -> DocRows:
    return DocRows(
        (doc.name, doc.sha256, doc.unit, to_json(doc.aliases), doc.year, doc.kind, to_json(doc.subunits),
         doc.pages, doc.layout, len(facts), now, pipeline, doc.title, doc.source, origin),
        [(f.doc, f.unit, f.year, f.kind, f.section, f.table, f.row, f.code, f.column, f.value, f.measure,
          f.page, f.quote, f.source, f.context, f.owner) for f in facts],
        [(doc.name, i, s.title, s.level, to_json(s.path), s.text, s.page) for i, s in enumerate(doc.sections)],
        [(doc.name, i, t.title, t.section, t.measure, to_json(t.columns), t.page, int(t.blank_is_zero))
         for i, t in enumerate(doc.tables)],
        [(doc.name, ti, ri, r.label, r.code, to_json(r.cells), r.page, r.quote)
         for ti, t in enumerate(doc.tables) for ri, r in enumerate(t.rows)],
        [(c.id, doc.name, i, c.text, to_json(c.metadata), doc.unit, doc.year, doc.kind, c.chunk_type, " ".join(t))
         for i, (c, t) in enumerate(zip(chunks, tokens, strict=True))],
        [(doc.name, t) for t in dict.fromkeys(terms)],
        entry_row(doc.name, unit_entry))


def entry_row(name: str, entry: dict[str, Any]) -> tuple[str, str, str]:
    return (name, str(entry["version"]), json.dumps(entry, ensure_ascii=False))


# what a document's write needs beyond its rows, computed before any lock is taken: each chunk's tokens,
# the document's own terms, its unit-registry entry
Prepared = tuple[list[list[str]], list[str], dict[str, Any]]


def prepare(doc: Document, facts: Sequence[Fact], chunks: Sequence[Chunk]) -> Prepared:
    from budgetqa.index.store.lexical import tokenize_document

    tokens, terms = tokenize_document(chunks)  # jieba: the slow part of a write
    return tokens, terms, unit_entry_of(doc, facts)


def unit_entry_of(doc: Document, facts: Sequence[Fact]) -> dict[str, Any]:
    """The document's unit-registry entry: its sub-units and its names' forms (unit_names.doc_entry)."""
    from budgetqa.index.store.unit_names import doc_entry

    owners = sorted({f.owner for f in facts if f.owner and f.owner != doc.unit})  # units of tables by unit
    return doc_entry(doc.unit, doc.aliases, (*doc.subunits, *owners), {f.row for f in facts})


DOC_TABLES = ("documents", "facts", "sections", "tables", "rows", "chunks", "doc_terms", "unit_entries")


def to_json(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False)
