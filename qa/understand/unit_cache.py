"""What the unit registry learns from each document, kept on disk so start-up does not grow with the corpus.

Reading a department's sub-units from its row labels needs every fact of the document, and spelling out
a unit's name forms costs milliseconds per unit: for 200 documents that was a minute before the first
answer. Both results depend only on the document's bytes (its sha256), the name knowledge
(unit_names.toml) and, for the forms, the corpus' place names, so they are kept in a small SQLite file
in BUDGETQA_HOME and recomputed only for documents or names not seen before. The cache is best effort:
a read-only home or a damaged file means computing everything, never a wrong answer.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS doc_units (doc TEXT NOT NULL, sha256 TEXT NOT NULL, version TEXT NOT NULL,
                                      units TEXT NOT NULL, PRIMARY KEY (doc, sha256, version));
CREATE TABLE IF NOT EXISTS name_forms (key TEXT PRIMARY KEY, forms TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot (key TEXT PRIMARY KEY, data BLOB NOT NULL);
"""


class UnitCache:
    """Per-document sub-unit names and per-name forms, read in bulk once, written as they are computed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._docs: dict[tuple[str, str, str], list[str]] = {}
        self._forms: dict[str, list[list[object]]] = {}
        self._loaded = False  # the per-document and per-name rows are read at their first use
        self._conn: sqlite3.Connection | None = None
        try:
            self._conn = sqlite3.connect(path, timeout=5, check_same_thread=False)
            self._conn.executescript(SCHEMA)
        except (sqlite3.Error, OSError, ValueError) as exc:
            self._unavailable(exc)

    def _unavailable(self, exc: BaseException) -> None:
        log.warning("单位名缓存不可用（%s），本次全部重新计算：%s", self.path, exc)
        self._conn = None

    def _load(self) -> None:
        """The per-document and per-name rows, in bulk (a registry snapshot that matches needs none)."""
        with self._lock:
            if self._loaded:
                return
            self._loaded = True
            if self._conn is None:
                return
            try:
                for doc, sha, version, units in self._conn.execute("SELECT doc, sha256, version, units FROM doc_units"):
                    self._docs[(doc, sha, version)] = json.loads(units)
                for key, forms in self._conn.execute("SELECT key, forms FROM name_forms"):
                    self._forms[key] = json.loads(forms)
            except (sqlite3.Error, ValueError) as exc:
                self._unavailable(exc)

    def snapshot(self, key: str) -> bytes | None:
        """The registry built for `key` (budgetqa.understand.units.matcher_for), if it is the one kept."""
        with self._lock:
            if self._conn is None:
                return None
            try:
                row = self._conn.execute("SELECT data FROM snapshot WHERE key=?", (key,)).fetchone()
            except sqlite3.Error as exc:
                log.warning("单位名缓存读取失败：%s", exc)
                return None
        return None if row is None else bytes(row[0])

    def put_snapshot(self, key: str, data: bytes) -> None:
        """Keep this registry as the only snapshot (an older corpus' one is of no further use)."""
        with self._lock:
            if self._conn is None:
                return
            try:
                with self._conn:
                    self._conn.execute("DELETE FROM snapshot")
                    self._conn.execute("INSERT INTO snapshot VALUES (?, ?)", (key, data))
            except sqlite3.Error as exc:
                log.warning("单位名缓存写入失败：%s", exc)

    def doc_units(self, doc: str, sha256: str, version: str) -> list[str] | None:
        self._load()
        return self._docs.get((doc, sha256, version))

    def put_doc_units(self, doc: str, sha256: str, version: str, units: Iterable[str]) -> None:
        found = list(units)
        self._docs[(doc, sha256, version)] = found
        self._write("INSERT OR REPLACE INTO doc_units VALUES (?, ?, ?, ?)",
                    (doc, sha256, version, json.dumps(found, ensure_ascii=False)))

    def forms(self, key: str) -> list[list[object]] | None:
        self._load()
        return self._forms.get(key)

    def put_forms(self, key: str, forms: list[list[object]]) -> None:
        self._forms[key] = forms
        self._write("INSERT OR REPLACE INTO name_forms VALUES (?, ?)", (key, json.dumps(forms, ensure_ascii=False)))

    def commit(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.commit()
            except sqlite3.Error as exc:
                log.warning("单位名缓存写入失败：%s", exc)

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                self._conn.execute(sql, params)
            except sqlite3.Error as exc:  # another process holds the file: this one just computes
                log.warning("单位名缓存写入失败：%s", exc)
