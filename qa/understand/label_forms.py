"""Printed labels with a bracketed qualifier, in the order citizens say them.

The tables print the head first and qualify it in brackets: 资本性支出（基本建设）, 机关资本性支出（基本建设）,
审计专项补助经费（结转）, 国家统一法律职业资格考试（省级）. People put the qualifier in front ("基本建设资本性支出",
"结转的审计专项补助经费", "省级的国家统一法律职业资格考试") or run it on without brackets ("资本性支出基本建设").
A bracket inside a label ("因公出国（境）费") is read without its brackets ("因公出国境费").

One rule for every such label, applied to the labels the question's documents print (normalised by
`budgetqa.catalog.norm`, which writes brackets as ASCII parentheses); no label is listed here.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path

from budgetqa.index.extract.narrative import MEASURES

_BRACKETED = re.compile(r"^(?P<head>[^()]{2,})\((?P<qual>[^()]{1,12})\)(?P<tail>[^()]{0,4})$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_OF = "的"


def reordered_forms(label: str) -> tuple[str, ...]:
    """Other ways to write a normalised label "X(Y)" or "X(Y)Z": "YX", "Y的X", "XY"; "XYZ" for a
    bracket inside the label. () for a label without one, or whose bracket holds a measure ("资金总额(万元)")."""
    m = _BRACKETED.match(label)
    if m is None:
        return ()
    head, qual, tail = m.group("head"), m.group("qual"), m.group("tail")
    if not _CJK.search(qual) or qual in MEASURES:
        return ()
    if tail:
        forms: tuple[str, ...] = (head + qual + tail,)
    elif len(qual) >= 2:
        forms = (qual + head, qual + _OF + head, head + qual)
    else:
        forms = (head + qual,)  # "机关资本性支出(一)": a one-character qualifier is a number, never said first
    return tuple(f for f in forms if f != label)


@functools.cache
def _separators() -> tuple[tuple[str, ...], bool]:
    data = tomllib.loads(Path(__file__).with_name("label_forms.toml").read_text(encoding="utf-8"))
    return tuple(sorted(data["separators"], key=len, reverse=True)), bool(data.get("drop_separators"))


_MEASURE_TAILS = tuple(sorted((f"({m})" for m in MEASURES), key=len, reverse=True))


def enumeration_forms(label: str) -> tuple[str, ...]:
    """A label that lists items ("考试机位、场地租赁费", "公务用车购置及运行维护费") written with the other
    separators ("考试机位和场地租赁费"), "A、B和C" for three or more, and (when the data says so) without any;
    a trailing measure ("(万元)") is not said. () for a label that lists nothing."""
    seps, drop = _separators()
    tail = next((t for t in _MEASURE_TAILS if label.endswith(t)), "")
    body = label[:-len(tail)] if tail else label
    marked = body
    for sep in seps:  # longest first: "以及" before "及"
        marked = marked.replace(sep, "\x00")
    items = marked.split("\x00")
    if len(items) < 2 or any(not _CJK.search(p) for p in items):
        return ()
    joins = [s for s in seps if s != "以及"] + ([""] if drop else [])
    forms = {j.join(items) for j in joins}
    if len(items) >= 3:
        forms |= {"、".join(items[:-1]) + j + items[-1] for j in ("和", "及", "与")}
    if body != label:
        forms.add(body)
    return tuple(sorted(f for f in forms if f != label and len(f) >= 4))


def reordered_labels(labels: list[str]) -> list[tuple[str, str]]:
    """(form, printed label) for every label that has other forms; a form two labels share names neither."""
    seen: dict[str, set[str]] = {}
    for label in labels:
        for form in (*reordered_forms(label), *enumeration_forms(label)):
            seen.setdefault(form, set()).add(label)
    printed = set(labels)
    return sorted(((f, next(iter(ls))) for f, ls in seen.items() if len(ls) == 1 and f not in printed),
                  key=lambda p: (-len(p[0]), p[0]))
