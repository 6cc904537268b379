"""Plain word lists the answer side tests text against, read once from vocabulary.toml [words].

A word list says what a regex alternation said, and stays data: `has_any(text, "which")` instead of
an alternation "哪个|哪一个|…" compiled in code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any


@cache
def words(name: str) -> tuple[str, ...]:
    return _all()[name]


@cache
def vocabulary_data() -> dict[str, Any]:
    """vocabulary.toml as parsed, once per process (its word lists, joins, verbs …)."""
    return tomllib.loads(Path(__file__).with_name("vocabulary.toml").read_text(encoding="utf-8"))


@cache
def _all() -> dict[str, tuple[str, ...]]:
    return {k: tuple(v) for k, v in vocabulary_data().get("words", {}).items()}


def has_any(text: str, name: str) -> bool:
    return any(w in text for w in words(name))


def replace_words(text: str, name: str, repl: str = "") -> str:
    """Each word found scanning left to right (the list's order decides at one position, as in a regex
    alternation) replaced by `repl`; whitespace counts as a word when the list holds " "."""
    by_first = _by_first(name)
    spaces = " " in words(name)
    out: list[str] = []
    i = 0
    while i < len(text):
        hit = next((w for w in by_first.get(text[i], ()) if text.startswith(w, i)), "")
        if hit or (spaces and text[i].isspace()):
            out.append(repl)
            i += len(hit) or 1
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@cache
def _by_first(name: str) -> dict[str, tuple[str, ...]]:
    """The list's words by first character, each group in the list's order: only words starting with the
    character at hand can match there, and among those the list's order decides, as in an alternation."""
    groups: dict[str, list[str]] = {}
    for w in words(name):
        if w and w != " ":
            groups.setdefault(w[0], []).append(w)
    return {k: tuple(v) for k, v in groups.items()}


def made_of(text: str, *names: str) -> bool:
    """The text is nothing but words of the lists, one after another (at least one)."""
    return bool(text) and _tail_start(text, tuple(w for n in names for w in words(n))) == 0


def strip_trailing(text: str, name: str) -> str:
    """The text without the run of words it ends with."""
    start = _tail_start(text, words(name))
    return text[:start]


def _tail_start(text: str, ws: tuple[str, ...]) -> int:
    """The smallest i such that text[i:] is made of the words (len(text) when none is)."""
    ok = [False] * (len(text) + 1)
    ok[len(text)] = True
    for i in range(len(text) - 1, -1, -1):
        ok[i] = any(text.startswith(w, i) and ok[i + len(w)] for w in ws if w)
    return next((i for i in range(len(text)) if ok[i]), len(text))


def drop_all(text: str, name: str) -> str:
    """The text without any of the words (longest first, as an alternation of them would remove them)."""
    for w in sorted(words(name), key=len, reverse=True):
        text = text.replace(w, "")
    return text
