"""What a fact IS: unit, year, kind, table role, item, code, column and measure.

Two facts with one identity must carry one value; a claim's figure is checked against the fact
with the identity the claim gives it, never against the same number printed somewhere else.
Table names, column headers and item synonyms are data (roles.toml); this module only cleans
printed text and applies that data.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budgetqa.index.model import MONEY_FACTORS, Fact
from budgetqa.index.read.years import leading_year, without_years

OTHER = "other"
NARRATIVE = "narrative"


@dataclass(frozen=True)
class Identity:
    unit: str
    subunit: str | None  # a subordinate unit (or "本级") when the row names one; None = the unit as a whole
    year: int | None
    kind: str | None
    role: str  # a role id of roles.toml, "narrative" for prose figures, "other" when unknown
    item: str  # normalised row label
    code: str | None  # 科目编码 when printed
    column: str  # column role ("合计", "基本支出", "预算数", "收入/预算数" …) or the printed column cleaned
    measure: str

    def describe(self) -> str:
        """The identity as a verdict names it: 单位 · 年度 · 预算 · 表 · 项目 · 栏目."""
        parts = [self.unit + (f"（{self.subunit}）" if self.subunit else "")]
        if self.year is not None:
            parts.append(str(self.year))
        if self.kind:
            parts.append(self.kind)
        parts.append(role_name(self.role))
        parts.append(f"{self.code} {self.item}" if self.code else self.item)
        if self.column:
            parts.append(self.column)
        return " · ".join(p for p in parts if p)


@dataclass(frozen=True)
class _Rule:
    id: str
    name: str
    all: tuple[tuple[str, ...], ...]
    none: tuple[str, ...]

    def holds(self, title: str) -> bool:
        return all(any(w in title for w in group) for group in self.all) and not any(w in title for w in self.none)


@dataclass(frozen=True)
class _Data:
    rules: tuple[_Rule, ...]
    columns: dict[str, str]  # printed (cleaned) -> role
    drop: frozenset[str]
    transposed: frozenset[str]
    items: dict[str, str]  # cleaned key -> canonical key


@functools.cache
def _data() -> _Data:
    raw: dict[str, Any] = tomllib.loads(Path(__file__).with_name("roles.toml").read_text(encoding="utf-8"))
    rules = tuple(_Rule(r["id"], r.get("name", r["id"]), tuple(tuple(g) for g in r.get("all", [])),
                        tuple(r.get("none", []))) for r in raw["role"])
    cols = raw["columns"]
    columns = {_clean(w): role for role, words in cols.items() if role != "drop" for w in words}
    drop = frozenset(_clean(w) for w in cols.get("drop", {}).get("words", []))
    t = raw["transposed"]
    words = [p + s + n for p in ("", *t["prefixes"]) for s in t["stems"] for n in ("", "数")] + t["rows"]
    transposed = frozenset(_clean(w) for w in words)
    items = {_item_key(w): _item_key(canon) for canon, words in raw["items"].items() for w in (canon, *words)}
    return _Data(rules, columns, drop, transposed, items)


def role_ids() -> tuple[str, ...]:
    """Every role a table can have, in the order they are tried, then narrative and other."""
    return (*(r.id for r in _data().rules), NARRATIVE, OTHER)


def role_name(role: str) -> str:
    if role == NARRATIVE:
        return "情况说明"
    if role == OTHER:
        return "其他表"
    return next((r.name for r in _data().rules if r.id == role), role)


# ---- cleaning printed text --------------------------------------------------------------------

# Table numbering as provinces print it: "公开01表", "表1", "附表4-1", "预算13表", "部门预算表3".
_TABLE_NUMBER = re.compile(r"^\s*(?:公开\s*\d{1,2}\s*表|附表\s*\d{1,2}(?:\s*[-－.]\s*\d{1,2})?|预算\s*\d{1,2}\s*表|"
                           r"表\s*\d{1,2}(?:\s*[-－.]\s*\d{1,2})?(?!\d)|[一二三四五六七八九十]+[、.])\s*")
# Item numbering: "1、", "（一）", "一、", "(1)", "1.", "其中：", and a leading 科目编码.
_ITEM_NUMBER = re.compile(r"^(?:其中[:：]?|\d{1,2}\s*[、.．]|[(（]\s*[\d一二三四五六七八九十]{1,3}\s*[)）]|"
                          r"[一二三四五六七八九十]{1,3}\s*[、.．]|[\d一二三四五六七八九十]{1,2}\s*[)）])\s*")
_LEADING_CODE = re.compile(r"^(\d{3,9})\s*(?=\D)")
_SPACES = re.compile(r"\s+")
_MEASURE_NOTE = re.compile(r"[(（]\s*(?:单位[:：])?\s*(?:亿元|万元|元|%|％|人|辆)\s*[)）]")


def _clean(text: str) -> str:
    """NFKC (full-width digits and brackets to ASCII), no spaces, no measure notes."""
    t = unicodedata.normalize("NFKC", text or "")
    return _SPACES.sub("", _MEASURE_NOTE.sub("", t))


def clean_title(title: str) -> str:
    # numbering first, while the space between "表14" and "2022年" still separates them
    t = unicodedata.normalize("NFKC", title or "")
    prev = None
    while prev != t:
        prev = t
        t = _TABLE_NUMBER.sub("", t)
    return without_years(_clean(t))


@functools.lru_cache(maxsize=8192)
def table_role(title: str, section: str = "") -> str:
    """The role id of a table titled `title`; the section's title decides when the title says nothing.
    Kept per title: an answer asks it of every fact it weighs, and a corpus has few distinct titles."""
    for text in (title, section):
        cleaned = clean_title(text)
        if cleaned:
            role = next((r.id for r in _data().rules if r.holds(cleaned)), None)
            if role is not None:
                return role
    return OTHER


def split_code(label: str) -> tuple[str | None, str]:
    """("30217", "公务接待费") from "30217 公务接待费"; (None, label) without a leading code."""
    t = _clean(label)
    m = _LEADING_CODE.match(t)
    return (m.group(1), t[m.end():]) if m else (None, t)


def normalise_item(label: str) -> str:
    """A row label without numbering, leading code, spaces and full-width forms."""
    t = split_code(label)[1]
    prev = None
    while prev != t:
        prev = t
        t = _ITEM_NUMBER.sub("", t)
        t = _LEADING_CODE.sub("", t)
    return t.strip(":：")


def _item_key(label: str) -> str:
    """What two wordings of one item share: no brackets or quotes, 费用 read as 费."""
    t = re.sub(r"[()（）“”\"'‘’「」《》]", "", normalise_item(label))
    return t.replace("费用", "费")


def item_key(label: str) -> str:
    """The canonical key of an item label (synonyms of roles.toml [items] folded)."""
    k = _item_key(label)
    return _data().items.get(k, k)




def is_column_word(label: str) -> bool:
    """A row label that is really a column word (预算数, 上年决算数 …): the table is printed transposed."""
    return _clean(label) in _data().transposed


def column_role(column: str, year: int | None = None) -> str:
    """A printed (possibly multi-row "a/b/c") column header as roles: "本年一般公共预算基本支出/人员经费"
    -> "人员经费", "2021年/合计" -> "上年/合计" when the document's year is 2022."""
    d = _data()
    out: list[str] = []
    parts = [p for p in (_clean(x) for x in (column or "").split("/")) if p]
    for i, part in enumerate(parts):
        # a header row naming the table's subject is dropped, but never the column's own (last) name
        role = _part_role(part, year, d) if i < len(parts) - 1 else d.columns.get(part) or _part_role(part, year, d) or part
        if role and (not out or out[-1] != role):
            out.append(role)
    if len(out) > 1 and out[0] == "本年":
        out = out[1:]  # "本年支出/小计": this year is implied
    return "/".join(out)


def _part_role(part: str, year: int | None, d: _Data) -> str:
    if part in d.drop:
        return ""
    if part in d.columns:
        return d.columns[part]
    y, rest = leading_year(part)
    if y is not None:
        tail = d.columns.get(rest, rest) if rest else ""
        if year is None or y == year:
            return "" if tail in ("预算数", "决算数", "本年") else tail  # the document's own year is implied
        when = "上年" if y == year - 1 else f"{y}年"
        return when if tail in ("", "预算数", "决算数", "本年") else f"{when}{tail}"
    return part


# ---- the identity of a fact -------------------------------------------------------------------

_TOTAL_ROWS = frozenset({"合计", "总计", "小计", ""})


def identity_of(fact: Fact, subunits: tuple[str, ...] = ()) -> Identity:
    """The fact's identity. `subunits`: the document's subordinate units (Document.subunits), so a row
    naming one is read as that unit's figure."""
    return _identity(fact, tuple(subunits))


@functools.lru_cache(maxsize=500_000)
def _identity(fact: Fact, subunits: tuple[str, ...]) -> Identity:
    measure = "%" if fact.measure == "％" else fact.measure
    if fact.source == "text":
        return Identity(fact.unit, fact.owner or None, fact.year, fact.kind, NARRATIVE, normalise_item(fact.row), None,
                        "", measure)
    role = table_role(fact.table, fact.section)
    if role == OTHER and fact.column:
        role = table_role(fact.column.split("/")[0])  # a lost title: the header still names the table
    printed_code, _ = split_code(fact.row)
    code = fact.code or printed_code
    row = normalise_item(fact.row)
    named = _subunit(row, fact.unit, subunits, role) or _owner_row(row, fact)
    item, column = _item_and_column(fact, row, named)
    subunit = fact.owner or named  # a row under a unit's line in a table split by unit is that unit's
    if item != row:
        code = None  # the row's code belongs to the unit row, not to the item across
    project = _project(fact.table) if role in PERFORMANCE_ROLES else ""
    if project:
        item = f"{project}/{item}"  # one 绩效 table per project: "资金总额" is that project's
    return Identity(fact.unit, subunit, fact.year, fact.kind, role, item, code, column, measure)


PERFORMANCE_ROLES = frozenset({"项目绩效目标表", "绩效自评表", "整体绩效目标表"})
_PERF_SUFFIX = re.compile(r"(?:\d{4}年度?)?(?:部门|单位)?(?:整体)?(?:项目)?(?:支出)?绩效(?:目标|自评)(?:申报)?表$")


def _project(title: str) -> str:
    """The project a 绩效 table is about: its title without the table words ("综合工作经费")."""
    return normalise_item(_PERF_SUFFIX.sub("", clean_title(title)))


def _subunit(row: str, unit: str, subunits: tuple[str, ...], role: str) -> str | None:
    """The sub-unit a row names. The unit's own row is the unit as a whole (a department's totals
    line), except in the 单位构成 table, where it stands beside its subordinate units: 本级."""
    if not row:
        return None
    if row in (_clean(s) for s in subunits):
        return row
    if row in ("本级", _clean(unit) + "本级") or (role == "单位构成" and subunits and row == _clean(unit)):
        return "本级"
    return None


def _owner_row(row: str, fact: Fact) -> str | None:
    """The row is the line of the unit that owns it (its figures are that unit's totals, read across)."""
    if not fact.owner:
        return None
    if row == _clean(fact.owner) or (fact.owner == "本级" and row.startswith(_clean(fact.unit))):
        return fact.owner
    return None


def _item_and_column(fact: Fact, row: str, subunit: str | None) -> tuple[str, str]:
    """Items printed across (a transposed 三公 table: 预算数 down, 公务接待费 across; or one row per unit)
    are read back upright: the item is the column's last part, the column the row's word."""
    d = _data()
    parts = [p for p in (_clean(x) for x in fact.column.split("/")) if p]
    column = column_role(fact.column, fact.year)
    if not parts:
        return row, column
    row_key = _clean(fact.row)
    across = row_key in d.transposed or row in _TOTAL_ROWS or subunit is not None or row == _clean(fact.unit)
    if not across:
        return row, column
    own_row = subunit is not None or row == _clean(fact.unit)
    rest, last = parts[:-1], parts[-1]
    if last in ("合计", "小计") and rest and not _known(rest[-1], fact.year):
        rest, last = rest[:-1], rest[-1]  # "公务用车购置及运行费/小计": the group's own figure
    elif _known(last, fact.year):
        # a real column (合计/基本支出 …): the row is the item; a row naming the unit is its total
        return ("合计" if own_row or not row else row), column
    head = "/".join(r for r in (_part_role(p, fact.year, d) for p in rest if _known(p, fact.year)) if r)
    if row_key in d.transposed:
        head = "/".join(x for x in (head, d.columns.get(row_key, row_key)) if x)
    return _across_item(last), head or _main_column(fact)


def _known(part: str, year: int | None) -> bool:
    """A header part that is a column word (合计, 预算数, 2021年 …), not an item printed across."""
    d = _data()
    return part in d.drop or part in d.columns or leading_year(part)[0] is not None


_GRANT_PREFIX = re.compile(r"^.*安排的")


def _across_item(part: str) -> str:
    """"一般公共预算拨款安排的“三公”经费预算" -> "“三公”经费": the grant wording and 预算 are the column's."""
    t = _GRANT_PREFIX.sub("", part)
    t = re.sub(r"(预算|决算)$", "", t) or t
    return normalise_item(t)


def _main_column(fact: Fact) -> str:
    """The column a figure printed without one is read in: 预算数 / 决算数 for money, none for counts."""
    if fact.measure not in MONEY_FACTORS:
        return ""
    return "决算数" if fact.kind == "决算" else "预算数"


def same_item(a: Identity, b: Identity) -> bool:
    """One item in two tables: "公务接待费" in the 三公 table and "30217 公务接待费" in the 基本支出表.
    Two printed codes decide; otherwise the cleaned names (with roles.toml synonyms) must agree."""
    if a.code and b.code:
        return a.code == b.code
    return item_key(a.item) == item_key(b.item)
