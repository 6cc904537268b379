"""Concepts a citizen names that are not one row label: the budget total, 人员经费, 公用经费, “三公”经费.

The definitions are data (concepts.toml): the words that name a concept, where the documents print
its own figure (by fact identity: table role, item, column role) and, when they print none, the parts
that make it. The understander turns a bare "今年预算多少" into the budget-total item; the answerer
(budgetqa.answer.concepts) picks the facts.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from budgetqa.catalog import norm
from budgetqa.understand.wording import Item, drop_filler

NARRATIVE = "narrative"


@dataclass(frozen=True)
class Spec:
    """Which facts print a concept's figure (or one of its parts)."""

    roles: tuple[str, ...] = ()  # table roles; "narrative" = prose; () = any table
    items: tuple[str, ...] = ()  # identity items, compared by item_key
    item_suffix: tuple[str, ...] = ()
    item_contains: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()  # column roles (last part); () = the main column
    column_prefix: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()  # counts: 人, 辆, 台 … (() = any)
    largest: bool = False
    subunit: bool = False  # the row names the sub-unit asked about


@dataclass(frozen=True)
class Concept:
    id: str
    words: tuple[str, ...]
    printed: tuple[Spec, ...]
    parts: Spec | None = None
    bare: tuple[str, ...] = ()
    ignore: tuple[str, ...] = field(default=())
    qualifier: bool = False

    def item(self, text: str = "") -> Item:
        """The concept as a question item: its own name and words are the labels it may be printed under."""
        labels = tuple(dict.fromkeys(norm(w) for w in (self.id, *self.words)))
        return Item(text or self.id, labels, vocab=True)


def _spec(raw: dict[str, Any]) -> Spec:
    fields: dict[str, Any] = {k: (tuple(v) if isinstance(v, list) else v) for k, v in raw.items()}
    return Spec(**fields)


@cache
def concepts(path: str = "") -> tuple[Concept, ...]:
    p = Path(path) if path else Path(__file__).with_name("concepts.toml")
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    return tuple(Concept(c["id"], tuple(c["words"]), tuple(_spec(s) for s in c.get("printed", ())),
                         _spec(c["parts"]) if "parts" in c else None, tuple(c.get("bare", ())),
                         tuple(c.get("ignore", ())), bool(c.get("qualifier", False))) for c in data["concept"])


@cache
def _by_word() -> dict[str, Concept]:
    return {norm(w): c for c in concepts() for w in (c.id, *c.words)}


def concept_of(item: Item) -> Concept | None:
    """The concept an item of the question names, by its words (or by its first label)."""
    words = _by_word()
    for text in (norm(item.text), *(item.labels[:1])):
        if text in words:
            return words[text]
    return None


def bare_concept(residue: str) -> Concept | None:
    """"今年预算多少", "预算总共多少钱": a question whose only word is a concept's bare word (预算)."""
    text = norm(residue).replace("　", "")
    for c in concepts():
        if not c.bare or not any(w in text for w in c.bare):
            continue
        rest = text
        for w in sorted((*c.bare, *c.ignore), key=len, reverse=True):
            rest = rest.replace(w, "")
        if not drop_filler(rest):
            return c
    return None


def drop_qualifiers(items: tuple[Item, ...], residue: str) -> tuple[Item, ...]:
    """"项目支出预算总额": a qualifier concept written right after another item is that item's total, not an
    item of its own."""
    text = norm(residue)
    out = []
    for it in items:
        c = concept_of(it)
        if c is not None and c.qualifier and any(o is not it and norm(o.text) + norm(it.text) in text for o in items):
            continue
        out.append(it)
    return tuple(out)
