"""Which indexed unit(s) a question names: full names, sub-unit names and the short forms people use.

A registry of the corpus' units is built once from the documents' metadata: every document's unit and
every sub-unit its 单位构成 lists. Each name is split into party prefix, place and body ("中共" + "西安市"
+ "委宣传部"), and expanded into the forms citizens type, from the knowledge in unit_names.toml: short
forms (交通运输局→交通局, 安全生产监督管理局→安监局), the place with or without its level word, a parent
unit left out ("西安市公安局交通管理支队" → "西安交管支队"), a generic tail left off ("…基地综合协调办公室"
→ "…基地"). The question is searched for every form; a question's words that keep a name's characters
in order from its place to its last character ("无锡应急执法监督局") match too, a little weaker. The
longest non-overlapping matches are the mentions; equal matches by several units are ambiguous.

A place followed by a unit-like name the registry does not hold ("杭州市交通运输局", "上海某学校") is a
unit the corpus lacks: it is reported, with the closest known units, never answered with another unit.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path
from typing import Any

from budgetqa.catalog import Catalog, DocMeta
from budgetqa.index.store.unit_names import (
    _AFTER_UNIT,
    _CJK,
    _ITEM_WORDS,
    _JOINERS,
    _NOT_PLACE,
    NameKnowledge,
    _leading_place,
    _merged,
    _place_index,
    _place_words,
    _plain,
    _Variant,
    clean_subunit,
    digest,
    doc_entry,
    entry_version,
    harvested_subunits,
    load_names,
    name_forms,
    name_record,
    place_short,
    places_inside,
    split_name,
)
from budgetqa.understand.unit_cache import UnitCache

log = logging.getLogger(__name__)
# read by callers and tests from here
__all__ = ["Mention", "NameKnowledge", "UnitMatcher", "UnitRef", "clean_subunit", "harvested_subunits",
           "load_names", "matcher_for", "name_forms", "place_short", "split_name", "unit_refs", "variants"]


@dataclass(frozen=True)
class UnitRef:
    """A unit as the corpus names it, with the documents that answer for it."""

    name: str
    docs: tuple[str, ...]
    subunit: bool = False  # only rows labelled with this name inside a department's document


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    refs: tuple[UnitRef, ...]  # more than one: ambiguous



def unit_refs(catalog: Catalog, know: NameKnowledge | None = None, cache: UnitCache | None = None) -> list[UnitRef]:
    """Every unit a question may name: each document's unit, and the units inside a department's document
    (its 单位构成 list, and row labels that are unit names: "中共西安市委理论讲师团", "湖州交通技师学院")."""
    know = know or load_names()
    own: dict[str, list[str]] = defaultdict(list)
    sub: dict[str, list[str]] = defaultdict(list)
    for m in catalog.docs.values():
        own[m.unit].append(m.name)
    for m in catalog.docs.values():
        found = [c for c in (clean_subunit(s, m.unit, know) for s in m.subunits) if len(c) >= 4]
        found += _harvest(catalog, m, know, cache)
        # "湖州市第三人民医院（湖州市精神病院）" and the rows' "湖州市第三人民医院" are one unit
        for s in dict.fromkeys(_plain(f) if len(_plain(f)) >= 5 else f for f in found):
            if s and s != m.unit and m.name not in sub[s]:
                sub[s].append(m.name)
    refs = [UnitRef(n, tuple(d)) for n, d in own.items()]
    refs += [UnitRef(n, tuple(d), subunit=True) for n, d in sub.items() if n not in own]
    return refs


def _harvest(catalog: Catalog, m: DocMeta, know: NameKnowledge, cache: UnitCache | None) -> list[str]:
    """harvested_subunits of one document, from the cache when its bytes were read before (reading
    them means loading every fact of the document)."""
    if cache is None or not m.sha256:
        return harvested_subunits(m.unit, _row_labels(catalog, m.name), know)
    found = cache.doc_units(m.name, m.sha256, know.version)
    if found is None:
        found = harvested_subunits(m.unit, _row_labels(catalog, m.name), know)
        cache.put_doc_units(m.name, m.sha256, know.version, found)
    return found


def _row_labels(catalog: Catalog, doc: str) -> set[str]:
    """A document's row labels: straight from the store when it can list them (no facts loaded)."""
    labels = getattr(catalog.source, "row_labels", None)
    if callable(labels):
        return set(labels(doc))
    return {f.row for f in catalog.facts.get(doc, ())}



def _forms(name: str, aliases: tuple[str, ...], know: NameKnowledge, abbrev: dict[str, tuple[str, ...]],
           places: tuple[str, ...], context: str, cache: UnitCache | None) -> list[_Variant]:
    """name_forms, from the cache when the same name was spelled out with the same knowledge and places."""
    if cache is None:
        return name_forms(name, know, abbrev, places, aliases)
    # only the places printed in the name can split it: a document from a new city must not change
    # every other name's key (the whole registry was re-spelled at the next start, O(corpus))
    plain, index = _plain(name), _place_index(places, know.places)
    inside = sorted({p for i, c in enumerate(plain) for p in index.get(c, ()) if plain.startswith(p, i)})
    key = digest(context, name, aliases, inside)
    hit = cache.forms(key)
    if hit is not None:
        return [_Variant(str(t), bool(g), bool(w)) for t, g, w in hit]
    found = name_forms(name, know, abbrev, places, aliases)
    cache.put_forms(key, [[v.text, v.generic, v.weak] for v in found])
    return found


def variants(name: str, aliases: tuple[str, ...], abbreviations: dict[str, str]) -> list[_Variant]:
    """Kept for callers of the earlier API: the forms of one name with the bundled knowledge."""
    know = load_names()
    return name_forms(name, know, _merged(know, abbreviations), aliases=aliases)




@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    score: float
    ref: UnitRef
    generic: bool


def matcher_for(catalog: Catalog, abbreviations: dict[str, str] | None = None,
                cache: UnitCache | None = None) -> UnitMatcher:
    """The UnitMatcher of the catalog's documents; with a cache, the registry built by an earlier
    process for exactly these documents (name, bytes, unit, aliases, sub-units), this name knowledge
    and this code is read back whole instead of built: building it costs ~1.5 ms per document even
    with every name's forms cached (3 s at 2,000 documents), reading it back ~0.2 ms."""
    know = load_names()
    stored = _stored_registry(catalog, know, abbreviations)
    if stored is not None:
        return stored
    entries = _stored_entries(catalog)
    if cache is None:
        return UnitMatcher(catalog, abbreviations, entries=entries)
    key = digest(_code_version(), entry_version(know), _merged(know, abbreviations),
                 sorted([m.name, m.sha256, m.unit, list(m.aliases), list(m.subunits)] for m in catalog.docs.values()),
                 # a document indexed again by a new pipeline keeps its bytes but may bring other units
                 sorted(entries.items()) if entries else None)
    data = cache.snapshot(key)
    if data is not None:
        try:
            kept = pickle.loads(data)  # noqa: S301 - our own cache file under the home
            if isinstance(kept, UnitMatcher):
                return kept
        except Exception as exc:  # noqa: BLE001 - a damaged snapshot is rebuilt, never an error
            log.warning("单位名缓存中的登记表无法读取，重新生成：%s", exc)
    matcher = UnitMatcher(catalog, abbreviations, know, cache, entries)
    cache.put_snapshot(key, pickle.dumps(matcher, protocol=pickle.HIGHEST_PROTOCOL))
    return matcher


def _stored_registry(catalog: Catalog, know: NameKnowledge,
                     abbreviations: dict[str, str] | None) -> UnitMatcher | None:
    """The registry kept in the store (budgetqa.index.store.registry), looked up per question: nothing
    is merged at start, whatever the corpus' size. None for a store without one (indexed before it
    was kept: the merge below serves until the next `budgetqa index` builds it) and for sources
    that are not stores (tests' MemorySource)."""
    source = catalog.source
    version = getattr(source, "registry_version", None)
    if not callable(version) or _merged(know, abbreviations) != dict(know.abbreviations):
        return None
    built = version()
    if built is None:
        return None
    if built != entry_version(know):  # rules changed since: answer with the registry as built, say what fixes it
        log.warning("单位名称规则已更新，单位登记表仍是旧规则生成的；运行 `budgetqa index` 即可更新")
    return StoredUnitMatcher(source, know)


def _stored_entries(catalog: Catalog) -> dict[str, tuple[str, str]] | None:
    """The documents' registry entries when the catalog reads a store that keeps them."""
    read = getattr(catalog.source, "unit_entries", None)
    return read() if callable(read) else None


@lru_cache(maxsize=1)
def _code_version() -> str:
    """This module's source: a changed way of reading names never serves an older registry."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


class UnitMatcher:
    """The registry of the corpus' units and the reading of unit names in questions.

    Built from the documents' stored registry entries (`entries`: name -> (version, JSON), see
    budgetqa.index.store.unit_names.doc_entry) by merging them, or else by reading every document's
    names (MemorySource, tests)."""

    def __init__(self, catalog: Catalog, abbreviations: dict[str, str] | None = None,
                 knowledge: NameKnowledge | None = None, cache: UnitCache | None = None,
                 entries: Mapping[str, tuple[str, str]] | None = None) -> None:
        self.know = knowledge or load_names()
        abbrev = _merged(self.know, abbreviations)
        aliases: dict[str, tuple[str, ...]] = defaultdict(tuple)
        for m in catalog.docs.values():
            aliases[m.unit] = aliases[m.unit] + m.aliases
        leads: dict[str, list[int]] = {}
        if entries is not None and abbrev == dict(self.know.abbreviations):
            self.refs, self.places, records = _merge_entries(catalog, entries, self.know, aliases)
            self._variants = {n: [_Variant(t, g, w) for t, g, w, _ in rec["forms"]] for n, rec in records.items()}
            self._places = {n: set(rec["words"]) for n, rec in records.items()}
            leads = {n: [lead for *_, lead in rec["forms"]] for n, rec in records.items()}
        else:
            self.refs = unit_refs(catalog, self.know, cache)
            corpus_places = {place_short(p, self.know.levels) for r in self.refs
                             for p in split_name(r.name, self.know).places}
            self.places = tuple(sorted(corpus_places | self.know.places, key=len, reverse=True))
            context = digest(self.know.version, abbrev)  # + the places in each name (_forms)
            self._variants = {r.name: _forms(r.name, aliases.get(r.name, ()), self.know, abbrev, self.places, context,
                                             cache) for r in self.refs}
            if cache is not None:
                cache.commit()
            self._places = {r.name: _place_words(split_name(r.name, self.know, self.places), self.know)
                            for r in self.refs}
        self._exact_index: dict[str, list[tuple[UnitRef, _Variant]]] = defaultdict(list)
        self._fuzzy_index: dict[str, list[tuple[UnitRef, str, int]]] = defaultdict(list)
        for r in self.refs:
            kept = leads.get(r.name)
            for i, v in enumerate(self._variants[r.name]):
                self._exact_index[v.text].append((r, v))
                if not v.generic:
                    # party + place: the body must be matched beyond it
                    lead = kept[i] if kept else len(v.text) - len(split_name(v.text, self.know, self.places).body)
                    self._fuzzy_index[v.text[:2]].append((r, v.text, lead))
        self._longest = max((len(k) for k in self._exact_index), default=0)

    def find(self, question: str) -> tuple[list[Mention], list[str]]:
        """Mentions of indexed units, and names of units the question names that the corpus lacks."""
        q = _question_text(question)
        mentions: list[Mention] = []
        foreign: list[str] = []
        groups = _select(self._exact(q) + self._fuzzy(q))
        # the places of the units the question names with their place ("安宁市医疗保障服务中心")
        named = {w for group in groups if not all(g.generic for g in group)
                 for g in group for w in self._places[g.ref.name]}
        for group in groups:
            m = group[0]
            generic = all(g.generic for g in group)
            place = self._place_before(q, m.start) if generic else ""
            if place and not any(place in self._places[g.ref.name] for g in group):
                foreign.append(place + q[m.start:m.end])
            elif generic and not place and named and (
                    _quoted(q, m.start, m.end) or any(self._places[g.ref.name] & named for g in group)):
                # beside a unit named with its place, a placeless name means that place's unit of the name
                # ("福州市医疗保障局和医保基金中心"), and inside quotes it is part of an item's name, not
                # every city's unit ("安宁市医疗保障服务中心“2023年医保经办考核…”项目": not each 医疗保障经办服务中心)
                kept = [g for g in group if self._places[g.ref.name] & named]
                if kept:
                    mentions.append(_mention(kept))
            else:
                mentions.append(_mention(group))
        foreign += [f for f in self.unknown_names(q, mentions) if f not in foreign]
        return mentions, foreign

    def unknown_names(self, question: str, mentions: Iterable[Mention] = ()) -> list[str]:
        """Unit-like names in the question that no mention covers: a place followed by a name ending in
        an administrative suffix ("杭州市交通运输局", "上海某学校"), or such a name opening a question."""
        q = _question_text(question)
        taken = [(m.start, m.end) for m in mentions]
        out: list[str] = []
        i = 0
        while i < len(q):
            span = self._unit_like_at(q, i)
            if span and not any(s < span[1] and span[0] < e for s, e in taken):
                out.append(q[span[0]:span[1]])
                i = span[1]
            else:
                i += 1
        if not out and not taken:
            opening = self._opening_unit(q)
            if opening:
                out.append(opening)
        return out

    def closest(self, name: str, n: int = 3) -> list[str]:
        """The known units nearest to a name the corpus lacks: same place first, then shared wording."""
        target = _plain(name)
        parts = split_name(target, self.know, self.places)
        here = {place_short(p, self.know.levels) for p in parts.places}

        def score(r: UnitRef) -> float:
            other = split_name(r.name, self.know, self.places)
            same_place = bool(here & {place_short(p, self.know.levels) for p in other.places})
            body = max(SequenceMatcher(None, parts.body or target, v.text).ratio()
                       for v in self._variants[r.name] if v.generic or v.text == _plain(r.name))
            return body + (0.5 if same_place else 0.0) - (0.1 if r.subunit else 0.0)

        ranked = sorted(self.refs, key=lambda r: (-score(r), r.name))
        return [r.name for r in ranked[:n]]

    def _exact(self, q: str) -> list[_Match]:
        out = []
        for i in range(len(q)):
            for j in range(i + 3, min(len(q), i + self._longest) + 1):
                for ref, v in self._exact_index.get(q[i:j], ()):
                    out.append(_Match(i, j, j - i - (0.5 if v.weak else 0.0), ref, v.generic))
        return out

    def _fuzzy(self, q: str) -> list[_Match]:
        """The question's words for a unit as its name's characters in order, from its place to its last
        character ("无锡应急执法监督局" for 无锡市应急管理综合行政执法监督局)."""
        out = []
        for i in range(len(q) - 1):
            for ref, form, lead in self._fuzzy_index.get(q[i:i + 2], ()):
                end = _fuzzy_end(q, i, form, lead)
                if end:
                    out.append(_Match(i, end, end - i - 1.5, ref, False))
        return out

    def _unit_like_at(self, q: str, i: int) -> tuple[int, int] | None:
        party = next((p for p in self.know.party_prefixes if q.startswith(p, i)), "")
        start = i + len(party)
        place = _leading_place(q[start:], _place_index(self.places, self.know.places), self.know.levels)
        if not place or place in _NOT_PLACE or (i > 0 and _CJK.fullmatch(q[i - 1]) and q[i - 1] not in _JOINERS):
            return None
        body_start = start + len(place)
        best = None
        for j in range(body_start + 2, min(len(q), body_start + 16) + 1):
            piece = q[body_start:j]
            if not _CJK.fullmatch(piece[-1]) or "的" in piece:
                break
            if any(piece.endswith(s) for s in self.know.suffixes) and piece not in self.know.not_units \
                    and not _ITEM_WORDS.search(piece):
                best = (i, j)
        return best

    def _opening_unit(self, q: str) -> str:
        for j in range(min(len(q), 12), 2, -1):
            head = q[:j]
            if (_CJK.fullmatch(head[-1]) and any(head.endswith(s) and len(head) > len(s) for s in self.know.suffixes)
                    and len(head) >= 3 and not _ITEM_WORDS.search(head) and head not in self.know.not_units
                    and _AFTER_UNIT.match(q[j:]) and "的" not in head):
                return head
        return ""

    def _place_before(self, q: str, start: int) -> str:
        """The place word right before a generic unit name, if any ("杭州市" in "杭州市医保局")."""
        head = q[:start]
        for k in range(min(len(head), 6), 1, -1):
            word, before = head[-k:], head[:-k]
            if word in _NOT_PLACE or _leading_place(word, _place_index(self.places, self.know.places), self.know.levels) != word:
                continue
            if word[:2] in self.places or not before or not _CJK.fullmatch(before[-1]) or before[-1] in _JOINERS:
                return word
        m = re.search(r"(?:^|[^\u4e00-\u9fff]|[的和与跟及、请问查])([\u4e00-\u9fff]{2})$", head)
        if m and m.group(1) not in _NOT_PLACE:
            return m.group(1)
        return ""


class _Fetched(dict[str, Any]):
    """A name -> value map filled from the store on first use of a name (see StoredUnitMatcher)."""

    def __init__(self, fetch: Any) -> None:
        super().__init__()
        self._fetch = fetch

    def __missing__(self, name: str) -> Any:
        return self._fetch(name)


class StoredUnitMatcher(UnitMatcher):
    """The UnitMatcher over the registry kept in the store: a question's substrings are looked up in the
    forms' index, and only the names they hit are read (their refs and records, cached). Start-up reads
    the corpus' places only. Matches come out in the order the in-memory registry gives them (refs in
    the documents' order, forms in each name's order), so answers are the same."""

    CACHE = 4096  # names kept with their refs and records

    def __init__(self, source: Any, knowledge: NameKnowledge) -> None:  # noqa: D107 - no super(): nothing to merge
        self.know = knowledge
        self._source = source
        self.places = tuple(sorted(set(source.registry_places()) | knowledge.places, key=len, reverse=True))
        self._names: dict[str, tuple[UnitRef, tuple[Any, ...], list[_Variant], list[int], set[str]] | None] = {}
        self._variants = _Fetched(lambda n: self._info([n])[n][2])
        self._places = _Fetched(lambda n: self._info([n])[n][4])
        self._all_refs: list[UnitRef] | None = None

    @property  # type: ignore[override]
    def refs(self) -> list[UnitRef]:  # type: ignore[override]
        """Every unit (closest(), a question naming none): read once, on first use."""
        if self._all_refs is None:
            grouped: dict[str, list[tuple[str, bool, int]]] = defaultdict(list)
            for name, doc, sub, pos in self._source.registry_refs():
                grouped[name].append((doc, sub, pos))
            made = [(_ref_key(name, rows), _ref(name, rows)) for name, rows in grouped.items()]
            self._all_refs = [r for _, r in sorted(made, key=lambda p: p[0])]
        return self._all_refs

    def _info(self, names: Iterable[str]) -> dict[str, Any]:
        """name -> (ref, ref's order key, variants, leads, place words), None when the store lacks it."""
        names = list(dict.fromkeys(names))
        wanted = [n for n in names if n not in self._names]
        if wanted:
            if len(self._names) + len(wanted) > self.CACHE:
                self._names.clear()
            grouped: dict[str, list[tuple[str, bool, int]]] = defaultdict(list)
            for name, doc, sub, pos in self._source.registry_refs(wanted):
                grouped[name].append((doc, sub, pos))
            records = self._source.registry_records(wanted)
            for n in wanted:
                rec, rows = records.get(n), grouped.get(n)
                self._names[n] = None if rec is None or not rows else (
                    _ref(n, rows), _ref_key(n, rows), [_Variant(t, g, w) for t, g, w, _ in rec["forms"]],
                    [lead for *_, lead in rec["forms"]], set(rec["words"]))
        return {n: self._names.get(n) for n in names}

    def _exact(self, q: str) -> list[_Match]:
        texts = [q[i:j] for i in range(len(q)) for j in range(i + 3, len(q) + 1)]
        rows = self._source.registry_forms(texts) if texts else []
        info = self._info(r[1] for r in rows)
        by_text: dict[str, list[tuple[Any, int, UnitRef, bool, bool]]] = defaultdict(list)
        for text, name, i, generic, weak in rows:
            got = info.get(name)
            if got is not None:
                by_text[text].append((got[1], i, got[0], generic, weak))
        for hits in by_text.values():
            hits.sort(key=lambda h: (h[0], h[1]))
        out = []
        for i in range(len(q)):
            for j in range(i + 3, len(q) + 1):
                for _, _, ref, generic, weak in by_text.get(q[i:j], ()):
                    out.append(_Match(i, j, j - i - (0.5 if weak else 0.0), ref, generic))
        return out

    def _fuzzy(self, q: str) -> list[_Match]:
        heads = [q[i:i + 2] for i in range(len(q) - 1)]
        rows = self._source.registry_heads(heads) if heads else []
        by_head: dict[str, list[tuple[str, str, int, int]]] = defaultdict(list)
        for form, name, i, lead in rows:
            by_head[form[:2]].append((form, name, i, lead))
        found = []  # the in-order test first: only the names that pass it are read
        for i in range(len(q) - 1):
            for form, name, k, lead in by_head.get(q[i:i + 2], ()):
                end = _fuzzy_end(q, i, form, lead)
                if end:
                    found.append((i, end, name, k))
        info = self._info(name for _, _, name, _ in found)
        kept = [(i, info[name][1], k, end, info[name][0]) for i, end, name, k in found if info.get(name) is not None]
        kept.sort(key=lambda m: (m[0], m[1], m[2]))  # as the in-memory index lists them: refs, then forms
        return [_Match(i, end, end - i - 1.5, ref, False) for i, _, _, end, ref in kept]


def _ref(name: str, rows: list[tuple[str, bool, int]]) -> UnitRef:
    """A name's ref as unit_refs makes it: its own documents, else the documents it is a sub-unit of."""
    own = sorted(d for d, sub, _ in rows if not sub)
    if own:
        return UnitRef(name, tuple(own))
    return UnitRef(name, tuple(sorted(d for d, _, _ in rows)), subunit=True)


def _ref_key(name: str, rows: list[tuple[str, bool, int]]) -> tuple[int, str, int]:
    """Where unit_refs lists a name: own units by their first document, then sub-units by the first
    document listing them and their place in its list."""
    own = [d for d, sub, _ in rows if not sub]
    if own:
        return (0, min(own), 0)
    return (1, *min((d, pos) for d, _, pos in rows))


def _merge_entries(catalog: Catalog, stored: Mapping[str, tuple[str, str]], know: NameKnowledge,
                   aliases: Mapping[str, tuple[str, ...]]) -> tuple[list[UnitRef], tuple[str, ...], dict[str, Any]]:
    """The registry from the documents' entries: the refs as unit_refs lists them, the corpus' places and
    each name's record. A name is spelled out again only when the corpus prints a place inside it that
    its document alone did not know, or when its unit's documents give it other aliases."""
    version = entry_version(know)
    entries: dict[str, dict[str, Any]] = {}
    for m in catalog.docs.values():
        got = stored.get(m.name)
        if got is not None and got[0] == version:
            entries[m.name] = json.loads(got[1])
        else:  # stored before entries were kept (the next `budgetqa index` writes it): read its rows
            entries[m.name] = doc_entry(m.unit, m.aliases, m.subunits, _row_labels(catalog, m.name), know)
    own: dict[str, list[str]] = defaultdict(list)
    sub: dict[str, list[str]] = defaultdict(list)
    for m in catalog.docs.values():
        own[m.unit].append(m.name)
    for m in catalog.docs.values():
        for s in entries[m.name]["subunits"]:
            if s and s != m.unit and m.name not in sub[s]:
                sub[s].append(m.name)
    refs = [UnitRef(n, tuple(d)) for n, d in own.items()]
    refs += [UnitRef(n, tuple(d), subunit=True) for n, d in sub.items() if n not in own]
    records = {r.name: next(entries[d]["names"][r.name] for d in r.docs if r.name in entries[d]["names"])
               for r in refs}
    places = tuple(sorted({p for rec in records.values() for p in rec["own"]} | know.places, key=len, reverse=True))
    for r in refs:
        rec = records[r.name]
        if rec["inside"] != places_inside(r.name, places, know) or rec["aliases"] != sorted(set(aliases.get(r.name, ()))):
            records[r.name] = name_record(r.name, aliases.get(r.name, ()), know, places)
    return refs, places, records


_QUOTES = {"“": "”", "「": "」", "《": "》", "‘": "’", '"': '"'}


def _quoted(q: str, start: int, end: int) -> bool:
    """Whether q[start:end] lies inside a quoted span (“…”, 「…」, 《…》, "…")."""
    i = 0
    while i < len(q):
        close = _QUOTES.get(q[i])
        j = q.find(close, i + 1) if close else -1
        if j < 0:
            i += 1
            continue
        if i < start and end <= j:
            return True
        i = j + 1
    return False


def _question_text(question: str) -> str:
    return question.replace(" ", "").replace("　", "")


def _fuzzy_end(q: str, i: int, form: str, lead: int) -> int:
    """End of a fuzzy mention of `form` from i (both matchers' rule), or 0: its characters in order, at least
    four of the question's, and three beyond the place words (`lead`) it starts with."""
    end = _in_order_end(q, i, form)
    return end if end and end - i >= 4 and end - i - min(lead, 3) >= 3 else 0


def _in_order_end(q: str, i: int, form: str) -> int:
    """End of the window of q from i whose characters occur in `form` in order and reach its last one."""
    p = 0
    for j in range(i, len(q)):
        k = form.find(q[j], p)
        if k < 0:
            return 0
        p = k + 1
        if p == len(form):
            return j + 1
    return 0


def _select(matches: list[_Match]) -> list[list[_Match]]:
    """Longest matches first, without overlap; equal matches on the same words stay together (ambiguity)."""
    chosen: list[list[_Match]] = []
    for m in sorted(matches, key=lambda m: (-m.score, m.generic, m.start)):
        for group in chosen:
            g = group[0]
            if m.start < g.end and g.start < m.end:
                if m.score == g.score and m.generic == g.generic and all(x.ref != m.ref for x in group):
                    group.append(m)
                break
        else:
            chosen.append([m])
    return sorted(chosen, key=lambda g: g[0].start)


def _mention(group: list[_Match]) -> Mention:
    refs = [m.ref for m in group]
    own = [r for r in refs if not r.subunit]
    # a unit's own document beats rows labelled with it inside its department's document
    names = {r.name for r in own}
    refs = own + [r for r in refs if r.subunit and r.name not in names]
    return Mention(group[0].start, group[0].end, tuple(dict.fromkeys(refs)))


