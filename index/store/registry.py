"""The unit registry kept in the store, so the answer side looks names up instead of merging every
document's entry at start (start-up no longer grows with the corpus).

Tables (both backends; kept in the same transaction as the document write that changes them):
- `reg_refs(name, doc, subunit, pos)`: the units each document answers for — its own unit (subunit 0) and
  the units inside it (its unit_entries' sub-units, subunit 1, `pos` their order in the entry).
- `reg_names(name, record)`: each name's record (unit_names.name_record: forms, place words, the places
  printed in it), spelled with the places of the whole corpus, as the start-up merge spelled it.
- `reg_forms(form, name, i, generic, weak, lead, head)`: every form of every name, indexed by the form
  (exact matches in a question) and by its first two characters (in-order matches).
- `reg_places(name, place)`: the places each name adds to the corpus' places.

A document's write re-derives only the names it touches (its unit and sub-units, before and after); a
name is spelled out again only when the corpus gains or loses a place printed in it, or its unit's
documents give it other aliases — the rules of the former merge (qa/understand/units.py), applied
incrementally. When the name knowledge or the way names are read changes (`registry_version` in `meta`
differs), `budgetqa index` rebuilds the whole registry once (`rebuild`); until then answers use the
registry as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from budgetqa.index.store.unit_names import (
    NameKnowledge,
    entry_version,
    load_names,
    name_record,
    places_inside,
)

Run = Callable[[str, Sequence[Any]], list[tuple[Any, ...]]]  # one statement, `?` placeholders, its rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS reg_refs (name TEXT NOT NULL, doc TEXT NOT NULL, subunit INTEGER NOT NULL,
    pos INTEGER NOT NULL, PRIMARY KEY (name, doc, subunit));
CREATE INDEX IF NOT EXISTS reg_refs_doc ON reg_refs(doc);
CREATE TABLE IF NOT EXISTS reg_names (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reg_forms (form TEXT NOT NULL, name TEXT NOT NULL, i INTEGER NOT NULL,
    generic INTEGER NOT NULL, weak INTEGER NOT NULL, lead INTEGER NOT NULL, head TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reg_forms_form ON reg_forms(form);
CREATE INDEX IF NOT EXISTS reg_forms_head ON reg_forms(head) WHERE generic = 0;
CREATE INDEX IF NOT EXISTS reg_forms_name ON reg_forms(name);
CREATE TABLE IF NOT EXISTS reg_places (name TEXT NOT NULL, place TEXT NOT NULL, PRIMARY KEY (name, place))"""
TABLES = ("reg_refs", "reg_names", "reg_forms", "reg_places")
VERSION_KEY = "registry_version"


def statements(schema: str = SCHEMA) -> list[str]:
    return [s for s in schema.split(";") if s.strip()]


def current_version(know: NameKnowledge | None = None) -> str:
    return entry_version(know or load_names())


def sync(run: Run, docs: Iterable[str], know: NameKnowledge | None = None) -> None:
    """Bring the registry in line with the stored documents `docs` (just written or removed): their
    refs, then every name they touch or whose printed places the corpus gained or lost."""
    know = know or load_names()
    touched: set[str] = set()
    cache: dict[str, dict[str, Any]] = {}  # entries read in this call (a document's sub-units share it)
    before = _corpus_places(run)
    for doc in docs:
        touched |= {str(r[0]) for r in run("SELECT name FROM reg_refs WHERE doc=?", (doc,))}
        run("DELETE FROM reg_refs WHERE doc=?", (doc,))
        rows = run("SELECT d.unit, u.entry FROM documents d JOIN unit_entries u ON u.doc = d.name WHERE d.name=?",
                   (doc,))
        if rows:
            unit, entry = str(rows[0][0]), json.loads(rows[0][1])
            refs = [(unit, doc, 0, 0)]
            refs += [(s, doc, 1, i + 1) for i, s in enumerate(entry["subunits"]) if s and s != unit]
            _insert(run, "reg_refs", refs)
            touched |= {r[0] for r in refs}
    for name in sorted(touched):  # their own places first: the corpus' places follow from them
        _put_places(run, name, _base_record(run, name, cache))
    after = _corpus_places(run)
    changed = before ^ after
    if changed:
        for place in sorted(changed):
            touched |= {str(r[0]) for r in run("SELECT name FROM reg_names WHERE name LIKE ?", (f"%{place}%",))}
    places = tuple(sorted(after | know.places, key=len, reverse=True))
    for name in sorted(touched):
        _spell(run, name, places, know, _base_record(run, name, cache))


def rebuild(run: Run, know: NameKnowledge | None = None) -> None:
    """The whole registry afresh from the stored documents' entries (new name knowledge), streaming:
    each entry is read once, in the documents' order."""
    know = know or load_names()
    for table in TABLES:
        run(f"DELETE FROM {table}", ())
    refs: list[tuple[Any, ...]] = []
    for doc, unit, entry in run("SELECT d.name, d.unit, u.entry FROM documents d JOIN unit_entries u "
                                "ON u.doc = d.name ORDER BY d.name", ()):
        subs = json.loads(entry)["subunits"]
        refs.append((unit, doc, 0, 0))
        refs += [(s, doc, 1, i + 1) for i, s in enumerate(subs) if s and s != unit]
    _insert(run, "reg_refs", refs)
    own = {name for name, _, sub, _ in refs if not sub}
    owners: dict[str, set[str]] = {}  # name -> the documents its ref lists (its own ones when it has any)
    for name, doc, sub, _ in refs:
        if not sub or name not in own:
            owners.setdefault(name, set()).add(doc)
    based: set[str] = set()
    for doc, entry in run("SELECT doc, entry FROM unit_entries WHERE doc IN (SELECT name FROM documents) "
                          "ORDER BY doc", ()):
        for name, rec in json.loads(entry)["names"].items():
            if name not in based and doc in owners.get(name, ()):
                based.add(name)
                run("INSERT INTO reg_names VALUES (?, ?)", (name, json.dumps(rec, ensure_ascii=False)))
                _put_places(run, name, rec)
    places = tuple(sorted(_corpus_places(run) | know.places, key=len, reverse=True))
    for name in sorted(based):
        rows = run("SELECT record FROM reg_names WHERE name=?", (name,))
        _spell(run, name, places, know, json.loads(rows[0][0]))
    set_version(run, current_version(know))


def set_version(run: Run, version: str) -> None:
    run("DELETE FROM meta WHERE key=?", (VERSION_KEY,))
    run("INSERT INTO meta VALUES (?, ?)", (VERSION_KEY, version))


def stored_version(run: Run) -> str | None:
    rows = run("SELECT value FROM meta WHERE key=?", (VERSION_KEY,))
    return str(rows[0][0]) if rows else None


def ref_docs(run: Run, name: str) -> tuple[list[str], bool]:
    """The documents answering for `name` and whether it is only a sub-unit (as unit_refs lists them)."""
    rows = run("SELECT doc, subunit FROM reg_refs WHERE name=? ORDER BY doc", (name,))
    own = [str(d) for d, s in rows if not s]
    return (own, False) if own else ([str(d) for d, s in rows], True)


def _base_record(run: Run, name: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The name's record as the first of its documents spelled it (with that document's places)."""
    docs, _ = ref_docs(run, name)
    for doc in docs:
        if doc not in cache:
            rows = run("SELECT entry FROM unit_entries WHERE doc=?", (doc,))
            cache[doc] = json.loads(rows[0][0]) if rows else {"names": {}}
        rec = cache[doc]["names"].get(name)
        if rec is not None:
            return dict(rec)
    return None


def _aliases(run: Run, name: str) -> tuple[str, ...]:
    """A unit's aliases: those of every document whose unit it is, in the documents' order."""
    out: tuple[str, ...] = ()
    for (aliases,) in run("SELECT aliases FROM documents WHERE unit=? ORDER BY name", (name,)):
        out += tuple(json.loads(aliases))
    return out


def _put_places(run: Run, name: str, rec: dict[str, Any] | None) -> None:
    run("DELETE FROM reg_places WHERE name=?", (name,))
    if rec is not None:
        _insert(run, "reg_places", [(name, p) for p in sorted(set(rec["own"]))])


def _corpus_places(run: Run) -> set[str]:
    return {str(r[0]) for r in run("SELECT DISTINCT place FROM reg_places", ())}


def _spell(run: Run, name: str, places: tuple[str, ...], know: NameKnowledge, rec: dict[str, Any] | None) -> None:
    """Write the name's record and forms, re-spelled when the corpus prints other places in it than its
    document knew or its unit has other aliases (the former start-up merge's rule); gone when no
    document answers for it any more."""
    run("DELETE FROM reg_names WHERE name=?", (name,))
    run("DELETE FROM reg_forms WHERE name=?", (name,))
    if rec is None:
        run("DELETE FROM reg_places WHERE name=?", (name,))
        return
    aliases = _aliases(run, name)
    if rec["inside"] != places_inside(name, places, know) or rec["aliases"] != sorted(set(aliases)):
        rec = name_record(name, aliases, know, places)
    run("INSERT INTO reg_names VALUES (?, ?)", (name, json.dumps(rec, ensure_ascii=False)))
    _insert(run, "reg_forms", [(t, name, i, int(g), int(w), int(lead), t[:2])
                               for i, (t, g, w, lead) in enumerate(rec["forms"])])


def _insert(run: Run, table: str, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    width = len(rows[0])
    marks = "(" + ",".join("?" * width) + ")"
    for k in range(0, len(rows), 200):
        part = rows[k:k + 200]
        run(f"INSERT INTO {table} VALUES {','.join([marks] * len(part))}",
            [v for row in part for v in row])
