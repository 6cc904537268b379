"""Question text as people actually send it, turned into the text the understander reads.

- `scrub`: lone surrogates (from a JSON "\\ud800" escape) become U+FFFD, so nothing downstream fails to
  encode them.
- `normalize_question`: terminal escapes (ANSI CSI/OSC), control and zero-width/format characters
  removed, NFKC (full-width digits and letters, compatibility forms; full-width punctuation is kept), traditional characters turned
  into simplified ones with OpenCC (福州市醫療保障局 → 福州市医疗保障局), spaces collapsed.
- `from_english`: an English question rewritten in Chinese from a small vocabulary (english.toml)
  when it names both a unit and an item; None otherwise, so the caller can give a clear hint.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from budgetqa.index.read.years import years_in

_SURROGATE = re.compile("[\ud800-\udfff]")
# ESC [ … final byte (CSI), ESC ] … BEL/ST (OSC), and two-character ESC sequences
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
_SPACES = re.compile(r"\s+")


def scrub(text: str) -> str:
    """The text with every lone surrogate replaced by U+FFFD (valid pairs are already one character)."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def normalize_question(text: str) -> str:
    """See the module docstring; idempotent."""
    text = _ANSI.sub("", scrub(text or ""))
    text = "".join(" " if c in "\t\n\r\v\f" else c for c in text if not _invisible(c))
    text = "".join(c if _cjk_punctuation(c) else unicodedata.normalize("NFKC", c) for c in text)
    text = _to_simplified(text)
    return _SPACES.sub(" ", text).strip()


def _cjk_punctuation(c: str) -> bool:
    """Full-width punctuation (，？：；（）) is how Chinese is written and what the understander reads;
    NFKC would turn it into ASCII. Full-width digits and letters (２０２４) are normalised."""
    return "\uff01" <= c <= "\uff5e" and not c.isalnum()


def _invisible(c: str) -> bool:
    """Control (Cc), format (Cf: zero-width space/joiners, BOM, bidi overrides), private-use and
    unassigned characters, and the replacement character: none of them is part of a question."""
    if c in "\t\n\r\v\f":
        return False
    return unicodedata.category(c) in ("Cc", "Cf", "Co", "Cn", "Cs") or c == "\ufffd"


@functools.cache
def _converter() -> object:
    import opencc

    return opencc.OpenCC("t2s")


def _to_simplified(text: str) -> str:
    if text.isascii():
        return text
    return str(_converter().convert(text))  # type: ignore[attr-defined]


# ---- English questions -------------------------------------------------------------------------


@dataclass(frozen=True)
class EnglishVocabulary:
    places: dict[str, str]  # English phrase (lower case) -> Chinese
    units: dict[str, str]
    items: dict[str, str]
    kinds: dict[str, str]


@functools.cache
def english_vocabulary(path: str = "") -> EnglishVocabulary:
    p = Path(path) if path else Path(__file__).with_name("english.toml")
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    return EnglishVocabulary(places=_lower(data.get("places", {})), units=_lower(data.get("units", {})), items=_lower(data.get("items", {})),
                             kinds=_lower(data.get("kinds", {})))


def _lower(table: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in table.items()}


_WORD_EDGE = r"(?<![a-z]){}(?![a-z])"


def from_english(question: str, vocabulary: EnglishVocabulary | None = None) -> str | None:
    """The question in Chinese ("福州市医疗保障局2024年预算公务接待费是多少") when it names a unit and an
    item the vocabulary knows; None when either is missing."""
    vocab = vocabulary or english_vocabulary()
    text = " " + question.lower().replace("’", "'").replace("-", " ") + " "
    units, text = _take(text, vocab.units)
    places, text = _take(text, vocab.places)
    items, text = _take(text, vocab.items)
    kinds, text = _take(text, vocab.kinds)
    if not units or not items:
        return None
    years = years_in(question)
    when = f"{years[0]}年" if years else ""
    unit = "".join(dict.fromkeys(places)) + units[0]
    return f"{unit}{when}{''.join(kinds[:1])}{'和'.join(dict.fromkeys(items))}是多少"


def _take(text: str, table: dict[str, str]) -> tuple[list[str], str]:
    """Chinese for every phrase of `table` in `text`, longest phrases first, in the order they occur;
    each found phrase is blanked so a shorter one inside it does not count twice."""
    found: list[tuple[int, str]] = []
    for phrase in sorted(table, key=len, reverse=True):
        pattern = re.compile(_WORD_EDGE.format(re.escape(phrase)))
        for m in pattern.finditer(text):
            found.append((m.start(), table[phrase]))
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return [zh for _, zh in sorted(found)], text
