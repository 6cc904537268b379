"""Plain word lists the answer side tests text against, read once from vocabulary.toml [words].

A word list says what a regex alternation said, and stays data: `has_any(text, "which")` instead of
an alternation "哪个|哪一个|…" compiled in code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path


@cache
def words(name: str) -> tuple[str, ...]:
    return _all()[name]


@cache
def _all() -> dict[str, tuple[str, ...]]:
    data = tomllib.loads(Path(__file__).with_name("vocabulary.toml").read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in data.get("words", {}).items()}


def has_any(text: str, name: str) -> bool:
    return any(w in text for w in words(name))


def drop_all(text: str, name: str) -> str:
    """The text without any of the words (longest first, as an alternation of them would remove them)."""
    for w in sorted(words(name), key=len, reverse=True):
        text = text.replace(w, "")
    return text
