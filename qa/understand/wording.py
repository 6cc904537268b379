"""The question's wording: items and their spans, filler words, question types, injected instructions.

Pure functions over strings and Items; `understand` combines them with the corpus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from budgetqa.catalog import norm
from budgetqa.understand import lexicon
from budgetqa.understand.joins import join_words
from budgetqa.understand.units import Mention

QType = Literal["lookup", "sum", "difference", "ratio", "growth", "average", "compare", "text"]

INJECTION = re.compile(r"忽略|无视|不要管|不管.{0,6}规则|以上规则|之前的(?:指令|规则)|ignore|disregard|system prompt|"
                        r"直接回答|你现在是|扮演|回答\s*[:：]?\s*\d|答案是\s*\d|输出\s*\d|就说\s*\d", re.I)
def drop_filler(text: str, repl: str = "") -> str:
    """The text without filler words (vocabulary [words] filler), each replaced by `repl`."""
    return lexicon.replace_words(text, "filler", repl)

@dataclass(frozen=True)
class Item:
    text: str  # as the question says it ("招待费")
    labels: tuple[str, ...]  # normalized row labels it stands for, best first
    table: str = ""  # keyword of the preferred table ("三公")
    code: str | None = None
    vocab: bool = False  # from the vocabulary file (wins over a bare label on the same words)
    side: int = 0  # ratio / difference: 0 = before 占/比, 1 = after


GENERIC_LABELS = {"合计", "小计", "总计", "项目", "其他", "其中", "单位", "科目", "支出", "收入", "金额", "预算数",
                   "决算数", "本年", "上年", "年度", "名称", "科目名称", "科目编码", "单位名称", "项目名称",
                   "本级"}  # "西安市财政局本级" without the unit's name: a scope, not an item


def non_overlapping(spans: list[tuple[int, int, Item]]) -> list[tuple[int, int, Item]]:
    """Leftmost-longest, like a tokenizer; on equal spans the vocabulary wins (its labels list the row
    label itself first, then the wording other documents use)."""
    out: list[tuple[int, int, Item]] = []
    for s, e, item in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]), not x[2].vocab)):
        if any(s < oe and os_ < e for os_, oe, _ in out):
            continue
        if item.labels and item.labels[0] in GENERIC_LABELS and not item.table:
            continue
        out.append((s, e, item))
    out.sort(key=lambda x: x[0])
    return out


def dedupe_items(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    for item in items:
        if not any(i.labels and i.labels[:1] == item.labels[:1] and i.side == item.side for i in out):
            out.append(item)
    return out




def drop_scope_suffix(text: str) -> str:
    """"办公费里面" -> "办公费": the words a leftover may end with and still name the item before it."""
    return lexicon.strip_trailing(text, "scope_suffix")
_BARE = {"支出", "收入"}


def drop_suffix_words(chosen: list[tuple[int, int, Item]]) -> list[tuple[int, int, Item]]:
    """"培训费支出": a bare 支出/收入 right after another item only repeats what kind of figure it is."""
    out: list[tuple[int, int, Item]] = []
    for s, e, item in chosen:
        if out and item.text in _BARE and s == out[-1][1]:
            continue
        out.append((s, e, item))
    return out


def unexplained_words(text: str, chosen: list[tuple[int, int, Item]], scope: str) -> str:
    """A word right in front of an item that neither the vocabulary nor the documents explain."""
    prev_end = 0
    for s, e, _ in chosen:
        chunk = drop_filler(text[prev_end:s]).replace("　", "")
        chunk = "".join(c for c in chunk if not c.isdecimal() and c not in "()（）“”")
        if prev_end:  # "人员类经费比公用经费": a money noun after an item and the operator word explain nothing new
            chunk = next((chunk[len(w):] for w in ("经费", "费用", "资金") if chunk.startswith(w)), chunk)
        chunk = chunk[:-1] if chunk.endswith(("比", "较", "占")) else chunk
        if prev_end and chunk in join_words().sums:  # "培训费加上三公经费": the join word names nothing
            chunk = ""
        prev_end = e
        core = drop_scope_suffix(chunk)
        if len(core) < 2 or lexicon.made_of(chunk, "scope", "intent") or core in scope:
            continue
        if lexicon.made_of(chunk[-2:], "scope") and (len(chunk) <= 3 or chunk[:-2] in scope):
            continue
        return chunk
    return ""


def asked_measure(q: str) -> str:
    """The measure a count question asks for ("几辆" -> 辆, "多少名" -> 人, "得分" -> 分), or ""."""
    for i in range(len(q)):
        counter = _counter_at(q, i)
        if counter:
            return {"名": "人", "个人": "人"}.get(counter, counter)  # "几个人" counts people
        if any(q.startswith(w, i) for w in lexicon.words("score_asked")):
            return "分"
    return ""


def _counter_at(q: str, i: int) -> str:
    asked = next((w for w in lexicon.words("count_asked") if q.startswith(w, i)), "")
    if not asked:
        return ""
    rest = q[i + len(asked):].lstrip()
    return next((c for c in lexicon.words("counters") if rest.startswith(c)), "")


def pieces_between(text: str, items: tuple[Item, ...]) -> list[str]:
    """The question's words between the items, filler dropped."""
    out = text
    for i in items:
        for w in (norm(i.text), *i.labels[:1]):
            if w:
                out = out.replace(w, "|")
    return [p for p in (drop_filler(x, "|") for x in out.split("|")) for p in p.split("|") if p]


def split_at(text: str, qtype: str) -> int | None:
    """Where the second operand starts: after 占 (ratio) or 比 (difference); "A在B里占多少" names the
    whole after 在 (vocabulary [words] whole_before)."""
    word = {"ratio": "占", "difference": "比"}.get(qtype)
    if not word or word not in text:
        return None
    at = text.index(word)
    if qtype == "ratio":
        before = [text.rfind(w, 0, at) for w in lexicon.words("whole_before")]
        found = [b for b in before if b > 0]
        return max(found) if found else at
    return at


def fuzzy_label(text: str, labels: list[str]) -> str:
    """The shortest row label that contains what is left of the question ("社会保障和就业" -> …支出)."""
    core = drop_filler(text)
    if len(core) < 3:
        return ""
    hits = [lab for lab in labels if core in lab]
    return min(hits, key=len) if hits else ""


def item_words(residue: str) -> str:
    """What the question calls the item, for a not-found message (figures in the question dropped)."""
    words = re.sub(r"\d[\d,.]*\s*(?:亿元|万元|元|%|％)?", "", residue)
    return drop_filler(words).replace("　", "").strip()


@dataclass(frozen=True)
class TypeRule:
    """One question-type rule of vocabulary.toml: `any` of its words, `all` of `all`, `none` of `none`."""

    qtype: QType
    any: tuple[str, ...]
    all: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuestionWords:
    rules: tuple[TypeRule, ...] = ()
    topics: tuple[tuple[str, tuple[str, ...]], ...] = ()  # text topic -> the words that ask for it

    @property
    def text_words(self) -> tuple[str, ...]:
        return tuple(w for _, ws in self.topics for w in ws)


TEXT_MARK = "@text"  # in a rule's `any`: any word of [text_topics]


def load_question_words(data: dict[str, Any]) -> QuestionWords:
    rules = tuple(TypeRule(r["type"], tuple(r.get("any", ())), tuple(r.get("all", ())), tuple(r.get("none", ())))
                  for r in data.get("question_types", ()))
    topics = tuple((k, tuple(v)) for k, v in data.get("text_topics", {}).items())
    return QuestionWords(rules, topics)


def first_word(text: str, words: tuple[str, ...]) -> str:
    """The word of `words` that occurs first in the text (the longest where several start there)."""
    best = ("", len(text) + 1)
    for w in words:
        at = text.find(w)
        if at >= 0 and (at < best[1] or (at == best[1] and len(w) > len(best[0]))):
            best = (w, at)
    return best[0]


def years_as_y(text: str) -> str:
    """"比2023年预算减少" -> "比Y年预算减少": the rules name a year as Y."""
    out, run = [], ""
    for ch in text + "\0":
        if ch.isdigit():
            run += ch
            continue
        out.append("Y" if len(run) == 4 and run[:2] in ("19", "20") else run)
        run = ""
        out.append(ch)
    return "".join(out)[:-1]


def question_type(q: str, mentions: list[Mention], years: tuple[int, ...],
                  words: QuestionWords) -> tuple[QType, str]:
    text = years_as_y(q)
    trigger = first_word(text, words.text_words)
    topic = next((t for t, ws in words.topics if trigger in ws), "") if trigger else ""
    for rule in words.rules:
        hit = any((bool(trigger) if w == TEXT_MARK else w in text) for w in rule.any)
        if hit and all(w in text for w in rule.all) and not any(w in text for w in rule.none):
            return rule.qtype, topic if rule.qtype == "text" else ""
    if len(mentions) > 1 or len(years) > 1:
        return "compare", ""
    return "lookup", ""


def strip_injection(q: str) -> str:
    """Drop the sentence carrying an instruction; what remains is the question proper."""
    parts = re.split(r"(?<=[。！!；;，,？?])", q)
    kept = [p for p in parts if not INJECTION.search(p)]
    return "".join(kept)
