"""The unit registry read from its on-disk cache is the registry computed afresh, without reading facts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

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
