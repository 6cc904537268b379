"""Word lists replace regex alternations: the lexicon's scans must mean what the alternation meant."""

from __future__ import annotations

import random
import re

import pytest
from budgetqa.understand import lexicon
from budgetqa.understand.wording import asked_measure


def _alternation(name: str) -> str:
    return "|".join(r"\s" if w == " " else re.escape(w) for w in lexicon.words(name))


def _samples(name: str, n: int = 400) -> list[str]:
    rng = random.Random(name)
    pieces = [w for w in lexicon.words(name) if w != " "] + ["办公费", "培训", "X", " ", "年", "表"]
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 5))) for _ in range(n)]


@pytest.mark.parametrize("name", ["filler", "project_filler", "project_funds"])
def test_replace_words_is_the_alternations_sub(name: str) -> None:
    pattern = re.compile(_alternation(name))
    for text in _samples(name):
        assert lexicon.replace_words(text, name, "|") == pattern.sub("|", text), text


def test_made_of_and_strip_trailing_match_the_anchored_patterns() -> None:
    whole = re.compile(f"^(?:{_alternation('scope')})+$")
    tail = re.compile(f"(?:{_alternation('scope_suffix')})+$")
    for text in _samples("scope") + _samples("scope_suffix"):
        assert lexicon.made_of(text, "scope") == bool(whole.match(text)), text
        assert lexicon.strip_trailing(text, "scope_suffix") == tail.sub("", text), text


@pytest.mark.parametrize(("question", "measure"), [
    ("单位有几辆车", "辆"), ("培训多少 人次", "人次"), ("编制多少名", "人"), ("绩效自评得分多少", "分"),
    ("公务接待费多少", ""), ("有多少平方米", "平方米"),
])
def test_asked_measure(question: str, measure: str) -> None:
    assert asked_measure(question) == measure
