"""How unit names are built and shortened, read once per document when it is indexed.

Each unit name is split into party prefix, place and body ("中共" + "西安市" + "委宣传部") and expanded
into the forms citizens type, from the knowledge in unit_names.toml (see budgetqa.understand.units,
which matches questions against them). A department's document also names its own units: the
单位构成 list and row labels such as "中共西安市委理论讲师团".

`doc_entry` is what one document adds to the unit registry: its sub-units and, for each name it
brings, the forms, their place heads and the place words. It depends only on the document and the
name knowledge, so the indexer computes it beside the facts and the store keeps it with the
document; the answer side merges the entries at start instead of spelling out every name of the
corpus again (4 s at 2,000 documents). A name's forms do depend on the corpus' places printed
inside it: the entry says which places it was spelled with, and the merge re-spells a name only
when the corpus knows a place inside it that the document alone did not.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

_PAREN = re.compile(r"[（(][^）)]*[）)]")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_NOT_PLACE = {"请问", "查询", "一下", "我想", "想问", "今年", "去年", "明年", "那么", "那个", "这个", "还有", "以及",
              "告诉", "知道", "看看", "帮我", "查查", "问下", "所有", "各个", "全部", "哪个", "这些", "那些", "本市",
              "全市", "我市", "城市", "超市", "上市", "门市", "街区", "社区", "园区", "景区", "城区", "郊区", "辖区",
              "区县", "县区", "市县", "省市", "市区", "各区", "各县", "各市"}
_JOINERS = "和与跟及、问查请是"
# what may follow a unit's name at the start of a question with no place ("军休所的…", "市场监管局今年…")
_AFTER_UNIT = re.compile(r"^(?:的|今年|去年|上年|明年|本年|\d|有|包括|下属|下面|各|是|在|和|与|跟|，|,|？|\?|$)")
_LEAD_CODE = re.compile(r"^(?:\d{3,}|[（(]?[一二三四五六七八九十\d]{1,3}[）)、.．]\s*)")
_UNIT_ROW = re.compile(r"[\u4e00-\u9fff（）()]+")
_ITEM_WORDS = re.compile(r"费|经费|支出|收入|预算|决算|资金|补助|补贴|工资|项目|采购|资产|车")


@dataclass(frozen=True)
class NameKnowledge:
    """unit_names.toml: how unit names are built and shortened."""

    suffixes: tuple[str, ...]  # longest first
    levels: tuple[str, ...]  # longest first
    party_prefixes: tuple[str, ...]
    places: frozenset[str]
    abbreviations: Mapping[str, tuple[str, ...]]
    tails: tuple[str, ...]
    not_units: frozenset[str]
    member_prefixes: tuple[str, ...] = ()  # "局属" in "局属市港航管理中心"
    parents: tuple[str, ...] = ()  # what a parent unit's name ends with, inside a member's name
    version: str = ""  # changes with the file and with how names are read (keys the on-disk cache)


# bump when harvested_subunits, clean_subunit or name_forms read names differently (the cache keys on it)
READING_VERSION = 1


@lru_cache(maxsize=4)
def load_names(path: str = "") -> NameKnowledge:
    p = Path(path) if path else Path(__file__).with_name("unit_names.toml")
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    by_len = lambda xs: tuple(sorted(set(xs), key=len, reverse=True))  # noqa: E731
    return NameKnowledge(
        suffixes=by_len(data["suffixes"]["org"]),
        levels=by_len(data["places"]["levels"]),
        party_prefixes=by_len(data["places"]["party_prefixes"]),
        places=frozenset(data["places"]["names"]),
        abbreviations={k: tuple(v) for k, v in data["abbreviations"].items()},
        tails=by_len(data["tails"]["droppable"]),
        not_units=frozenset(data["not_units"]["words"]),
        member_prefixes=by_len(data["not_units"]["member_prefixes"]),
        parents=by_len(data["suffixes"]["parent"]),
        version=digest(READING_VERSION, p.read_text(encoding="utf-8")),
    )


@dataclass(frozen=True)
class NameParts:
    party: str  # "中共" or ""
    places: tuple[str, ...]  # ("西安市",) as printed, level word included when printed
    body: str  # what is left: "委宣传部", "公安局交通管理支队"


class _Variant(NamedTuple):  # a tuple: tens of thousands are made at start-up (5x faster than a dataclass)
    text: str
    generic: bool  # no place in it: may belong to a same-named unit elsewhere
    weak: bool = False  # a parent unit left out: the unit's own full name of the same words wins


def _plain(name: str) -> str:
    return _PAREN.sub("", name).replace(" ", "").replace("　", "")


def split_name(name: str, know: NameKnowledge, places: Iterable[str] = ()) -> NameParts:
    """Party prefix, place(s) and body of a unit name ("中共西安市委宣传部" → 中共 / 西安市 / 委宣传部)."""
    rest = _plain(name)
    party = next((p for p in know.party_prefixes if rest.startswith(p)), "")
    rest = rest[len(party):]
    found: list[str] = []
    known = _place_index(places, know.places)
    while True:
        place = _leading_place(rest, known, know.levels)
        if not place or len(rest) - len(place) < 2:
            break
        found.append(place)
        rest = rest[len(place):]
    return NameParts(party, tuple(found), rest)


_INDEXES: dict[tuple[int, int], tuple[object, object, dict[str, tuple[str, ...]]]] = {}


def _place_index(places: Iterable[str], known: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Places by first character, longest first. Built once per places collection (split_name runs
    thousands of times at start-up with the same registry's places)."""
    key = (id(places), id(known))
    hit = _INDEXES.get(key)
    if hit is not None and hit[0] is places and hit[1] is known:
        return hit[2]
    by_first: dict[str, list[str]] = defaultdict(list)
    for p in sorted(set(places) | known, key=len, reverse=True):
        by_first[p[:1]].append(p)
    index = {k: tuple(v) for k, v in by_first.items()}
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[key] = (places, known, index)
    return index


def _leading_place(text: str, known: dict[str, tuple[str, ...]], levels: tuple[str, ...]) -> str:
    for k in known.get(text[:1], ()):  # a known place, with its level word when printed ("西安市", "长沙")
        if text.startswith(k):
            level = next((lv for lv in levels if text.startswith(lv, len(k))), "")
            return k + level
    for n in (2, 3):  # an unknown place followed by its level word ("某某县")
        head = text[:n]
        if len(head) == n and _CJK.fullmatch(head[0]) and head not in _NOT_PLACE:
            level = next((lv for lv in levels if text.startswith(lv, n)), "")
            if level:
                return head + level
    return ""


def place_short(place: str, levels: tuple[str, ...]) -> str:
    """"西安市" → "西安"; a place of two characters keeps its level ("沙县")."""
    for lv in levels:
        if place.endswith(lv) and len(place) - len(lv) >= 2:
            return place[: -len(lv)]
    return place


def _bodies(body: str, know: NameKnowledge, abbreviations: Mapping[str, tuple[str, ...]]) -> dict[str, bool]:
    """Body forms, each with whether it leaves a parent unit out (weaker)."""
    strong = {body, *_swapped(body, know)}
    if body.startswith("委") and len(body) >= 4:  # 市委宣传部: the party committee's department
        strong.add(body[1:])
    weak = {i for b in strong for i in _inner_units(b, know)}  # "公安局交通管理支队" → "交通管理支队"
    return {**{b: True for b in _expand(weak, know, abbreviations)},
            **{b: False for b in _expand(strong, know, abbreviations)}}


def _swapped(body: str, know: NameKnowledge) -> set[str]:
    """"自然资源和规划局" → "规划和自然资源局": an office merging two fields is named in either order (renamings
    swap them, and so do citizens)."""
    suffix = next((x for x in know.suffixes if body.endswith(x) and len(body) > len(x)), "")  # longest first
    fields = body[: len(body) - len(suffix)].split("和") if suffix else []
    if len(fields) != 2 or min(map(len, fields)) < 2:
        return set()
    return {f"{fields[1]}和{fields[0]}{suffix}"}


def _expand(bodies: set[str], know: NameKnowledge, abbreviations: Mapping[str, tuple[str, ...]]) -> set[str]:
    out = set(bodies)
    for b in list(out):  # a generic tail left off: "职业教育基地综合协调办公室" → "职业教育基地"
        for t in know.tails:
            if b.endswith(t) and len(b) - len(t) >= 3 and _ends_with_suffix(b[: -len(t)], know):
                out.add(b[: -len(t)])
    for b in list(out):  # short forms, each alone and all together
        out |= {b.replace(k, s) for k, shorts in abbreviations.items() if k in b for s in shorts}
        out.add(_abbreviate_all(b, abbreviations))
    return {b for b in out if b}


def _inner_units(body: str, know: NameKnowledge) -> set[str]:
    out = set()
    for k in range(2, len(body) - 2):
        head, tail = body[:k], body[k:]
        if (any(head.endswith(p) and len(head) > len(p) for p in know.parents)
                and len(tail) >= 3 and _ends_with_suffix(tail, know)
                and tail not in know.tails):
            out.add(tail)
    return out


def _ends_with_suffix(text: str, know: NameKnowledge) -> bool:
    return any(text.endswith(s) and len(text) > len(s) for s in know.suffixes)


def _abbreviate_all(text: str, abbreviations: Mapping[str, tuple[str, ...]]) -> str:
    for k in sorted(abbreviations, key=len, reverse=True):
        if k in text:
            text = text.replace(k, abbreviations[k][0])
    return text


def name_forms(name: str, know: NameKnowledge, abbreviations: Mapping[str, tuple[str, ...]],
               places: Iterable[str] = (), aliases: Iterable[str] = ()) -> list[_Variant]:
    """Every form a citizen may type for a unit, longest first; forms without a place are generic."""
    parts = split_name(name, know, places)
    bodies = _bodies(parts.body, know, abbreviations)
    heads: set[str] = set()
    for i in range(len(parts.places)):
        tail = parts.places[i:]
        heads |= {"".join(tail), place_short(tail[0], know.levels) + "".join(tail[1:]),
                  "".join(tail[:-1]) + place_short(tail[-1], know.levels)}
    if parts.places and parts.body.startswith("委"):  # "西安市委宣传部": 市委 stays with the place
        heads |= {h + "委" for h in heads} | {"市委"}
    forms: dict[tuple[str, bool], bool] = {}  # (text, generic) -> weak; a strong reading wins

    def add(text: str, generic: bool, weak: bool) -> None:
        if len(text) >= 3:
            forms[(text, generic)] = forms.get((text, generic), True) and weak

    for a in (name, *aliases):
        add(_plain(a), False, False)
    for h in heads:
        for b, weak in bodies.items():
            add(parts.party + h + b, False, weak)
            add(h + b, False, weak)
    if parts.places:
        for b, weak in bodies.items():
            if b not in know.not_units:
                add(b, True, weak)
    generic = {t for t, g in forms if g}
    out = [_Variant(t, g, w) for (t, g), w in forms.items() if g or t not in generic]  # a form both ways is generic
    return sorted(out, key=lambda v: (-len(v.text), v.text, v.generic))



def clean_subunit(name: str, unit: str, know: NameKnowledge) -> str:
    """A sub-unit name as a citizen would say it: no code before it ("234002西安市…"), no "局属" before
    it, the department's place in front of a bare "市…" ("局属市港航管理中心" → "湖州市港航管理中心")."""
    n = _LEAD_CODE.sub("", name.replace(" ", ""))
    for p in know.member_prefixes:
        if n.startswith(p):
            n = n[len(p):]
            break
    level = next((lv for lv in know.levels if n.startswith(lv)), "")
    if level:
        head = split_name(unit, know).places
        if head and head[-1].endswith(level):
            n = "".join(head)[: -len(level)] + n
    return n


def harvested_subunits(unit: str, rows: Iterable[str], know: NameKnowledge) -> list[str]:
    """Row labels of a department's document that name a unit of the department: they begin with the
    department's place (or party prefix and place) and end with an administrative suffix."""
    parts = split_name(unit, know)
    if not parts.places:
        return []
    place = parts.places[0]
    heads = {parts.party + place, place, place_short(place, know.levels)}
    out = []
    for r in rows:
        n = _LEAD_CODE.sub("", r.replace(" ", ""))
        if (5 <= len(n) <= 30 and _UNIT_ROW.fullmatch(n) and n != unit and any(n.startswith(h) for h in heads)
                and _ends_with_suffix(n, know) and not _ITEM_WORDS.search(n)):
            out.append(n)
    return out



def _merged(know: NameKnowledge, extra: Mapping[str, str] | None) -> dict[str, tuple[str, ...]]:
    out = dict(know.abbreviations)
    for k, v in (extra or {}).items():
        if k != v:
            out[k] = tuple(dict.fromkeys((*out.get(k, ()), v)))
    return out


def _place_words(parts: NameParts, know: NameKnowledge) -> set[str]:
    out = set()
    for p in parts.places:
        out |= {p, place_short(p, know.levels), p[:2]}
    return out


def digest(*parts: object) -> str:
    """A short stable key for what a derived result depends on."""
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=sorted).encode()).hexdigest()[:24]


# -- what one document adds to the registry ----------------------------------------------------------


def entry_version(know: NameKnowledge) -> str:
    """Entries are valid for this name knowledge and this module's way of reading names."""
    return _entry_version(know.version)


@lru_cache(maxsize=4)
def _entry_version(knowledge: str) -> str:
    return digest(knowledge, hashlib.sha256(Path(__file__).read_bytes()).hexdigest())


def places_inside(name: str, places: Iterable[str], know: NameKnowledge) -> list[str]:
    """The known places (corpus' and knowledge's) printed inside a name: all a name's forms depend on."""
    plain, index = _plain(name), _pair_index(places, know.places)
    found = {p for i in range(len(plain) - 1) for p in index.get(plain[i:i + 2], ()) if plain.startswith(p, i)}
    single = index.get("", ())  # places of one character, if the knowledge has any
    if single:
        found |= {c for c in plain if c in single}
    return sorted(found)


_PAIRS: dict[tuple[int, int], tuple[object, object, dict[str, tuple[str, ...]]]] = {}


def _pair_index(places: Iterable[str], known: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Places by their first two characters ("" holds those of one): merging thousands of names at
    start-up tests each of a name's positions against a few places, not every place of its first character."""
    key = (id(places), id(known))
    hit = _PAIRS.get(key)
    if hit is not None and hit[0] is places and hit[1] is known:
        return hit[2]
    pairs: dict[str, list[str]] = defaultdict(list)
    for p in set(places) | known:
        pairs[p[:2] if len(p) >= 2 else ""].append(p)
    index = {k: tuple(v) for k, v in pairs.items()}
    if len(_PAIRS) > 16:
        _PAIRS.clear()
    _PAIRS[key] = (places, known, index)
    return index


def own_places(name: str, know: NameKnowledge) -> list[str]:
    """The places a name adds to the corpus' places (read without the corpus' own)."""
    return sorted({place_short(p, know.levels) for p in split_name(name, know).places})


def name_record(name: str, aliases: Iterable[str], know: NameKnowledge, places: tuple[str, ...]) -> dict[str, Any]:
    """A name's forms (text, generic, weak, length of its party + place head) and place words, read
    with `places` (longest first); `inside` says which of them the name prints."""
    forms = name_forms(name, know, know.abbreviations, places, tuple(aliases))
    rows = []
    for v in forms:
        lead = -1
        if not v.generic:
            lead = len(v.text) - len(split_name(v.text, know, places).body)
        rows.append([v.text, v.generic, v.weak, lead])
    return {"own": own_places(name, know), "inside": places_inside(name, places, know),
            "aliases": sorted(set(aliases)), "forms": rows,
            "words": sorted(_place_words(split_name(name, know, places), know))}


def subunits_of(unit: str, subunits: Iterable[str], rows: Iterable[str], know: NameKnowledge) -> list[str]:
    """The units inside a department's document: its 单位构成 list and the row labels that are unit
    names, each once ("湖州市第三人民医院（湖州市精神病院）" and the rows' "湖州市第三人民医院" are one)."""
    found = [c for c in (clean_subunit(s, unit, know) for s in subunits) if len(c) >= 4]
    found += harvested_subunits(unit, sorted(set(rows)), know)
    out = dict.fromkeys(_plain(f) if len(_plain(f)) >= 5 else f for f in found)
    return [s for s in out if s and s != unit]


def doc_entry(unit: str, aliases: Iterable[str], subunits: Iterable[str], rows: Iterable[str],
              know: NameKnowledge | None = None) -> dict[str, Any]:
    """What one document adds to the unit registry (stored with it; see the module docstring)."""
    know = know or load_names()
    subs = subunits_of(unit, subunits, rows, know)
    local = {p for n in (unit, *subs) for p in own_places(n, know)}
    places = tuple(sorted(local | know.places, key=len, reverse=True))
    names = {unit: name_record(unit, aliases, know, places)}
    for s in subs:
        names.setdefault(s, name_record(s, (), know, places))
    return {"version": entry_version(know), "subunits": subs, "names": names}
