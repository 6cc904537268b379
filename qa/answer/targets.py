"""A named project's target or purpose, read from the line of a performance table printed as prose.

Some documents print the 项目支出绩效表 as lines of text ("湖州市烈士陵园管理所革命烈士纪念及保护166.50做好陵园内
烈士纪念设施设备的修缮维护…"): the line that repeats most of the project's name the question gives (an unbroken
run of it, and most of its character pairs) answers "X项目的绩效目标是什么" / "X经费是干什么的", quoted from the
project's name on. Also: the page of an excerpt, read from the fact whose printed quote shares a run of it.
Words in text_sections.toml [targets].
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from budgetqa.catalog import Passage, norm
from budgetqa.index.model import Fact


@dataclass(frozen=True)
class TargetWords:
    asked: tuple[str, ...]
    min_run: int
    min_cover: float
    max_chars: int
    probe: int


@cache
def target_words() -> TargetWords:
    data = tomllib.loads(Path(__file__).with_name("text_sections.toml").read_text(encoding="utf-8"))["targets"]
    return TargetWords(tuple(sorted(data["asked"], key=len, reverse=True)), int(data["min_run"]),
                       float(data["min_cover"]), int(data["max_chars"]), int(data["probe"]))


def project_words(residue: str) -> str:
    """The question's name of the project: its leftover words without what is asked."""
    text = norm(residue).replace("\u3000", "").replace(" ", "")
    for w in target_words().asked:
        text = text.replace(w, "")
    return text


def project_line(residue: str, passages: list[Passage]) -> tuple[Passage, str] | None:
    """The passage line that names the project best, quoted from where the name starts; None when no line
    repeats enough of it."""
    w = target_words()
    name = project_words(residue)
    if len(name) < w.min_run:
        return None
    best: tuple[tuple[int, float], Passage, str] | None = None
    for p in passages:
        for line in (x.strip() for x in p.text.split("\n")):
            run, at = _longest_run(name, line)
            cover = _cover(name, line)
            if run < w.min_run or cover < w.min_cover:
                continue
            if best is None or (run, cover) > best[0]:
                start = _name_start(line, name, at)
                best = ((run, cover), p, line[start:])
    if best is None:
        return None
    text = best[2]
    return best[1], text if len(text) <= w.max_chars else text[:w.max_chars] + "……"


def _longest_run(name: str, line: str) -> tuple[int, int]:
    """The longest piece of the name the line repeats unbroken, and where it starts in the line."""
    best, at = 0, -1
    for i in range(len(name)):
        for j in range(len(name), i + best, -1):
            k = line.find(name[i:j])
            if k >= 0:
                best, at = j - i, k - i  # where the whole name would start
                break
    return best, at


def _cover(name: str, line: str) -> float:
    pairs = {name[i:i + 2] for i in range(len(name) - 1)}
    return len([x for x in pairs if x in line]) / len(pairs) if pairs else 0.0


def _name_start(line: str, name: str, at: int) -> int:
    """Where the quote starts: the line's start, or the project's name when figures precede it."""
    at = max(at, 0)
    first = line.rfind(name[0], 0, at + 1)
    start = first if first >= 0 and at - first <= 2 else at
    # words before the name with no figure are the row's own (its unit, or a target wrapped around the
    # name); a header or figures before it are another row's
    return 0 if not any(c.isdigit() for c in line[:start]) else start


def page_of(excerpt: str, facts: list[Fact], default: int | None) -> int | None:
    """The page of the fact whose printed quote shares a run of the excerpt (prose figures keep their
    sentence as the quote), else the section's page."""
    w = target_words()
    flat = excerpt.replace(" ", "")
    probes = [flat[i:i + w.probe] for i in range(0, max(len(flat) - w.probe, 0) + 1, w.probe)][:6]
    for probe in (x for x in probes if len(x) == w.probe):
        for f in facts:
            if f.page is not None and probe in f.quote.replace(" ", ""):
                return f.page
    return default
