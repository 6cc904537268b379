"""Why / what-for questions answered by the clause that explains the item asked about.

Every clause of the target's prose that carries an explanation word ("主要原因是", "主要用于") is paired
with the figure it explains: the words before that figure (its head, "3．公务接待费预算支出") name the item,
the words after it say the change ("比上年预算减少5.5万元"). The question's item is matched against the
head, so the 公务接待费 sentence wins over the 三公 total whose clause merely mentions 公务接待费, and the
change asked (增加 / 减少 / 是0) and any figure the question repeats break ties. The answer quotes the
clause (and the one it continues) verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from budgetqa.answer.sections_data import SectionWords, section_words
from budgetqa.catalog import Passage, norm
from budgetqa.understand.text_shape import cue_words
from budgetqa.understand.understander import Query

_ENDS = "。；;"
_DIGITS = "0123456789"
_NUMBER = _DIGITS + ".,，"
MAX_TIED = 3
MIN_MATCH = 0.5  # share of the item word's character pairs the head must repeat


@dataclass(frozen=True)
class Explained:
    """One explanation: the clause with the figure it explains, and that figure's head and value."""

    passage: Passage
    text: str  # the subject clause + the explaining clause (+ continuations), verbatim
    head: str  # the words before the figure: what the figure is
    figure: str  # the figure as printed ("5.5"), "" when the clause has none
    change: str  # the words between the figure and the explanation word
    order: int


def explain(query: Query, passages: list[Passage]) -> tuple[Passage, str] | None:
    """The passage and the clause that explains what the question asks about, None when no clause does."""
    w = section_words()
    keys = w.keys.get(query.topic, ())
    found = [replace(e, order=i) for i, e in enumerate(e for p in passages for e in _explained(p, keys, w))]
    words, totals = _item_words(query, w)
    scored: list[tuple[tuple[float, int, int, int], Explained]] = []
    for named in ((w.totals_shown, words) if totals else (words,)):
        scored = [(s, e) for e in found if (s := _score(e, named, query.question, w))[0] >= MIN_MATCH]
        if scored:
            break
    if not scored:
        return None
    top, best = max(scored, key=lambda se: (*se[0], -se[1].order))
    # equally good clauses of the same section say it together ("预算收入较上年增加…；预算支出较上年增加…")
    same = [e.text for s, e in scored if s == top and e.passage is best.passage][:MAX_TIED]
    return best.passage, "".join(dict.fromkeys(same))


def _item_words(query: Query, w: SectionWords) -> tuple[list[str], bool]:
    """The words naming the item (labels, as asked); whether the question asks about the totals."""
    words = [norm(x) for item in query.items for x in (*item.labels, item.text) if x]
    asked = _asked(query, w)
    if asked:
        words.append(asked)
    totals = not query.items and (not asked or asked in w.totals_asked)
    return [x for x in dict.fromkeys(words) if len(x) >= 2], totals


def _asked(query: Query, w: SectionWords) -> str:
    """The question's own words for the item: the residue without why / change / filler words."""
    text = norm(query.residue).replace("\u3000", "")
    drop = (*cue_words(), *(a for d in w.directions for a in d.asked), "为什么", "为何", "原因", "是什么", "什么",
            "今年", "本年", "比上年", "比去年", "上年", "去年")
    for word in sorted(drop, key=len, reverse=True):
        text = text.replace(word, "")
    for filler in "的了吗呢么啊是为要":
        text = text.replace(filler, "")
    return text


def _clauses(text: str) -> list[str]:
    """The text cut at 。 and ；, each clause keeping its end mark."""
    flat = "".join(line.strip() for line in text.split("\n"))  # a page break may cut a sentence
    out: list[str] = []
    start = 0
    for i, ch in enumerate(flat):
        if ch in _ENDS:
            out.append(flat[start:i + 1].strip())
            start = i + 1
    out.append(flat[start:].strip())
    return [c for c in out if c]


def _explained(p: Passage, keys: tuple[str, ...], w: SectionWords) -> list[Explained]:
    clauses = _clauses(p.text)
    out: list[Explained] = []
    for i, c in enumerate(clauses):
        at = min((c.find(k) for k in keys if k in c), default=-1)
        if at < 0:
            continue
        subject = c[:at]
        text = c
        if not _head(subject)[0] and i:  # "主要原因是…" opens its own sentence: the figure is the clause before
            subject = clauses[i - 1]
            text = clauses[i - 1] + c
        j = i + 1
        while j < len(clauses) and clauses[j].startswith(w.continues):
            text += clauses[j]
            j += 1
        head, figure, change = _head(subject)
        out.append(Explained(p, text, head, figure, change, len(out)))
    return out


def _head(subject: str) -> tuple[str, str, str]:
    """(what the figure is, the figure, the change) of the words before an explanation: the figure is the
    last money figure before the change words ("工资福利支出（301）478.83万元，较上年增加…" after "其中：")."""
    w = section_words()
    cut = min((subject.find(m) for m in w.change_marks if m in subject), default=len(subject))
    before, change = subject[:cut], subject[cut:]
    at = max(before.rfind("万元"), before.rfind("元") if "万元" not in before else -1)
    if at < 0:
        return _after_last(before.rstrip("，,：: "), w.head_starts), "", change
    start = at
    while start and before[start - 1] in _NUMBER + " ":
        start -= 1
    figure = before[start:at].strip().strip(",，")
    return _after_last(before[:start].strip(), w.head_starts), figure, change


def _after_last(text: str, marks: tuple[str, ...]) -> str:
    at = max(((text.rfind(m) + len(m)) for m in marks if m in text), default=0)
    return text[at:] if at < len(text) else text


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _match(word: str, head: str) -> tuple[float, int]:
    """How much of the word the head repeats (share of character pairs), and how far from the head's end
    the match ends (the figure belongs to the noun right before it)."""
    if word in head:
        return 1.0, len(head) - (head.rfind(word) + len(word))
    pairs = _pairs(word)
    hits = [p for p in pairs if p in head]
    if not pairs or not hits:
        return 0.0, len(head)
    return len(hits) / len(pairs), len(head) - max(head.rfind(p) + 2 for p in hits)


def _score(e: Explained, words: list[str] | tuple[str, ...], question: str,
           w: SectionWords) -> tuple[float, int, int, int]:
    head = norm(e.head)
    best = max((_match(x, head) for x in words), key=lambda m: (m[0], -m[1]), default=(0.0, 0))
    return round(best[0], 1), _direction(e, question, w), _figure(e, question), -best[1]


def _direction(e: Explained, question: str, w: SectionWords) -> int:
    """1 when the clause shows the change the question asks about (增加 / 减少 / 是0), -1 when the opposite."""
    asked = [d for d in w.directions if any(a in question for a in d.asked)]
    if not asked:
        return 0
    shown = e.change[:40] or e.text[:80]
    for d in asked:
        if d.name == "为零" and e.figure and _is_zero(e.figure):
            return 1
        if any(s in shown for s in d.shown) and d.name != "为零":
            return 1
    return -1 if any(any(s in shown for s in d.shown) for d in w.directions) else 0


def _is_zero(figure: str) -> bool:
    try:
        return float(figure.replace(",", "").replace("，", "")) == 0
    except ValueError:
        return False


def _figure(e: Explained, question: str) -> int:
    """1 when the question repeats the clause's figure ("770万元", "900%")."""
    nums, run = [], ""
    for ch in question + " ":
        if ch in _DIGITS or (run and ch == "."):
            run += ch
        elif run:
            nums.append(run.rstrip("."))
            run = ""
    return int(any(n and n != "0" and n in e.text.replace(",", "") for n in nums))
