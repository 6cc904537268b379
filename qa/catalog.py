"""The answer side's view of the indexed corpus: documents, facts and sections held in memory.

The fact store (SQLite) and an in-memory list of parsed Documents both satisfy `FactSource`;
`Catalog` loads everything once and keeps lookup tables so a warm question touches no disk.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

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


def norm(text: str) -> str:
    """A row label or question fragment reduced to what matters for matching."""
    t = _TAGS.sub("", text).translate(_DROP)
    prev = None
    while prev != t:
        prev = t
        t = _NUMBERING.sub("", t)
    return t.strip(":").lower()


# a row label that is really a column word: the table is printed transposed (items across, 预算数/决算数 down)
_COLUMN_ROW = re.compile(r"^(?:本年|上年|年初|全年|调整后?|当年)?(?:预算|决算|执行)数?$|^(?:本年|上年)数$")
_SUBTOTAL = re.compile(r"^(?:小计|合计)$")
_GRANT_PREFIX = re.compile(r"^.*?安排的")


def upright(f: Fact) -> Fact:
    """A fact of a transposed table turned so the item is the row and 预算数/决算数 the column, as in
    every other table ("预算数 | 三公经费/公务接待费" -> "公务接待费 | 预算数")."""
    if f.source != "table" or not f.column or not _COLUMN_ROW.match(norm(f.row)):
        return f
    path = [p for p in f.column.split("/") if p.strip()]
    if not path:
        return f
    item = path[-1].strip()
    if _SUBTOTAL.match(norm(item)) and len(path) > 1:
        # "财政拨款安排的“三公”经费/小计": the subtotal is the group's own figure
        item = _GRANT_PREFIX.sub("", path[-2].strip()) or path[-2].strip()
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
                   subunits=tuple(getattr(d, "subunits", ()) or ()), title=getattr(d, "title", "") or "")


def _passage(s: Any) -> Passage:
    if isinstance(s, Passage):
        return s
    path = getattr(s, "path", ()) or ()
    return Passage(doc=getattr(s, "doc", ""), title=getattr(s, "title", ""), text=getattr(s, "text", ""),
                   page=getattr(s, "page", None), path=tuple(path) if not isinstance(path, str) else (path,))


class Catalog:
    """Every document, fact and section, indexed by document, normalized row label and code."""

    def __init__(self, source: FactSource) -> None:
        self.docs: dict[str, DocMeta] = {m.name: m for m in (_meta(d) for d in source.documents())}
        self.facts: dict[str, list[Fact]] = defaultdict(list)
        self.by_label: dict[str, dict[str, list[Fact]]] = defaultdict(lambda: defaultdict(list))
        self.by_code: dict[str, dict[str, list[Fact]]] = defaultdict(lambda: defaultdict(list))
        names = {m.name: _own_names(m) for m in self.docs.values()}
        every = list(source.facts())
        labelled = {(f.doc, f.table) for f in every if f.source == "table" and f.row.strip()}
        for f in every:
            f = upright(f)
            if f.source == "table" and not f.row.strip() and f.column and (f.doc, f.table) not in labelled:
                f = replace(f, row="合计")  # a one-line table printed without a row label: that line is its total
            self.facts[f.doc].append(f)
            key = norm(f.row)
            self.by_label[f.doc][key].append(f)
            bare = _without_names(key, names.get(f.doc, ()))
            if bare != key:  # "医保信息建设和维护经费曾都区医疗保障信息中心": a 项目单位 cell run into the label
                self.by_label[f.doc][bare].append(f)
            if f.code:
                self.by_code[f.doc][f.code].append(f)
        self.passages: dict[str, list[Passage]] = defaultdict(list)
        for s in source.sections():
            p = _passage(s)
            self.passages[p.doc].append(p)
        # every label of the corpus, longest first, for matching a question against row wording
        self.labels: list[str] = sorted({lab for per in self.by_label.values() for lab in per if len(lab) >= 2},
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
