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
from budgetqa.understand.text_shape import cue_words, lead_cue_words
from budgetqa.understand.understander import Query, item_words

_ENDS = "。；;"
_DIGITS = "0123456789"
_NUMBER = _DIGITS + ".,，"
MAX_TIED = 3
FRAGMENT = 0.5  # an item word that is a small piece of what the question names counts half
COMPARE_SPAN = 12  # "比2024年预算" / "较上年" before the change word
FULL_WORD = 6  # an item word this long (or longer) names the item fully; shorter ones count less
CONTEXT_SHARE = 0.8  # the question's words found around the clause count less than in its head
MIN_MATCH = 0.5  # share of the item word's character pairs the head must repeat
MAX_BACK = 4  # clauses an explanation without its own subject may look back for the figure it explains
_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Explained:
    """One explanation: the clause with the figure it explains, and that figure's head and value."""

    passage: Passage
    text: str  # the subject clause + the explaining clause (+ continuations), verbatim
    head: str  # the words before the figure: what the figure is
    figure: str  # the figure as printed ("5.5"), "" when the clause has none
    change: str  # the words between the figure and the explanation word
    order: int
    context: str = ""  # the subject with the clause before it when the subject has no figure of its own
    reason: str = ""  # the words after the explanation word


def explain(query: Query, passages: list[Passage]) -> tuple[Passage, str] | None:
    """The passage and the clause that explains what the question asks about, None when no clause does."""
    w = section_words()
    keys = w.keys.get(query.topic, ())
    found = [replace(e, order=i) for i, e in enumerate(e for p in passages for e in _explained(p, keys, w))]
    words, totals = _item_words(query, w)
    scored: list[tuple[tuple[float, int, int, int], Explained]] = []
    asked = _asked(query, w)
    totals_words = [(x, 1.0) for x in w.totals_shown]
    for named in ((totals_words, words) if totals else (words,)):
        scored = [(s, e) for e in found if (s := _score(e, named, query.question, w, asked))[0] > 0]
        if scored:
            break
    if not scored:
        return None
    top, best = max(scored, key=lambda se: (*se[0], -se[1].order))
    # equally good clauses of the same section say it together ("预算收入较上年增加…；预算支出较上年增加…")
    same = [e.text for s, e in scored if s == top and e.passage is best.passage][:MAX_TIED]
    if "万元" in best.reason:  # "增加的原因：…其中基本支出增加29.35万元…": the parts' own reasons follow
        same += [e.text for e in found if e.passage is best.passage and 0 < e.order - best.order <= MAX_TIED - 1]
    return best.passage, "".join(dict.fromkeys(same))


def _item_words(query: Query, w: SectionWords) -> tuple[list[tuple[str, float]], bool]:
    """The words naming the item (labels, as asked) with how much each counts; whether the question asks
    about the totals."""
    asked = _asked(query, w)
    words: list[tuple[str, float]] = [(asked, 1.0)] if asked else []
    for item in query.items:
        # an item that is a small piece of what the question names ("支出" of "一般公共预算支出决算小于年初预算")
        # would match any 支出 clause: the question's own words name it better
        text = norm(item.text)
        factor = FRAGMENT if asked and text in asked and 2 * len(text) < len(asked) else 1.0
        words += [(norm(x), factor) for x in (*item.labels, item.text) if x]
    totals = not query.items and (not asked or asked in w.totals_asked)
    best: dict[str, float] = {}
    for x, f in words:
        if len(x) >= 2:
            best[x] = max(best.get(x, 0.0), f)
    return list(best.items()), totals


def _asked(query: Query, w: SectionWords) -> str:
    """The question's own words for the item: the residue without why / change / filler words."""
    text = norm(query.residue).replace("\u3000", "")
    drop = (*cue_words(), *lead_cue_words(text), *(a for d in w.directions for a in d.asked), "为什么", "为何", "原因", "是什么", "什么",
            "今年", "本年", "比上年", "比去年", "上年", "去年")
    for word in sorted(drop, key=len, reverse=True):
        text = text.replace(word, "")
    text = norm(item_words(text))  # figures dropped after the cue words ("怎么是0") went
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
        text, context = c, subject
        if not _head(subject)[1] and i:  # no figure of its own ("决算数小于预算数的主要原因：")
            context = clauses[i - 1] + subject
        if not _head(subject)[0] and i:  # "主要原因是…" opens its own sentence: the figure is a clause before
            first = _subject_clause(clauses, i, keys)
            subject = clauses[first]
            text = "".join(clauses[first:i + 1])
        j = i + 1
        while j < len(clauses) and clauses[j].startswith(w.continues):
            text += clauses[j]
            j += 1
        head, figure, change = _head(subject)
        out.append(Explained(p, text, head, figure, change, len(out), context, c[at:]))
    return out


def _subject_clause(clauses: list[str], i: int, keys: tuple[str, ...]) -> int:
    """The clause an explanation without its own subject is about: the nearest clause before it that states
    a figure ("2.公务接待费：…预算51.53万元，比上年下降12.0%。主要用于…。减少的主要原因是…"), not going
    past the start of a numbered paragraph nor into another explanation of the same kind."""
    j = i - 1
    while j > 0 and i - j < MAX_BACK and not _head(clauses[j])[1] and not numbered(clauses[j]) \
            and not any(k in clauses[j - 1] for k in keys):
        j -= 1
    return j if _head(clauses[j])[1] else i - 1


def numbered(clause: str) -> bool:
    """The clause opens a numbered paragraph ("2.公务接待费：", "（三）", "(1)", "3、"); "一是" does not."""
    head = clause[:4].lstrip("（(")
    if not head[:1] or not (head[:1].isdigit() or head[:1] in _NUMERALS):
        return False
    rest = head.lstrip("0123456789" + _NUMERALS)
    return rest[:1] in (".", "．", "、", "）", ")")


def _head(subject: str) -> tuple[str, str, str]:
    """(what the figure is, the figure, the change) of the words before an explanation: the figure is the
    last money figure before the change words ("工资福利支出（301）478.83万元，较上年增加…" after "其中：")."""
    w = section_words()
    cut = min((subject.find(m) for m in w.change_marks if m in subject), default=len(subject))
    shown = min((subject.find(x) for d in w.directions if d.name != "为零" for x in d.shown if x in subject),
                default=len(subject))
    if shown < cut:  # "比2024年预算减少10万元": the comparison starts at the 比 before the change word
        back = max(subject.rfind(m, 0, shown) for m in w.compare_words)
        cut = back if back >= 0 and shown - back <= COMPARE_SPAN and "万元" not in subject[back:shown] else shown
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


def _score(e: Explained, words: list[tuple[str, float]], question: str, w: SectionWords,
           asked: str = "") -> tuple[float, int, int, int]:
    """(how well the head names the item, change asked, figure repeated, closeness of the name to the
    figure). A longer word matched counts more than "支出"; the question's own words may also be found in
    the clause before a figure-less subject ("…支出决算为X万元。决算数小于预算数的主要原因")."""
    head = norm(e.head)
    best = max(((m[0] * _weight(x) * f, m[1], m[0]) for x, f in words if (m := _match(x, head))[0] >= MIN_MATCH),
               key=lambda m: (m[0], -m[1]), default=(0.0, len(head), 0.0))
    if asked and (m := _match(asked, norm(e.context)))[0] >= MIN_MATCH:
        best = max(best, (CONTEXT_SHARE * m[0] * _weight(asked), m[1], m[0]), key=lambda m: m[0])
    return round(best[0], 1), _direction(e, question, w), _figure(e, question), -best[1]


def _weight(word: str) -> float:
    return min(len(word), FULL_WORD) / FULL_WORD


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
