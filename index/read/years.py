"""Years written in text: one set of patterns for every stage.

A year is 19xx or 20xx not glued to other digits or a decimal point ("2080505" is a subject code,
"2024.5" a figure). "比2023年" names the year something is compared with, not the year asked about.
"""

from __future__ import annotations

import re

_Y = r"(?<![\d.])((?:19|20)\d{2})(?![\d.])"
_BARE = re.compile(_Y)
_WRITTEN = re.compile(_Y + r"(?=\s*年)")
_WORD = re.compile(_Y + r"\s*(?:年度|年(?!初))?")  # "2024年初资产": 年初 is a point in time, it stays
_LEADING = re.compile(r"^\s*((?:19|20)\d{2})(?![\d.])\s*(?:年度|年)?")
_BASE = re.compile(r"(?:比|较|相比|同比)\s*(?:19|20)\d{2}\s*年?度?")
_BASE_OR_AND = re.compile(r"(?:比|较|相比|同比|与)\s*(?:19|20)\d{2}\s*年?度?")


def years_in(text: str, *, written: bool = False) -> list[int]:
    """The years text names, in order; written=True keeps only those followed by 年 ("2024年")."""
    return [int(y) for y in (_WRITTEN if written else _BARE).findall(text)]


def without_years(text: str, repl: str = "") -> str:
    """text with every year word ("2024年度", "2024年", "2024") replaced by repl."""
    return _WORD.sub(repl, text)


def without_base_years(text: str, *, with_and: bool = False) -> str:
    """text without the years things are compared with ("比2023年预算"); with_and also drops
    "与2023年", which in an answer sentence is a base ("与2023年相比") but in a question may join two years."""
    return (_BASE_OR_AND if with_and else _BASE).sub("", text)


def leading_year(label: str) -> tuple[int | None, str]:
    """("2024年度预算数" → 2024, "预算数"): the year a column or label starts with, and the rest."""
    m = _LEADING.match(label)
    return (int(m.group(1)), label[m.end():].strip()) if m else (None, label)


def after_first_year(text: str) -> str:
    """The words after the first written year ("福州市2024年部门预算表" → "部门预算表"); "" without one."""
    m = _WRITTEN.search(text)
    return _WORD.sub("", text[m.start():], count=1) if m else ""
