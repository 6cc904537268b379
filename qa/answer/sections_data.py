"""The words of text_sections.toml (section kinds, list and explanation words), read once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Direction:
    name: str  # 增加 / 减少 / 为零
    asked: tuple[str, ...]
    shown: tuple[str, ...]


@dataclass(frozen=True)
class SectionWords:
    kinds: dict[str, tuple[str, ...]]
    list_kinds: tuple[str, ...]
    markers: tuple[str, ...]
    relations: tuple[str, ...]
    unit_code_digits: int
    aliases: dict[str, tuple[str, ...]]
    table_nouns: tuple[str, ...]
    table_headers: tuple[str, ...]
    table_fillers: tuple[str, ...]
    page_footer: tuple[str, ...]
    project_columns: tuple[str, ...]
    project_roles: tuple[str, ...]
    project_categories: tuple[str, ...]
    project_totals: tuple[str, ...]
    project_tables: dict[str, str]
    detail_tables: tuple[str, ...]
    keys: dict[str, tuple[str, ...]]
    continues: tuple[str, ...]
    change_marks: tuple[str, ...]
    compare_words: tuple[str, ...]
    head_starts: tuple[str, ...]
    directions: tuple[Direction, ...]
    totals_asked: tuple[str, ...]
    totals_shown: tuple[str, ...]
    heading_ends: tuple[str, ...]
    heading_max: int

    def kind_of(self, title: str) -> str:
        """The first kind whose title words the section title uses ("" = none)."""
        return next((k for k, ws in self.kinds.items() if any(w in title for w in ws)), "")


@cache
def section_words() -> SectionWords:
    data: dict[str, Any] = tomllib.loads(Path(__file__).with_name("text_sections.toml").read_text(encoding="utf-8"))
    lists, ex = data["lists"], data["explain"]
    return SectionWords(
        kinds={k: tuple(v) for k, v in data["kinds"].items()},
        list_kinds=tuple(lists["kinds"]), markers=tuple(lists["markers"]), relations=tuple(lists["relations"]),
        unit_code_digits=int(lists["unit_code_digits"]),
        aliases={k: tuple(v) for k, v in lists["aliases"].items()}, table_nouns=tuple(lists["table_nouns"]),
        table_headers=tuple(lists["table_headers"]), table_fillers=tuple(lists["table_fillers"]), page_footer=tuple(lists["page_footer"]),
        project_columns=tuple(lists["project_columns"]), project_roles=tuple(lists["project_roles"]),
        project_categories=tuple(lists["project_categories"]), project_totals=tuple(lists["project_totals"]),
        project_tables=dict(lists["project_tables"]), detail_tables=tuple(lists["detail_tables"]),
        keys={k: tuple(v) for k, v in ex["keys"].items()}, continues=tuple(ex["continues"]),
        change_marks=tuple(ex["change_marks"]), compare_words=tuple(ex["compare_words"]), head_starts=tuple(ex["head_starts"]),
        directions=tuple(Direction(k, tuple(v["asked"]), tuple(v["shown"])) for k, v in ex["direction"].items()),
        totals_asked=tuple(ex["totals"]["asked"]), totals_shown=tuple(ex["totals"]["shown"]),
        heading_ends=tuple(data["headings"]["ends"]), heading_max=int(data["headings"]["heading_max"]))
