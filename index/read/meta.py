"""Who published a document, for which year, budget or final accounts, and which sub-units it covers.

Read from the printed words only (title lines, "部门：xxx" captions, the 单位构成 part), so it works
for every layout. Aliases are the short forms people type, made by general rules.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from budgetqa.errors import NotBudgetDocument
from budgetqa.index.model import Kind
from budgetqa.index.read.blocks import Block, Grid

_LEXICON = tomllib.loads(Path(__file__).with_name("meta.toml").read_text(encoding="utf-8"))
ORG_ENDS: tuple[str, ...] = tuple(_LEXICON["org_ends"])
UNIT_FIELDS: tuple[str, ...] = tuple(sorted(_LEXICON["unit_fields"], key=len, reverse=True))
DISCLOSURE_PHRASES: tuple[str, ...] = tuple(_LEXICON["disclosure_phrases"])
KIND_WORDS: tuple[str, ...] = tuple(sorted(_LEXICON["kind_words"], key=len, reverse=True))

_ORG_END = "(?:" + "|".join(map(re.escape, ORG_ENDS)) + ")"
_UNIT = rf"[^\s，。、0-9：:“”]{{2,40}}?{_ORG_END}"
# A caption at the start of a line or cell ("部门：xxx", "预算单位：xxx"), never one inside a sentence.
_FIELD = re.compile(r"(?<![^\s|])(?:" + "|".join(map(re.escape, UNIT_FIELDS)) + r")\s*[：:]\s*"
                    rf"([^\s：:，,。单]{{2,40}}?{_ORG_END})(?:[（(][^）)]*[）)])?(?=\s|$|单位|[，,。])")
_KIND_AFTER = r"(?:部门|单位|区级部门|市级部门|市级单位|本级)?(?:汇总|综合)?(?:预算|决算)"
_TITLE_AFTER = re.compile(rf"(20\d\d)\s*年度?\s*({_UNIT})(?:[（(][^）)]*[）)])?"
                          rf"\s*(?:20\d\d\s*年度?)?\s*{_KIND_AFTER}")
# "北京市信访办公室部门2026年度部门预算信息公开": the unit, a stray 部门/单位, the year, the kind.
_TITLE_BEFORE = re.compile(rf"([^\s，。、0-9：:“”]{{2,40}}?{_ORG_END})(?:[（(][^）)]*[）)])?\s*(?:部门|单位)?\s*"
                           rf"(20\d\d)\s*年度?\s*{_KIND_AFTER}")
_DUTY = re.compile(rf"(?:^|[，。：:；])([^\s，。、0-9：:“”]{{3,30}}?{_ORG_END})(?:的)?主要(?:职责|职能|任务)")
_YEAR_KIND = re.compile(r"(20\d\d)\s*年\s*度?[^。，\n]{0,40}?(预算|决算)")
_KIND = re.compile(r"部门决算|单位决算|决算公开|年度决算|决算表|部门预算|单位预算|综合预算|预算公开|区级部门预算|预算表")
_MEASURE_LINE = re.compile(r"单位\s*[：:]\s*(万元|元|亿元)")
_SUBUNIT_HINT = re.compile(r"单位构成|编制范围|预算单位|决算单位|下属单位|具体包括")
_PLACE = re.compile(r"^([^省市区县]{2,3}?(?:省|自治区|市|区|县))")
_ABBREV = (("医疗保障", "医保"), ("卫生健康委员会", "卫健委"), ("人力资源和社会保障", "人社"),
           ("发展和改革委员会", "发改委"), ("委员会", "委"), ("人民政府", "政府"))


@dataclass(frozen=True)
class Meta:
    unit: str
    aliases: tuple[str, ...]
    year: int | None
    kind: Kind | None
    subunits: tuple[str, ...]
    title: str = ""  # the document's own name: unit + year + kind as printed ("福州市医疗保障局2024年部门预算")


def describe(name: str, blocks: list[Block]) -> Meta:
    lines = _lines(blocks, 3)
    head = "".join(lines[:40])
    text = "\n".join(_lines(blocks, None))
    flat = re.sub(r"\s+", "", text)
    if not any(p in flat for p in DISCLOSURE_PHRASES):
        raise NotBudgetDocument(name, _not_disclosure(lines))
    unit = find_unit(head, text)
    year, kind = _year_kind(head, text)
    if not unit and not _MEASURE_LINE.search(text):
        raise NotBudgetDocument(name, "不是预算/决算公开文件（没有找到编制单位，也没有“单位：万元/元”的报表）")
    if not unit:  # budget tables but the unit is never named: the file name is the best we have
        unit = re.sub(r"\.[A-Za-z]+$", "", name)
    return Meta(unit, aliases(unit), year, kind, subunits(unit, blocks), doc_title(unit, year, kind, head, flat))


def _not_disclosure(lines: list[str]) -> str:
    """The refusal names what the file calls itself, so the user sees why."""
    first = next((ln for ln in lines if len(re.sub(r"[\s\d—\-－.·]", "", ln)) >= 4), "")
    first = re.sub(r"\s+", " ", first)
    said = f"，文件开头是“{first[:24]}”" if first else ""
    return f"不是预算/决算公开文件（没有“部门预算”“单位预算”“部门决算”“收支总表”等字样{said}）"


def doc_title(unit: str, year: int | None, kind: Kind | None, head: str = "", flat: str = "") -> str:
    """"<unit><year>年<kind as printed>": 部门预算 / 单位预算 / 部门决算 / 部门综合预算, else 预算/决算."""
    label: str = kind or ""
    for source in (re.sub(r"\s+", "", head), flat):
        found = [w for w in KIND_WORDS if len(w) > 2 and w in source and (kind is None or w.endswith(kind))]
        if found:
            label = min(found, key=source.find)  # the first kind word printed
            break
    label = {"区级部门预算": "部门预算", "汇总预算": "部门预算"}.get(label, label)
    return f"{unit}{f'{year}年' if year else ''}{label}"


def _lines(blocks: list[Block], grid_rows: int | None) -> list[str]:
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Grid):
            out.extend("  ".join(c for c in row if c.strip()) for row in b.rows[:grid_rows])
        else:
            out.append(b.text.strip())
    return [ln for ln in out if ln]


def find_unit(head: str, text: str) -> str:
    """The issuing unit: the most frequent "部门：xxx" caption, else the title, else "xxx的主要职责"."""
    fields = Counter(_clean(m.group(1)) for m in _FIELD.finditer(text))
    fields = Counter({k: v for k, v in fields.items() if len(k) >= 4})
    if fields:
        return fields.most_common(1)[0][0]
    flat = re.sub(r"\s+", "", head)
    for pattern, group in ((_TITLE_AFTER, 2), (_TITLE_BEFORE, 1)):
        m = pattern.search(flat)
        if m and not m.group(group).startswith(("目录", "年")):
            return _clean(m.group(group))
    duties = Counter(_clean(m.group(1)) for line in text.splitlines()
                     for m in _DUTY.finditer(re.sub(r"\s+", "", line)))
    return duties.most_common(1)[0][0] if duties else ""


def _clean(unit: str) -> str:
    unit = re.sub(r"[（(](汇总|本级|部门|单位)[）)]", "", unit)
    unit = re.sub(r"^第[一二三四五六七八九十]+部分", "", unit)
    return re.sub(r"^(本|我)", "", unit).strip()


def _year_kind(head: str, text: str) -> tuple[int | None, Kind | None]:
    flat_head = re.sub(r"\s+", "", head)
    m = _YEAR_KIND.search(flat_head) or _YEAR_KIND.search(re.sub(r"[ \t]+", "", text))
    year = int(m.group(1)) if m else None
    kinds = _KIND.findall(flat_head) or _KIND.findall(text)
    kind: Kind | None = None
    if kinds:
        kind = "决算" if "决算" in kinds[0] else "预算"
    elif m:
        kind = "决算" if m.group(2) == "决算" else "预算"
    return year, kind


def aliases(unit: str) -> tuple[str, ...]:
    """Short forms: without the province/city prefix, 市/区 dropped, common abbreviations."""
    places: list[str] = []
    rest = unit
    while (m := _PLACE.match(rest)) and len(rest) - len(m.group(1)) >= 2:
        places.append(m.group(1))
        rest = rest[len(m.group(1)):]
    bodies = {rest}
    street = re.match(r"^(?:人民政府)?(.{2,6}?)街道办事处$", rest)
    if street:
        bodies |= {f"{street.group(1)}街道", f"{street.group(1)}街道办事处", f"{street.group(1)}街道办"}
    for long, short in _ABBREV:
        bodies |= {b.replace(long, short) for b in bodies}
    prefixes = {""} if street else set()
    for i in range(len(places)):
        tail = places[i:]
        prefixes.add("".join(tail))
        prefixes.add("".join(tail[:-1]) + re.sub(r"(市|区|县|省)$", "", tail[-1]))
        prefixes.add(re.sub(r"(市|区|县|省)$", "", tail[0]) + "".join(tail[1:]))
    out = {p + b for p in prefixes for b in bodies if p or street} - {unit}
    return tuple(sorted(a for a in out if len(a) >= 3))


def subunits(unit: str, blocks: list[Block]) -> tuple[str, ...]:
    """Units listed in the 单位构成 part: a grid with a 单位名称 column or a "具体包括：…" sentence."""
    found: list[str] = []
    window = 0  # the list follows the hint within a few lines
    for b in blocks:
        if isinstance(b, Grid):
            found.extend(_grid_units(b))
            continue
        window = 10 if _SUBUNIT_HINT.search(b.text) else window - 1
        if window > 0:
            found.extend(_text_units(b.text))
    out: list[str] = []
    for name in found:
        name = _clean(name)
        if name != unit and name not in out and not name.startswith(unit + "（") and len(name) >= 5:
            out.append(name)
    return tuple(out)


def _grid_units(grid: Grid) -> list[str]:
    header = [re.sub(r"\s+", "", c) for c in grid.rows[0]]
    if "单位名称" not in header:
        return []
    col = header.index("单位名称")
    names = [re.sub(r"\s+", "", r[col]) for r in grid.rows[1:] if col < len(r)]
    return [n for n in names if re.search(_ORG_END + r"(?:[（(][^）)]*[）)])?$", n)]


def _text_units(text: str) -> list[str]:
    m = re.search(r"(?:具体包括|包括)[：:](.*)", text)
    part = m.group(1) if m else text
    if not m and not re.match(r"^\s*\d+\s*[.．、]", text):
        return []
    names = re.split(r"[，,、；;。]|\d+\s*[.．、]", part)
    return [n.strip() for n in names
            if re.fullmatch(rf"[^\s：:]{{4,40}}?{_ORG_END}(?:[（(][^）)]*[）)])?", n.strip())]
