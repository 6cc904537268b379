"""Typed data passed between the ingestion stages.

parse (layout readers -> blocks) -> assemble (blocks -> Document) -> extract (Document -> Facts).
Everything is a frozen dataclass so it can be hashed, cached and compared in golden tests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

Kind = Literal["预算", "决算"]
FactSource = Literal["table", "text"]

# Factors to 元 for the money measures; other measures (%, 人, 辆 …) are compared as printed.
MONEY_FACTORS: dict[str, Decimal] = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}


@dataclass(frozen=True)
class Section:
    """A heading and the prose under it, up to the next heading of any level."""

    title: str
    level: int  # 1 = 第一部分, 2 = 一、, 3 = （一）, 4 = 1.
    text: str
    page: int | None
    path: tuple[str, ...] = ()  # enclosing headings, outermost first, ending with title


@dataclass(frozen=True)
class Row:
    """One table row: the label/code columns split off, the other cells aligned to Table.columns."""

    label: str
    code: str | None  # 科目编码 as completed from the hierarchy ("2101501"), None when absent
    cells: tuple[str, ...]  # printed text of each value column ("" for blank)
    page: int | None
    quote: str  # the row as printed, cells joined by tabs


@dataclass(frozen=True)
class Table:
    title: str
    section: str  # title of the section the table sits in
    measure: str  # 元 / 万元 from "单位：万元"; "" when the table states none
    columns: tuple[str, ...]  # one flattened name per value column (multi-row headers joined with "/")
    rows: tuple[Row, ...]
    page: int | None
    blank_is_zero: bool = True  # budget tables print zero as blank


@dataclass(frozen=True)
class Document:
    name: str  # file name as indexed; citations name it
    sha256: str
    unit: str  # issuing unit, full name as printed
    aliases: tuple[str, ...]  # short forms people use ("福州医保局")
    year: int | None
    kind: Kind | None
    subunits: tuple[str, ...]
    sections: tuple[Section, ...]
    tables: tuple[Table, ...]
    pages: int | None
    layout: str  # reader that produced it: seed, md, html, tsv, csv, raw, layout, pdf
    title: str = ""  # its own name as printed: unit + year + kind ("福州市医疗保障局2024年部门预算")
    source: str = ""  # absolute path of the file it was read from, to show its pages; "" when unknown


@dataclass(frozen=True)
class Fact:
    doc: str
    unit: str
    year: int | None
    kind: str | None
    section: str
    table: str  # table title; "" for a narrative figure
    row: str  # row label, or the narrative item the figure belongs to
    code: str | None
    column: str  # column name, or "" for narrative
    value: str  # as printed ("1,353.26", "5.00", "39")
    measure: str  # 元 / 万元 / 亿元 / % / 人 / 辆 / …
    page: int | None
    quote: str  # the printed line it came from
    source: FactSource = "table"
    context: str = field(default="", compare=False)  # surrounding words for narrative figures
    # the unit of a department that owns the figure: "" the department as a whole, "本级" its own offices,
    # or a sub-unit's name (a table printed per unit, index/extract/owners.py)
    owner: str = ""

    @property
    def number(self) -> Decimal | None:
        return parse_number(self.value)

    @property
    def yuan(self) -> Decimal | None:
        """The value in 元 for money measures, else None."""
        n = self.number
        factor = MONEY_FACTORS.get(self.measure)
        return None if n is None or factor is None else n * factor


@functools.lru_cache(maxsize=65536)  # pure (Decimal is immutable); checks and selection parse every fact's figure
def parse_number(text: str) -> Decimal | None:
    """Parse a printed figure: thousands separators, full-width digits, trailing %, blanks as None."""
    t = text.strip().translate(_FULLWIDTH).replace(",", "").replace(" ", "").rstrip("%")
    if t in ("", "-", "—", "－"):
        return None
    try:
        return Decimal(t)
    except InvalidOperation:
        return None


_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－％", "0123456789.,-%")
