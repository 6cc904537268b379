"""Which indexed unit(s) a question names: full names, sub-unit names and the short forms people use.

Each unit name is expanded into variants (abbreviations 医疗保障→医保, 市/省/区 dropped, place prefix
dropped, 人民政府…街道办事处→…街道); the question is searched for every variant, and the longest
non-overlapping matches are the mentions. A mention matched equally well by several units is
ambiguous; a generic variant ("医保局") right after a place the unit does not have ("杭州") names a
unit that is not in the corpus.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher

from budgetqa.catalog import Catalog, occurrences

_PAREN = re.compile(r"[（(][^）)]*[）)]")
_PLACE = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}?(?:自治区|自治州|省|市|区|县|州|盟|旗))+")
_ADMIN = re.compile(r"(?<=[\u4e00-\u9fff]{2})[省市县](?=[\u4e00-\u9fff]{2})|(?<=[\u4e00-\u9fff]{2})区(?=[\u4e00-\u9fff]{2})")
_ORG = re.compile(r"[\u4e00-\u9fff]{2,8}?(?:省|市|区|县)[\u4e00-\u9fff]{0,14}?"
                  r"(?:局|委员会|委|中心|办公室|办事处|街道|厅|院|署|站|所|馆|政府|部)")
_NOT_PLACE = {"请问", "查询", "一下", "我想", "想问", "今年", "去年", "明年", "那么", "那个", "这个", "还有", "以及",
              "告诉", "知道", "看看", "帮我", "查查", "问下", "所有", "各个", "全部", "哪个", "这些", "那些"}


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


@dataclass(frozen=True)
class _Variant:
    text: str
    generic: bool  # the place prefix was dropped


def unit_refs(catalog: Catalog) -> list[UnitRef]:
    """Every name a question may use: each document's unit (and aliases) and its sub-units."""
    own: dict[str, list[str]] = defaultdict(list)
    sub: dict[str, list[str]] = defaultdict(list)
    for m in catalog.docs.values():
        own[m.unit].append(m.name)
        for s in m.subunits:
            if s != m.unit:
                sub[s].append(m.name)
    refs = [UnitRef(n, tuple(d)) for n, d in own.items()]
    refs += [UnitRef(n, tuple(d), subunit=True) for n, d in sub.items() if n not in own]
    return refs


def variants(name: str, aliases: tuple[str, ...], abbreviations: dict[str, str]) -> list[_Variant]:
    bases = {name.replace(" ", ""), _PAREN.sub("", name).replace(" ", "")} | {a.replace(" ", "") for a in aliases}
    forms: set[str] = set()
    for b in bases:
        forms |= {b, _abbreviate(b, abbreviations)}
        forms |= {b.replace(k, v) for k, v in abbreviations.items() if k in b}
    forms |= {_ADMIN.sub("", f) for f in list(forms)}
    out = {_Variant(f, False) for f in forms if len(f) >= 3}
    for f in forms:
        g = _PLACE.sub("", f)
        if g != f and len(g) >= 3 and g not in abbreviations.values():
            out.add(_Variant(g, True))
    return sorted(out, key=lambda v: (-len(v.text), v.text))


def _abbreviate(text: str, abbreviations: dict[str, str]) -> str:
    for k in sorted(abbreviations, key=len, reverse=True):
        text = text.replace(k, abbreviations[k])
    return text


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    score: float
    ref: UnitRef
    generic: bool


class UnitMatcher:
    def __init__(self, catalog: Catalog, abbreviations: dict[str, str]) -> None:
        aliases: dict[str, tuple[str, ...]] = defaultdict(tuple)
        for m in catalog.docs.values():
            aliases[m.unit] = aliases[m.unit] + m.aliases
        self.refs = unit_refs(catalog)
        self._variants = {r.name: variants(r.name, aliases.get(r.name, ()), abbreviations) for r in self.refs}
        self._places = {r.name: _places(r.name) for r in self.refs}

    def find(self, question: str) -> tuple[list[Mention], list[str]]:
        """Mentions of indexed units, and names of units the question names that the corpus lacks."""
        q = question.replace(" ", "")
        mentions: list[Mention] = []
        foreign: list[str] = []
        for group in _select(self._exact(q) + self._fuzzy(q)):
            m = group[0]
            place = _place_before(q, m.start) if all(g.generic for g in group) else ""
            if place and not any(place in self._places[g.ref.name] for g in group):
                foreign.append(place + q[m.start:m.end])
            else:
                mentions.append(_mention(group))
        if not mentions and not foreign:
            foreign = [o for o in _ORG.findall(q) if not any(v.text in o for r in self.refs
                                                             for v in self._variants[r.name])]
        return mentions, foreign

    def _exact(self, q: str) -> list[_Match]:
        out = []
        for r in self.refs:
            for v in self._variants[r.name]:
                for hit in occurrences(v.text, q):
                    out.append(_Match(hit.start(), hit.end(), float(len(v.text)), r, v.generic))
        return out

    def _fuzzy(self, q: str) -> list[_Match]:
        """The question's words for a unit as characters of its short name in order ("上饶医保中心")."""
        out = []
        for r in self.refs:
            forms = [v.text for v in self._variants[r.name] if not v.generic][:4]
            for f in forms:
                span = _subsequence_span(q, f)
                if span:
                    out.append(_Match(span[0], span[1], span[1] - span[0] - 1.5, r, False))
        return out


def _subsequence_span(q: str, form: str) -> tuple[int, int] | None:
    """The longest window of q that starts and ends like `form` and whose characters occur in it in order."""
    best = None
    for i, ch in enumerate(q):
        if ch != form[0]:
            continue
        for j in range(min(len(q), i + len(form)), i + 3, -1):
            if q[j - 1] == form[-1] and _in_order(q[i:j], form):
                if (j - i) >= 0.6 * len(form) and (best is None or j - i > best[1] - best[0]):
                    best = (i, j)
                break
    return best


def _in_order(part: str, whole: str) -> bool:
    it = iter(whole)
    return all(c in it for c in part)


def _select(matches: list[_Match]) -> list[list[_Match]]:
    """Longest matches first, without overlap; equal matches on the same words stay together (ambiguity)."""
    chosen: list[list[_Match]] = []
    for m in sorted(matches, key=lambda m: (-m.score, m.start)):
        for group in chosen:
            g = group[0]
            if m.start < g.end and g.start < m.end:
                if m.score == g.score and all(x.ref != m.ref for x in group):
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
    return Mention(group[0].start, group[0].end, tuple(refs))


def _places(name: str) -> set[str]:
    out = set()
    m = _PLACE.match(name.replace(" ", ""))
    if m:
        for part in re.findall(r"[\u4e00-\u9fff]{2,4}?(?:自治区|自治州|省|市|区|县|州|盟|旗)", m.group(0)):
            out |= {part, part[:-1], part[:2]}
    return out


def _place_before(q: str, start: int) -> str:
    """The place word right before a generic unit name, if any ("杭州市" in "杭州市医保局")."""
    head = q[:start]
    m = re.search(r"([\u4e00-\u9fff]{2,4}?(?:省|市|区|县|州))$", head)
    if m:
        return m.group(1)
    m = re.search(r"(?:^|[^\u4e00-\u9fff]|[的和与跟及、请问查])([\u4e00-\u9fff]{2})$", head)
    if m and m.group(1) not in _NOT_PLACE:
        return m.group(1)
    return ""


def closest_units(name: str, units: list[str], n: int = 3) -> list[str]:
    """The corpus' units most like a name it lacks (same place, same kind of office), best first."""
    def score(u: str) -> tuple[float, int]:
        same_place = len(_places(u) & _places(name))
        return (SequenceMatcher(None, name, u).ratio() + 0.5 * bool(same_place), -len(u))
    return sorted(units, key=score, reverse=True)[:n]
