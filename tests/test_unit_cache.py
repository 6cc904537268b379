"""The unit registry read from its on-disk cache is the registry computed afresh, without reading facts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from budgetqa.catalog import Catalog, MemorySource
from budgetqa.index.model import Fact
from budgetqa.understand.unit_cache import UnitCache
from budgetqa.understand.units import UnitMatcher

from tests.fixtures_answer import corpus


class CountingSource(MemorySource):
    """The fixture corpus, counting how often a document's facts are read."""

    def __init__(self, base: MemorySource) -> None:
        super().__init__((d, base.facts(doc=d.name)) for d in base.documents())
        self.fact_reads = 0

    def facts(self, doc: str | None = None, unit: str | None = None) -> list[Fact]:
        self.fact_reads += 1
        return super().facts(doc=doc, unit=unit)


def _registry(m: UnitMatcher) -> tuple[Sequence[object], dict[str, object]]:
    return sorted((r.name, r.docs, r.subunit) for r in m.refs), dict(m._variants)


def test_cached_registry_equals_fresh_and_reads_no_facts(tmp_path: Path) -> None:
    fresh = UnitMatcher(Catalog(CountingSource(corpus())))
    UnitMatcher(Catalog(CountingSource(corpus())), cache=UnitCache(tmp_path / "u.sqlite3"))
    source = CountingSource(corpus())
    again = UnitMatcher(Catalog(source), cache=UnitCache(tmp_path / "u.sqlite3"))
    assert _registry(again) == _registry(fresh)
    assert source.fact_reads == 0


def test_a_changed_document_is_read_again(tmp_path: Path) -> None:
    UnitMatcher(Catalog(CountingSource(corpus())), cache=UnitCache(tmp_path / "u.sqlite3"))
    base = corpus()
    docs = base.documents()
    changed = MemorySource([(d if i else type(d)(**{**d.__dict__, "sha256": "f" * 64}), base.facts(doc=d.name))
                            for i, d in enumerate(docs)])
    source = CountingSource(changed)
    UnitMatcher(Catalog(source), cache=UnitCache(tmp_path / "u.sqlite3"))
    assert source.fact_reads == 1


def test_a_damaged_cache_file_means_computing(tmp_path: Path) -> None:
    path = tmp_path / "u.sqlite3"
    path.write_bytes(b"not a database" * 100)
    fresh = UnitMatcher(Catalog(CountingSource(corpus())))
    damaged = UnitMatcher(Catalog(CountingSource(corpus())), cache=UnitCache(path))
    assert _registry(damaged) == _registry(fresh)


class CountingCache(UnitCache):
    """A unit cache counting the name forms it had to compute (cache misses)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.computed: list[str] = []

    def put_forms(self, key: str, forms: list[list[object]]) -> None:
        self.computed.append(key)
        super().put_forms(key, forms)


def test_a_new_place_does_not_respell_every_other_unit(tmp_path: Path) -> None:
    """A document from a new city adds a corpus place; only names printing that place are spelled out
    again at the next start (before, every name's key held every place: start-up grew with the corpus)."""
    base = corpus()
    first = CountingCache(tmp_path / "u.sqlite3")
    UnitMatcher(Catalog(MemorySource((d, base.facts(doc=d.name)) for d in base.documents())), cache=first)
    assert first.computed
    doc = base.documents()[0]
    unit = "宁远市" + doc.unit.split("市", 1)[-1]
    new = type(doc)(**{**doc.__dict__, "name": "new.txt", "unit": unit, "aliases": (), "sha256": "e" * 64})
    grown = MemorySource([*((d, base.facts(doc=d.name)) for d in base.documents()), (new, [])])
    again = CountingCache(tmp_path / "u.sqlite3")
    matcher = UnitMatcher(Catalog(grown), cache=again)
    assert "宁远" in matcher.places
    assert 0 < len(again.computed) < len(first.computed)  # the new unit's name alone
    assert _registry(matcher) == _registry(UnitMatcher(Catalog(grown)))


def test_a_registry_snapshot_is_read_back_for_the_same_documents_only(tmp_path: Path) -> None:
    """matcher_for keeps the built registry: the next process with the same documents reads it back
    (no name spelled out, no facts read); a changed document means building it again."""
    from budgetqa.understand.units import matcher_for

    fresh = UnitMatcher(Catalog(CountingSource(corpus())))
    built = matcher_for(Catalog(CountingSource(corpus())), cache=UnitCache(tmp_path / "u.sqlite3"))
    again_cache = CountingCache(tmp_path / "u.sqlite3")
    source = CountingSource(corpus())
    again = matcher_for(Catalog(source), cache=again_cache)
    assert again is not built and _registry(again) == _registry(built) == _registry(fresh)
    assert again.find("福州市医疗保障局的会议费") == fresh.find("福州市医疗保障局的会议费")
    assert source.fact_reads == 0 and again_cache.computed == [] and again_cache.snapshot("x") is None

    base = corpus()
    doc = base.documents()[0]
    new = type(doc)(**{**doc.__dict__, "name": "new.txt", "unit": "宁远市" + doc.unit.split("市", 1)[-1],
                       "aliases": (), "sha256": "e" * 64})
    grown = MemorySource([*((d, base.facts(doc=d.name)) for d in base.documents()), (new, [])])
    changed_cache = CountingCache(tmp_path / "u.sqlite3")
    changed = matcher_for(Catalog(grown), cache=changed_cache)
    assert "宁远" in changed.places and changed_cache.computed  # rebuilt, the new name spelled out


def test_a_damaged_snapshot_is_rebuilt(tmp_path: Path) -> None:
    from budgetqa.understand.units import matcher_for

    matcher_for(Catalog(CountingSource(corpus())), cache=UnitCache(tmp_path / "u.sqlite3"))
    import sqlite3

    with sqlite3.connect(tmp_path / "u.sqlite3") as conn:
        conn.execute("UPDATE snapshot SET data = ?", (b"not a pickle",))
    rebuilt = matcher_for(Catalog(CountingSource(corpus())), cache=UnitCache(tmp_path / "u.sqlite3"))
    assert _registry(rebuilt) == _registry(UnitMatcher(Catalog(CountingSource(corpus()))))


def _indexes(m: UnitMatcher) -> tuple[object, object, object]:
    exact = {k: sorted((r.name, v.text, v.generic, v.weak) for r, v in refs) for k, refs in m._exact_index.items()}
    fuzzy = {k: sorted((r.name, t, lead) for r, t, lead in refs) for k, refs in m._fuzzy_index.items()}
    return exact, fuzzy, {n: sorted(p) for n, p in m._places.items()}


def test_the_registry_merged_from_stored_entries_is_the_registry_read_afresh(backend: Any) -> None:
    """Each document's registry entry is written with it (both backends); the registry merged from the
    entries at start equals the one built by reading every document's names, and is kept right when
    a document is removed or a store written before entries were kept is opened."""
    from budgetqa.index.store.ingest import refresh_unit_entries
    from budgetqa.index.store.unit_names import entry_version, load_names

    base = corpus()
    store = backend.open()
    for d in base.documents():
        store.replace_document(d, base.facts(doc=d.name))
    assert sorted(store.unit_entries()) == sorted(d.name for d in base.documents())
    fresh = UnitMatcher(Catalog(base))
    merged = UnitMatcher(Catalog(store), entries=store.unit_entries())
    assert _registry(merged) == _registry(fresh) and _indexes(merged) == _indexes(fresh)
    assert merged.find("福州市医疗保障数据技术中心的会议费") == fresh.find("福州市医疗保障数据技术中心的会议费")

    gone = base.documents()[0].name
    store.remove(gone)
    assert gone not in store.unit_entries()
    left = MemorySource((d, base.facts(doc=d.name)) for d in base.documents() if d.name != gone)
    assert _registry(UnitMatcher(Catalog(store), entries=store.unit_entries())) == _registry(UnitMatcher(Catalog(left)))

    store.close()
    backend.execute("DROP TABLE unit_entries")  # a store indexed before entries were kept
    older = backend.open()
    assert older.unit_entries() == {}  # the table is back, empty: the merge reads those documents' rows
    assert _registry(UnitMatcher(Catalog(older), entries={})) == _registry(UnitMatcher(Catalog(left)))
    assert refresh_unit_entries(older) == len(left.documents())  # `budgetqa index` writes them
    assert older.stale_unit_entries(entry_version(load_names())) == [] and refresh_unit_entries(older) == 0
    assert _indexes(UnitMatcher(Catalog(older), entries=older.unit_entries())) == _indexes(UnitMatcher(Catalog(left)))
    older.close()


def test_a_place_another_document_brings_respells_the_names_printing_it() -> None:
    """A name's forms depend on the corpus' places printed inside it ("宁远" is a place only once a
    document names "宁远市…"): its stored entry, read without that place, is spelled out again."""
    import json

    from budgetqa.index.store.unit_names import doc_entry

    docs = [_plain_doc("a.txt", "宁远医疗保障服务中心"), _plain_doc("b.txt", "宁远市财政局")]
    stored = {d.name: (e["version"], json.dumps(e)) for d in docs
              for e in [doc_entry(d.unit, d.aliases, d.subunits, ())]}
    source = MemorySource((d, []) for d in docs)
    merged = UnitMatcher(Catalog(source), entries=stored)
    fresh = UnitMatcher(Catalog(source))
    assert _indexes(merged) == _indexes(fresh) and "宁远" in merged.places
    assert [[r.name for r in m.refs] for m in merged.find("宁远医保中心的会议费")[0]] == [["宁远医疗保障服务中心"]]


def _plain_doc(name: str, unit: str) -> Any:
    from budgetqa.index.model import Document

    return Document(name=name, sha256="0" * 64, unit=unit, aliases=(), year=2026, kind="预算", subunits=(),
                    sections=(), tables=(), pages=None, layout="seed")


_QUESTIONS = ("福州市医疗保障数据技术中心的会议费", "福州医保局2024年公务接待费", "宁远医保中心的会议费", "杭州市交通运输局的预算",
              "西安交管支队", "医保局的办公费", "曾都医保局和福州医保局", "宁远市财政局2026年的收入")


def _finds(m: UnitMatcher, questions: Sequence[str]) -> list[object]:
    return [m.find(q) for q in questions]


def test_the_registry_kept_in_the_store_answers_as_the_registry_read_afresh(backend: Any) -> None:
    """The registry lives in the store (both backends), written with each document and removed with it;
    looked up per question it finds what the registry read afresh from every document finds, as
    documents come and go (a new place re-spells the names printing it), and a rebuild writes the same."""
    import json

    from budgetqa.index.store.unit_names import load_names
    from budgetqa.understand.units import StoredUnitMatcher, matcher_for

    base = corpus()
    docs = [*((d, base.facts(doc=d.name)) for d in base.documents()),
            (_plain_doc("a.txt", "宁远医疗保障服务中心"), []), (_plain_doc("b.txt", "宁远市财政局"), [])]
    questions = [*_QUESTIONS, *(f"{d.unit}的会议费" for d, _ in docs)]
    store = backend.open()
    for i, (d, facts) in enumerate(docs):
        store.replace_document(d, facts)
        fresh = UnitMatcher(Catalog(MemorySource(docs[:i + 1])))
        kept = StoredUnitMatcher(store, load_names())
        assert _finds(kept, questions) == _finds(fresh, questions), d.name
    merged = UnitMatcher(Catalog(store), entries=store.unit_entries())  # the start-up merge it replaces
    assert [(r.name, r.docs, r.subunit) for r in kept.refs] == [(r.name, r.docs, r.subunit) for r in merged.refs]
    assert set(kept.places) == set(fresh.places) and "宁远" in kept.places
    assert kept.closest("杭州市交通运输局") == merged.closest("杭州市交通运输局")

    def tables() -> list[object]:
        return [sorted(store._query(f"SELECT * FROM {t}")) for t in ("reg_refs", "reg_names", "reg_forms", "reg_places")]

    incremental = tables()
    store.rebuild_registry()
    assert tables() == incremental

    store.remove("b.txt")  # 宁远 is no longer a place of the corpus: 宁远医疗保障服务中心 is spelled without it
    left = [p for p in docs if p[0].name != "b.txt"]
    assert _finds(StoredUnitMatcher(store, load_names()), questions) == _finds(UnitMatcher(Catalog(MemorySource(left))),
                                                                              questions)
    # start-up reads no document's entry: the store's registry is looked up
    store.unit_entries = lambda: (_ for _ in ()).throw(AssertionError("entries merged at start"))  # type: ignore[method-assign]
    assert isinstance(matcher_for(Catalog(store)), StoredUnitMatcher)
    assert json.loads(store._query("SELECT record FROM reg_names WHERE name='宁远医疗保障服务中心'")[0][0])["inside"] == []
    store.close()


def test_new_name_rules_are_applied_by_the_next_index_run_not_at_start(backend: Any, seed_paths: list[Path]) -> None:
    """A registry built with other name rules is still served at once (no rebuild at start); the next
    `budgetqa index` rebuilds it, even when no file changed."""
    from budgetqa.index.store.ingest import index_paths
    from budgetqa.understand.units import StoredUnitMatcher, matcher_for

    settings = backend.settings(dense=False)
    store = backend.open()
    rebuild = type(store).rebuild_registry
    type(store).rebuild_registry = lambda self: pytest.fail("a fresh index rebuilt its registry")  # type: ignore[method-assign]
    try:  # a fresh store's registry is kept as documents are written: nothing to rebuild after
        index_paths(seed_paths[:2], settings, progress=False)
    finally:
        type(store).rebuild_registry = rebuild  # type: ignore[method-assign]
    before = _finds(matcher_for(Catalog(store)), _QUESTIONS)
    backend.execute("UPDATE meta SET value='older-rules' WHERE key='registry_version'")
    backend.execute("DELETE FROM reg_forms")  # what a rebuild at start would have to redo
    store = backend.open()
    assert store.registry_stale()
    served = matcher_for(Catalog(store))
    assert isinstance(served, StoredUnitMatcher) and served.find("福州医保局的会议费")[0] == []  # served as built
    report = index_paths(seed_paths[:2], settings, progress=False)
    assert report.unchanged == 2
    store = backend.open()
    assert not store.registry_stale() and _finds(matcher_for(Catalog(store)), _QUESTIONS) == before
