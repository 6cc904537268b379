"""The answer side's view of the indexed corpus: the document registry in memory, facts on demand.

The fact store (SQLite or PostgreSQL) and an in-memory list of parsed Documents both satisfy
`FactSource`. `Catalog` keeps every document's metadata (unit, aliases, year, kind: the registry
questions are resolved against) and reads a document's facts, label and code indices and passages
from the source the first time a question needs them, keeping the most recently used documents in
a bounded cache: start-up and memory do not grow with the number of facts in the corpus.
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from budgetqa.index.extract.identity import is_column_word
from budgetqa.index.model import Document, Fact


@dataclass(frozen=True)
class DocMeta:
    name: str
    unit: str
    aliases: tuple[str, ...]
    year: int | None
    kind: str | None
    subunits: tuple[str, ...]
    title: str = ""  # the document's own name, for citations
    sha256: str = ""  # the file's bytes: what is derived from the document may be cached under it


@dataclass(frozen=True)
class Passage:
    """A section of prose: what text questions are answered from."""

    doc: str
    title: str
    text: str
    page: int | None
    path: tuple[str, ...] = ()


class FactSource(Protocol):
    def documents(self) -> Sequence[Any]: ...

    def facts(self, doc: str | None = None, unit: str | None = None) -> Sequence[Fact]: ...

    def sections(self, doc: str | None = None) -> Sequence[Any]: ...


class MemorySource:
    """Parsed Documents and their facts, for tests and for running without a store."""

    def __init__(self, docs: Iterable[tuple[Document, Sequence[Fact]]]) -> None:
        pairs = list(docs)
        self._docs = [d for d, _ in pairs]
        self._facts = {d.name: list(fs) for d, fs in pairs}

    def documents(self) -> list[Document]:
        return list(self._docs)

    def facts(self, doc: str | None = None, unit: str | None = None) -> list[Fact]:
        out = [f for name, fs in self._facts.items() if doc in (None, name) for f in fs]
        return [f for f in out if unit in (None, f.unit)]

    def sections(self, doc: str | None = None) -> list[Passage]:
        return [Passage(d.name, s.title, s.text, s.page, s.path)
                for d in self._docs if doc in (None, d.name) for s in d.sections]


_NUMBERING = re.compile(r"^(?:[（(]?\s*(?:[一二三四五六七八九十]+|\d{1,2})\s*[）)、.．]\s*|其中\s*[：:]\s*|[（(][一二三四五六七八九十\d]+[）)]\s*)+")
_DROP = str.maketrans({"“": "", "”": "", '"': "", "‘": "", "’": "", "'": "", "（": "(", "）": ")",
                       "：": ":", "　": "", " ": "", "\t": "", "《": "", "》": ""})
_TAGS = re.compile(r"</?\w+>")


@functools.lru_cache(maxsize=65536)  # pure; the answer side normalises the same titles and labels per fact
def norm(text: str) -> str:
    """A row label or question fragment reduced to what matters for matching."""
    t = _TAGS.sub("", text).translate(_DROP)
    prev = None
    while prev != t:
        prev = t
        t = _NUMBERING.sub("", t)
    return t.strip(":").lower()


_SUBTOTALS = frozenset({"小计", "合计"})


def upright(f: Fact) -> Fact:
    """A fact of a transposed table turned so the item is the row and 预算数/决算数 the column, as in
    every other table ("预算数 | 三公经费/公务接待费" -> "公务接待费 | 预算数")."""
    if f.source != "table" or not f.column or not is_column_word(f.row):
        return f
    path = [p for p in f.column.split("/") if p.strip()]
    if not path:
        return f
    item = path[-1].strip()
    if norm(item) in _SUBTOTALS and len(path) > 1:
        # "财政拨款安排的“三公”经费/小计": the subtotal is the group's own figure
        group = path[-2].strip()
        item = group.split("安排的", 1)[-1] or group
    return replace(f, row=item, column=f.row)


def _own_names(m: DocMeta) -> tuple[str, ...]:
    return tuple(sorted({n for n in (norm(m.unit), *(norm(a) for a in m.aliases)) if len(n) >= 4}, key=len, reverse=True))


def _without_names(label: str, names: tuple[str, ...]) -> str:
    """A row label with the document's own unit name taken out, when something meaningful is left."""
    for n in names:
        if n in label:
            bare = label.replace(n, "")
            return bare if len(bare) >= 2 else label
    return label


def _meta(d: Any) -> DocMeta:
    return DocMeta(name=d.name, unit=d.unit, aliases=tuple(getattr(d, "aliases", ()) or ()),
                   year=getattr(d, "year", None), kind=getattr(d, "kind", None),
                   subunits=tuple(getattr(d, "subunits", ()) or ()), title=getattr(d, "title", "") or "",
                   sha256=getattr(d, "sha256", "") or "")


def _passage(s: Any) -> Passage:
    if isinstance(s, Passage):
        return s
    path = getattr(s, "path", ()) or ()
    return Passage(doc=getattr(s, "doc", ""), title=getattr(s, "title", ""), text=getattr(s, "text", ""),
                   page=getattr(s, "page", None), path=tuple(path) if not isinstance(path, str) else (path,))


DOC_CACHE = 512  # documents whose facts and indices stay in memory (a question touches a few)


@dataclass(frozen=True)
class DocFacts:
    """One document's facts and lookup tables, built when a question first needs it."""

    facts: list[Fact]
    by_label: dict[str, list[Fact]]
    by_code: dict[str, list[Fact]]
    passages: list[Passage]


class _PerDoc(Mapping[str, Any]):
    """`catalog.facts[doc]`, `catalog.by_label.get(doc, {})` …: a read-only mapping by document name
    whose values are read from the source on first use (through the catalog's bounded cache)."""

    def __init__(self, catalog: Catalog, pick: Callable[[DocFacts], Any]) -> None:
        self._catalog, self._pick = catalog, pick

    def __getitem__(self, name: str) -> Any:
        if name not in self._catalog.docs:
            raise KeyError(name)
        return self._pick(self._catalog.doc_facts(name))

    def __contains__(self, name: object) -> bool:
        return name in self._catalog.docs

    def __iter__(self) -> Iterator[str]:
        return iter(self._catalog.docs)

    def __len__(self) -> int:
        return len(self._catalog.docs)


class Catalog:
    """Every document's metadata in memory; its facts, indexed by normalized row label and code, and
    its passages read on demand (`facts`, `by_label`, `by_code`, `passages` are mappings by document)."""

    def __init__(self, source: FactSource, cache_size: int = DOC_CACHE) -> None:
        self.source = source
        self.docs: dict[str, DocMeta] = {m.name: m for m in (_meta(d) for d in source.documents())}
        self.facts: Mapping[str, list[Fact]] = _PerDoc(self, lambda d: d.facts)
        self.by_label: Mapping[str, dict[str, list[Fact]]] = _PerDoc(self, lambda d: d.by_label)
        self.by_code: Mapping[str, dict[str, list[Fact]]] = _PerDoc(self, lambda d: d.by_code)
        self.passages: Mapping[str, list[Passage]] = _PerDoc(self, lambda d: d.passages)
        self._cache: OrderedDict[str, DocFacts] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def doc_facts(self, name: str) -> DocFacts:
        with self._lock:
            hit = self._cache.get(name)
            if hit is not None:
                self._cache.move_to_end(name)
                return hit
        built = _doc_facts(self.source, self.docs[name])
        with self._lock:
            self._cache[name] = built
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return built

    @property
    def labels(self) -> list[str]:
        """Every label of the corpus, longest first. Reads every document: not for the answer path."""
        return sorted({lab for d in self.docs for lab in self.by_label[d] if len(lab) >= 2},
                      key=lambda s: (-len(s), s))

    def units(self) -> list[str]:
        return sorted({m.unit for m in self.docs.values()})

    def docs_of(self, unit: str) -> list[DocMeta]:
        return sorted((m for m in self.docs.values() if m.unit == unit),
                      key=lambda m: (m.year or 0, m.kind == "决算"), reverse=True)

    def holdings(self, unit: str) -> str:
        """What the corpus holds for a unit, in words: "2024年预算、2023年决算"."""
        parts = [f"{m.year or '年份不详'}{'年' if m.year else ''}{m.kind or '文件'}" for m in self.docs_of(unit)]
        return "、".join(dict.fromkeys(parts))


def _doc_facts(source: FactSource, meta: DocMeta) -> DocFacts:
    raw = list(source.facts(doc=meta.name))
    names = _own_names(meta)
    labelled = {f.table for f in raw if f.source == "table" and f.row.strip()}
    facts: list[Fact] = []
    by_label: dict[str, list[Fact]] = defaultdict(list)
    by_code: dict[str, list[Fact]] = defaultdict(list)
    for f in raw:
        f = upright(f)
        if f.source == "table" and not f.row.strip() and f.column and f.table not in labelled:
            f = replace(f, row="合计")  # a one-line table printed without a row label: that line is its total
        facts.append(f)
        key = norm(f.row)
        by_label[key].append(f)
        bare = _without_names(key, names)
        if bare != key:  # "医保信息建设和维护经费曾都区医疗保障信息中心": a 项目单位 cell run into the label
            by_label[bare].append(f)
        if f.code:
            by_code[f.code].append(f)
    passages = [_passage(s) for s in source.sections(doc=meta.name)]
    return DocFacts(facts, dict(by_label), dict(by_code), passages)


@dataclass(frozen=True)
class Span:
    begin: int
    stop: int

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.stop


def occurrences(word: str, text: str) -> list[Span]:
    """Every place `word` occurs in `text` (plain search: thousands of labels would thrash re's cache)."""
    out: list[Span] = []
    i = text.find(word) if word else -1
    while i >= 0:
        out.append(Span(i, i + len(word)))
        i = text.find(word, i + 1)
    return out
