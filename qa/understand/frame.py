"""Question -> frames: one typed frame per question the citizen asks in one message.

"X的因公出国费是多少？比上年增加了多少？" is two questions; the second names neither the unit nor the
item, it inherits them from the first. "政府采购预算多少？其中服务类多少？" asks for a part of the first
item. Each frame is answered and checked on its own; the reply joins them in the question's order.

The words that split, join and carry context are data (vocabulary.toml [frames] and [operations]);
the unit registry (budgetqa.understand.units) says which words name a subject.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from budgetqa.understand.units import UnitMatcher

Operation = Literal["lookup", "sum", "difference", "ratio", "change", "compare", "rank", "list", "explain"]
# What a comparison asks of its figures: "" none; "more"/"less" which is larger/smaller ("哪个多", "哪个少");
# "difference" by how much
# ("A比B多多少"); "times" how many times ("A是B的几倍"); "most"/"least" the largest/smallest of several or of a
# concept's parts ("三公经费里哪项最多").
Relation = Literal["", "more", "less", "difference", "times", "ratio", "most", "least"]


@dataclass(frozen=True)
class FrameWords:
    """The words (from vocabulary.toml) that shape frames."""

    ends: tuple[str, ...] = ("？", "?", "；", ";", "。", "！", "!")
    commas: tuple[str, ...] = ("，", ",")
    asks: tuple[str, ...] = ("多少", "几", "什么", "哪些", "哪个", "为什么", "为何", "是否", "如何")
    follow: tuple[str, ...] = ("其中", "比上年", "较上年", "比去年", "较去年", "同比", "与上年")
    part: tuple[str, ...] = ("其中",)
    bare: tuple[str, ...] = ("各", "分别", "各自", "都", "各是", "分别是", "多少", "是", "呢", "？", "?", "，", ",")
    previous: tuple[str, ...] = ("上一年", "上年度", "上年", "去年")
    compare_before: tuple[str, ...] = ("比", "较", "与", "同", "相比")
    item_after: tuple[str, ...] = ("结转", "结余", "末", "底", "同期")
    each: tuple[str, ...] = ("各", "分别", "都")
    periods: tuple[str, ...] = ("今年", "去年", "上年", "年")
    operations: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class CompareWords:
    """The words (vocabulary.toml [compare]) that say what a comparison asks."""

    times: tuple[str, ...] = ()
    percent: tuple[str, ...] = ()  # "今年是去年的百分之多少": one figure as a percentage of another
    most: tuple[str, ...] = ()
    least: tuple[str, ...] = ()
    difference: tuple[str, ...] = ()
    gap_links: tuple[str, ...] = ()  # comparative + link + ask asks a difference ("高出多少", "少了多少")
    gap_asks: tuple[str, ...] = ()
    which: tuple[str, ...] = ()
    comparatives: tuple[str, ...] = ()  # [joins] comparatives: 多, 高, 少 …
    lesser: tuple[str, ...] = ()  # the comparatives that ask for the smaller one (少, 低)
    against: tuple[str, ...] = ()  # a follow-up opening with these compares with the figure before ("比…多多少")
    current: tuple[str, ...] = ()


@dataclass(frozen=True)
class Frame:
    """One question: its clause as asked, the text to understand (with inherited context), the
    operation its words ask for, and what it inherited from the frame before."""

    clause: str
    text: str
    operation: Operation
    subject: str = ""  # the words naming the unit(s), as the question says them
    inherited: tuple[str, ...] = ()  # "subject", "item"


def load_words(data: dict[str, object]) -> FrameWords:
    frames = data.get("frames", {})
    ops = data.get("operations", {})
    base = FrameWords()
    if not isinstance(frames, dict) or not isinstance(ops, dict):
        return base
    kw = {k: tuple(v) for k, v in frames.items() if k in FrameWords.__dataclass_fields__ and isinstance(v, list)}
    return replace(base, **kw, operations=tuple((k, tuple(v)) for k, v in ops.items()))  # type: ignore[arg-type]


def load_compare_words(data: dict[str, object]) -> CompareWords:
    raw = data.get("compare", {})
    joins = data.get("joins", {})
    if not isinstance(raw, dict) or not isinstance(joins, dict):
        return CompareWords()
    kw = {k: tuple(v) for k, v in raw.items() if k in CompareWords.__dataclass_fields__ and isinstance(v, list)}
    return replace(CompareWords(**kw), comparatives=tuple(joins.get("comparatives", ())))


def relation(text: str, words: CompareWords) -> Relation:
    """What the clause asks of the figures it compares ("" when it compares nothing). A which-word asks
    "which is larger" only with a comparative after it ("哪个多", "谁的招待费高"), not in "多少"."""
    if any(w in text for w in words.times):
        return "times"
    if any(w in text for w in words.percent):
        return "ratio"
    if any(w in text for w in words.most):
        return "most"
    if any(w in text for w in words.least):
        return "least"
    if any(w in text for w in words.difference) or asks_gap(text, words):
        return "difference"
    plain = text.replace("多少", "")
    at = min((plain.find(w) for w in words.which if w in plain), default=-1)
    after = [(plain.find(c, at), -len(c), c) for c in words.comparatives if at >= 0 and c in plain[at:]]
    if not after:
        return ""
    return "less" if min(after)[2] in words.lesser else "more"


def relations(text: str, words: CompareWords) -> list[Relation]:
    """Every relation the clause asks, in the order it asks them ("谁高？高多少？是几倍？": more, difference,
    times); a which-word's "more" only when nothing else is asked (a difference or a rank names the larger)."""
    at: dict[Relation, int] = {}
    for rel, ws in (("times", words.times), ("ratio", words.percent), ("most", words.most), ("least", words.least),
                    ("difference", words.difference)):
        hits = [text.find(w) for w in ws if w in text]
        if hits:
            at[rel] = min(hits)  # type: ignore[index]
    gap = _gap_at(text, words)
    if gap >= 0:
        at["difference"] = min(at.get("difference", gap), gap)
    if not at:  # "哪个多": only when nothing else is asked (a difference or a rank names the larger itself)
        which = relation(text, words)
        return [which] if which else []
    return sorted(at, key=lambda r: at[r])


def _gap_at(text: str, words: CompareWords) -> int:
    hits = [text.find(c + link + ask) for c in words.comparatives for link in words.gap_links
            for ask in words.gap_asks if c + link + ask in text]
    return min(hits, default=-1)


def asks_gap(text: str, words: CompareWords) -> bool:
    """A comparative, a link word and an asking word in a row ("多多少", "高出多少", "少花了几"): by how much."""
    return any(c + link + ask in text for c in words.comparatives for link in words.gap_links
               for ask in words.gap_asks)


def asks_current(text: str, words: CompareWords) -> int:
    """Where the clause names the document's own year ("今年和去年…"), -1 if it does not."""
    return min((text.find(w) for w in words.current if w in text), default=-1)


def paired_years(text: str, words: CompareWords, previous: tuple[str, ...], lists: tuple[str, ...]) -> list[str]:
    """"今年和去年分别多少", "去年与今年哪年多": the previous-year word listed with the document's own year asks
    that year too (a list word between them is no comparison "和上年相比"). [] when they are not so listed."""
    for cur in words.current:
        for join in lists:
            for prev in previous:
                if cur + join + prev in text or prev + join + cur in text:
                    return [prev]
    return []


def compares_with_before(frame: Frame, words: CompareWords) -> bool:
    """A follow-up that compares the figure before with another unit, year or item ("…是多少？比湖州财政局多
    多少？", "…是多少，比会议费多多少"): it opens with a comparison word and asks a relation."""
    return frame.clause.lstrip("，, ").startswith(words.against) and bool(relation(frame.clause, words))


def compared_with(frame: Frame, subject: str, item: str) -> Frame:
    """The follow-up read with the subject and the item of the frame before in front: "湖州交通局公务接待费
    比湖州财政局多多少" — two operands, one relation."""
    return replace(frame, text=subject + item + frame.clause.lstrip("，, "),
                   inherited=(*frame.inherited, "subject", "item"))


def operation(text: str, words: FrameWords) -> Operation:
    """The first operation (in the vocabulary's order) whose words the clause uses; else lookup."""
    for name, triggers in words.operations:
        if any(t in text for t in triggers):
            return name  # type: ignore[return-value]
    return "lookup"


def previous_year_words(text: str, words: FrameWords) -> list[str]:
    """The words that make a clause ask for the year before the latest document ("去年的招待费"), not a
    comparison with it ("比上年增加") nor an item named after it ("上年结转")."""
    covered = [False] * len(text)
    found: list[str] = []
    for w in sorted(words.previous, key=len, reverse=True):
        at = text.find(w)
        while at >= 0:
            end = at + len(w)
            if not any(covered[at:end]):
                covered[at:end] = [True] * len(w)
                if not text[:at].endswith(words.compare_before) and not text[end:].startswith(words.item_after):
                    found.append(w)
            at = text.find(w, at + 1)
    return found


def clauses(question: str, words: FrameWords) -> list[str]:
    """The question cut at sentence ends, and at commas between two pieces that each ask ("…多少，工程类
    多少") or before a follow-up ("，比上年增加多少", "，其中…"); a piece that asks nothing joins the next,
    a bare "各多少" joins the one before."""
    pieces: list[str] = []
    cur = ""
    for i, ch in enumerate(question):
        cur += ch
        rest = question[i + 1:].lstrip()
        if ch in words.ends or (ch in words.commas and _asks(cur, words)
                                and (rest.startswith(words.follow) or _asks_alone(rest, words))):
            pieces.append(cur)
            cur = ""
    if cur.strip():
        pieces.append(cur)
    out: list[str] = []
    carry = ""
    for p in pieces:
        p = carry + p
        carry = ""
        if not _asks(p, words) and p is not pieces[-1]:
            carry = p  # "福州市医疗保障局的机关运行经费，" asks nothing yet
            continue
        if out and _bare(p, words):
            out[-1] += p  # "谁的招待费多？各多少": one comparison
            continue
        out.append(p)
    if carry:
        out.append(carry) if not out else out.__setitem__(-1, out[-1] + carry)
    return [c for c in out if c.strip()] or [question]


def _asks_alone(rest: str, words: FrameWords) -> bool:
    """The piece after a comma asks a question of its own ("…有多少辆车，今年买几辆"), not only "各多少"."""
    piece = rest
    for i, ch in enumerate(rest):
        if ch in words.ends or ch in words.commas:
            piece = rest[:i]
            break
    return _asks(piece, words) and not _bare(piece, words)


def _asks(text: str, words: FrameWords) -> bool:
    return any(w in text for w in words.asks)


def _bare(text: str, words: FrameWords) -> bool:
    rest = text
    for w in sorted(words.bare, key=len, reverse=True):
        rest = rest.replace(w, "")
    return not rest.strip()


def frames(question: str, matcher: UnitMatcher, words: FrameWords) -> list[Frame]:
    """The frames of a question; later clauses inherit the subject (and, for a follow-up that names no
    item, the item words) of the clause before."""
    parts = clauses(question, words)
    if len(parts) == 1:
        return [Frame(question, question, operation(question, words), _subject(question, matcher))]
    out: list[Frame] = []
    for p in parts:
        subject = _subject(p, matcher) if not out else _own_subject(p, out[-1].subject, matcher)
        text: str = p
        inherited: tuple[str, ...] = ()
        if out and not subject and out[-1].subject:
            subject = out[-1].subject
            inherited = ("subject",)
            text = subject + _strip_part(p, words)
        out.append(Frame(p, text, operation(p, words), subject, inherited))
    return out


def with_item(frame: Frame, item: str, words: FrameWords) -> Frame:
    """A follow-up that names no item ("比上年增加了多少") is about the item before; a part ("其中服务类
    多少") narrows it: the item's words go in front of the clause's own."""
    body = frame.text.removeprefix(frame.subject) if frame.subject else frame.text
    return replace(frame, text=frame.subject + item + body, inherited=(*frame.inherited, "item"))


def needs_item(frame: Frame, has_items: bool, words: FrameWords) -> bool:
    """A part always narrows the item before; a follow-up inherits it when it names none of its own."""
    start = frame.clause.lstrip("，, ")
    return start.startswith(words.part) or (not has_items and (start.startswith(words.follow)
                                                                 or _period_only(start, frame.subject, words)))


def _period_only(clause: str, subject: str, words: FrameWords) -> bool:
    """The clause names a period and asks, nothing else ("今年是多少", "2025年呢"): no item of its own."""
    rest = clause.replace(subject, "") if subject else clause
    if not any(w in rest for w in words.periods):
        return False
    for w in sorted((*words.periods, *words.bare), key=len, reverse=True):
        rest = rest.replace(w, "")
    return not "".join(c for c in rest if not c.isdecimal()).strip()


def _strip_part(clause: str, words: FrameWords) -> str:
    c = clause.lstrip("，, ")
    for w in words.part:
        c = c.removeprefix(w)
    return c.lstrip("：:，, ")


def each_parts(clause: str, subject: str, lists: tuple[str, ...], each: tuple[str, ...]) -> list[str]:
    """"X水费和电费各安排了多少" -> ["X水费安排了多少", "X电费安排了多少"]: items listed with 和/与/及/、
    before 各/分别/都 are one question each; [] when the clause lists no items so."""
    body = clause[len(subject):] if subject and clause.startswith(subject) else clause
    hits = [(body.find(w), w) for w in sorted(each, key=len, reverse=True) if body.find(w) > 0]
    if not hits:
        return []
    at, word = min(hits)
    head, tail = body[:at], body[at + len(word):]
    pieces = [head]
    for join in sorted(lists, key=len, reverse=True):
        pieces = [x for piece in pieces for x in piece.split(join)]
    pieces = [x for x in pieces if x.strip("的 　")]
    if len(pieces) < 2:
        return []
    return [subject + x + tail for x in pieces]


def _own_subject(clause: str, before: str, matcher: UnitMatcher) -> str:
    """A later part's own subject; a name that only looks like a unit because it opens the part ("20万以上
    设备多少台") is none: read after the subject before, it is no unit."""
    subject = _subject(clause, matcher)
    if not subject or not before or matcher.find(clause)[0]:
        return subject
    mentions, foreign = matcher.find(before + clause)
    return subject if foreign or any(m.start >= len(before) for m in mentions) else ""


def _subject(text: str, matcher: UnitMatcher) -> str:
    mentions, foreign = matcher.find(text)
    q = text.replace(" ", "")
    names = [q[m.start:m.end] for m in mentions] + list(foreign)
    return "和".join(dict.fromkeys(names))
