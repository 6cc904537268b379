"""Which unit of a department owns each table row: the department as a whole, its 本级, or a sub-unit.

A department's document prints some tables per unit. In a table by unit every row names a unit (表3
支出总表: "154 西安市司法局" the department, "154001 西安市司法局本级", "154002 西安市法律援助中心"); in a
table split by unit a unit's row is followed by that unit's own rows (表5: "125002 西安市安全生产宣传教育中心"
then its 住房公积金, … until the next unit). A figure belongs to the unit whose row it is on or under; a
department question must never take a sub-unit's (or the 本级's) figure, nor a sub-unit question the
department's. Words are data (owners.toml).
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from budgetqa.index.model import Document, Row, Table, parse_number
from budgetqa.index.read.tables import OWN

DEPARTMENT = ""  # the department as a whole (or a table not split by unit)
OWN_LEVEL = OWN  # the department's own offices: the word their rows are labelled with


@dataclass(frozen=True)
class _Words:
    suffixes: tuple[str, ...]
    totals: frozenset[str]
    own_level: tuple[str, ...]
    code_lengths: frozenset[int]


@functools.cache
def _words() -> _Words:
    raw = tomllib.loads(Path(__file__).with_name("owners.toml").read_text(encoding="utf-8"))
    return _Words(tuple(sorted(raw["org_suffixes"], key=len, reverse=True)), frozenset(raw["total_rows"]),
                  tuple(clean_name(w) for w in raw["own_level"]), frozenset(raw["unit_code_lengths"]))


_LEAD_CODE = re.compile(r"^[\[【(（]?\d{6,9}[\]】)）]?")
_PLACE = re.compile(r"^(?:中共)?(.{2,4}?(?:省|自治区|市|州|盟|县|区|旗))")


def clean_name(label: str) -> str:
    """A unit label compared as a name: NFKC, no spaces, no leading unit code."""
    t = unicodedata.normalize("NFKC", label or "").replace(" ", "").replace("\u3000", "")
    return _LEAD_CODE.sub("", t)


@dataclass(frozen=True)
class _Context:
    unit: str  # the department's name, cleaned
    names: frozenset[str]  # the department's names (full, aliases)
    subunits: frozenset[str]
    place: str
    codes: dict[str, str]  # unit code -> the fullest name printed for it


def document_owners(doc: Document) -> dict[int, list[str]]:
    """The owner of every row of every table (by the table's position in doc.tables)."""
    ctx = _context(doc)
    owners = {i: table_owners(t, ctx) for i, t in enumerate(doc.tables)}
    if not any(o not in (DEPARTMENT, OWN_LEVEL) for rows in owners.values() for o in rows):
        # a department of one unit: its own offices are the department
        owners = {i: [DEPARTMENT] * len(rows) for i, rows in owners.items()}
    return owners


def _context(doc: Document) -> _Context:
    unit = clean_name(doc.unit)
    m = _PLACE.match(unit)
    codes: dict[str, str] = {}
    for t in doc.tables:
        for r in t.rows:
            code = _unit_code(r)
            name = clean_name(r.label)
            if code and len(name) > len(codes.get(code, "")):
                codes[code] = name
    return _Context(unit, frozenset({unit, *(clean_name(a) for a in doc.aliases)} - {""}),
                    frozenset(clean_name(s) for s in doc.subunits if len(clean_name(s)) >= 4),
                    m.group(1) if m else "", codes)


def _unit_code(row: Row) -> str:
    code = row.code or ""
    if len(code) in _words().code_lengths:
        return code
    m = re.match(r"^[\[【(（]?(\d{6,9})[\]】)）]?\D", unicodedata.normalize("NFKC", row.label or "").strip())
    return m.group(1) if m and len(m.group(1)) in _words().code_lengths else ""


def table_owners(table: Table, ctx: _Context) -> list[str]:
    rows = table.rows
    named = [_unit_of(r, ctx) for r in rows]
    if sum(1 for n in named if n is not None) < 2 and not any(n not in (None, DEPARTMENT, ctx.unit) for n in named):
        return [DEPARTMENT] * len(rows)  # one line naming the department is its total, not a split
    total = next((r for r in rows if clean_name(r.label) in _words().totals), None)
    owners = [_owner(r, n, total, rows, named, ctx) if n is not None else None for r, n in zip(rows, named, strict=True)]
    first = next((i for i, r in enumerate(rows) if clean_name(r.label) not in _words().totals), None)
    split = first is not None and owners[first] is not None  # units are the outer level: their rows follow them
    out: list[str] = []
    current = DEPARTMENT
    for r, owner in zip(rows, owners, strict=True):
        if owner is not None:
            current = owner
            out.append(owner)
        elif clean_name(r.label) in _words().totals and not out:
            out.append(DEPARTMENT)
        else:
            out.append(current if split else DEPARTMENT)
    return out


def _unit_of(row: Row, ctx: _Context) -> str | None:
    """The unit a row names (its cleaned name), or None for an item row."""
    name = clean_name(row.label)
    if row.code and len(row.code) in (5, 7):
        return None  # a 科目 line (款/项 code), whatever its label says
    code = _unit_code(row)
    if code and len(ctx.codes.get(code, "")) > len(name) and ctx.codes[code].startswith(name[:4]):
        name = ctx.codes[code]  # a name cut short by its cell ("中共西安市委"): the one its code has elsewhere
    if not name or name in _words().totals:
        return None
    if name in ctx.names or _own_level_label(name, ctx) or name in ctx.subunits:
        return name
    if code and _is_org(name):
        return name
    if ctx.place and name.startswith((ctx.place, "中共" + ctx.place)) and _is_org(name) and 5 <= len(name) <= 30:
        return name
    return None


def _own_level_label(name: str, ctx: _Context) -> bool:
    return any(name == n + w or name == w for n in ctx.names for w in _words().own_level)



def _is_org(name: str) -> bool:
    core = re.sub(r"[（(][^）)]*[）)]$", "", name)
    return core.endswith(_words().suffixes)


def _owner(row: Row, name: str, total: Row | None, rows: tuple[Row, ...], named: list[str | None],
           ctx: _Context) -> str:
    if _own_level_label(name, ctx):
        return OWN_LEVEL
    if row.code and len(row.code) == 3:
        return DEPARTMENT  # "154 西安市司法局": the department's code (its parent's, in a unit's own budget)
    if name not in ctx.names:
        return name
    code = _unit_code(row)
    if code:
        return OWN_LEVEL  # "125001 西安市安全生产监督管理局": a unit code under the department's
    reference = _first_figure(total) if total is not None else _sum_of_others(rows, named, row)
    mine = _first_figure(row)
    if reference is not None and mine is not None and abs(mine - reference) < 0.005:
        return DEPARTMENT  # the department's line repeats the total
    return OWN_LEVEL


def _first_figure(row: Row) -> float | None:
    for cell in row.cells:
        n = parse_number(cell)
        if n is not None:
            return float(n)
    return None


def _sum_of_others(rows: tuple[Row, ...], named: list[str | None], me: Row) -> float | None:
    values = [_first_figure(r) for r, n in zip(rows, named, strict=True) if n is not None and r is not me]
    figures = [v for v in values if v is not None]
    return sum(figures) if figures else None
