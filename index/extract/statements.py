"""Statements as facts: "机关运行经费618.35万元，比上年增加11.98万元" says last year's figure too.

A change figure (its label names the year compared with and a direction) following a money figure in
the same sentence gives the earlier year's figure = this figure ∓ the change. The derived fact has its
own identity: the earlier year, the same item (row "上年" + the item, as documents print 上年 rows), and
this document as its source, quoting the sentence. Nothing is derived from a rate (增长5%) alone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from budgetqa.index.model import Fact

MONEY = ("亿元", "万元", "元")
# The words of a change statement, as data: which year it compares with and which way it went.
PREVIOUS_WORDS = ("上年", "上一年", "去年", "同比", "上年度")
UP_WORDS = ("增加", "增长", "提高", "上升", "多")
DOWN_WORDS = ("减少", "下降", "降低", "压减", "减", "少", "节约", "节省")
TAIL_WORDS = ("了", "为", "达")
COMPARE_WORDS = ("与上年预算数", "与上年预算", "与上年", "与去年", "与上年相比", "与上年度相比", "比上年度", "比上年", "较上年度", "较上年", "比去年", "较去年", "同比", "比", "较")
SELF_WORDS = ("本部门", "本单位")
PART_WORDS = ("其中：", "其中:", "其中")  # a part of the total a change clause before it is about  # the clause's subject, not its item
OUTTURN_WORDS = ("执行数", "决算数", "实际支出", "实际")  # compared with last year's outturn, not its budget
SAME_WORDS = ("无增减", "持平", "相同", "不变", "一致", "无变化", "没有变化")  # "较上年无增减"
CLAUSE_STOPS = ("，", ",", "；", ";", "。")
MAX_BACK = 8  # figures of the section a named change may refer back to
PRIOR_PREFIX = "上年"


@dataclass(frozen=True)
class Change:
    """A parsed change label: the direction (+1 / -1) and the year compared with (None = the previous)."""

    sign: int
    year: int | None
    noun: str = ""  # the item the clause names before the comparison ("支出较去年减少": 支出)
    basis: str = ""  # what of last year it is compared with, when not its budget ("比上年执行数增加": 执行数)


def prior_facts(facts: list[Fact]) -> list[Fact]:
    """The earlier year's figures stated by the change figures among a document's narrative facts."""
    out: list[Fact] = []
    recent: list[Fact] = []  # this section's figures before the change, latest last
    for f in facts:
        if f.source != "text" or f.measure not in MONEY:
            continue
        if recent and recent[-1].section != f.section:
            recent = []
        change = _change(f)
        if change is None:
            recent.append(f)
            same = _unchanged(f)
            if same is not None:
                out.append(same)
            continue
        base = _base(recent, change, f)
        if base is not None and base.number is not None and f.number is not None:
            derived = _prior(base, f, change)
            printed = {(g.row, g.quote) for g in recent if g.row.startswith(PREVIOUS_WORDS)}
            if derived is not None and (derived.row, derived.quote) not in printed:
                out.append(derived)
        recent = [g for g in recent if g is not base]  # one change per figure
    return out


def _unchanged(f: Fact) -> Fact | None:
    """"会议费预算支出2.00万元，较上年无增减" / "…8.21万元，与上年预算数相同": last year's figure is this one."""
    if f.year is None or f.row.startswith(PREVIOUS_WORDS):
        return None
    at = f.quote.find(f.value)
    if at < 0:
        return None
    tail = f.quote[at + len(f.value):].lstrip(" \u3000").removeprefix(f.measure).lstrip("，, ")
    clause = tail
    for stop in CLAUSE_STOPS:
        clause = clause.split(stop, 1)[0]
    if not clause.startswith(COMPARE_WORDS) or not any(w in clause for w in SAME_WORDS) \
            or any(ch.isdigit() for ch in clause) or not any(w in clause for w in PREVIOUS_WORDS):
        return None
    return replace(f, year=f.year - 1, row=PRIOR_PREFIX + f.row, context=f.context + "；" + clause)


def unchanged_sentence(sentence: str, earlier: list[Fact], year: int | None) -> Fact | None:
    """"2026年“三公”经费预算与2025年持平": a sentence without figures saying an item did not change gives
    last year's figure of the item it names (the section's latest figure whose label starts with it)."""
    words = sentence.replace(" ", "").replace("\u3000", "")
    if year:
        words = words.replace(f"{year}年度", "").replace(f"{year}年", "")
    at_year = [i for i in range(1, len(words) - 4) if words[i] in "与比较" and words[i + 1:i + 5].isdigit()]
    cut = min([i for i in (words.find(w) for w in COMPARE_WORDS) if i > 0] + at_year, default=-1)
    if cut < 0:
        return None
    noun, rest = words[:cut], words[cut:]
    for self_word in SELF_WORDS:
        noun = noun.removeprefix(self_word)
    rest = rest.split("，", 1)[0].split("；", 1)[0]
    when = _compared_year(rest, year)
    if len(noun) < 2 or not any(w in rest for w in SAME_WORDS) or (when is None and not any(w in rest for w in PREVIOUS_WORDS)):
        return None
    hits = [f for f in earlier if f.measure in MONEY and f.year == year and f.row.startswith(noun)]
    if not hits or year is None:
        return None
    base = hits[-1]
    prior_year = when if when is not None else year - 1
    row = (PRIOR_PREFIX if prior_year == year - 1 else f"{prior_year}年") + base.row
    return replace(base, year=prior_year, row=row, quote=sentence, context=base.context + "；" + sentence)


def _base(recent: list[Fact], change: Change, f: Fact) -> Fact | None:
    """The figure a change is about: the one its clause names ("支出较去年减少": the section's latest
    figure whose item starts with 支出, else contains it), else the figure just before it in the sentence."""
    pool = [g for g in recent[-MAX_BACK:] if g.measure == f.measure and not g.row.startswith(PREVIOUS_WORDS)]
    if not change.noun:
        last = pool[-1] if pool else None
        return last if last is not None and last.quote == f.quote else None
    for test in (lambda g: g.row.startswith(change.noun), lambda g: change.noun in g.row):
        hits = [g for g in pool if test(g)]
        if hits:
            return hits[-1]
    return None


def _change(f: Fact) -> Change | None:
    """The change a narrative figure's clause states, read from the words right before the figure."""
    at = f.context.find(f.value)
    words = (f.context[:at] if at >= 0 else f.context).replace(" ", "").replace("\u3000", "")
    if f.year:  # "2019年本部门预算收入较上年增加": the document's own year is the clause's subject
        words = words.replace(f"{f.year}年度", "").replace(f"{f.year}年", "")
    for tail in TAIL_WORDS:
        words = words.removesuffix(tail)
    if any(ch.isdigit() for ch in words.replace("年", "")[-12:]) and not _compared_year(words, f.year):
        return None  # "比上年预算54.07万元增加": the earlier figure is printed, nothing to derive
    sign = 1 if words.endswith(UP_WORDS) else -1 if words.endswith(DOWN_WORDS) else 0
    if not sign:
        return None
    year = _compared_year(words, f.year)
    if year is None and not any(w in words for w in PREVIOUS_WORDS):
        part = _part_of_change(f, words)
        return Change(sign, None, part) if part else None
    return Change(sign, year, _noun(words), next((w for w in OUTTURN_WORDS if w in words), ""))


def _part_of_change(f: Fact, words: str) -> str:
    """"较上年增加406.39万元，其中基本支出减少19.11万元": a part listed after 其中 is compared with the
    same year as the sentence's change before it. Its item: the words between 其中 and the direction."""
    if not words.startswith(PART_WORDS):
        return ""
    at = f.quote.find(f.context) if f.context else -1
    before = f.quote[:at] if at > 0 else ""
    if not any(w in before for w in PREVIOUS_WORDS):
        return ""
    noun = words
    for w in PART_WORDS:
        noun = noun.removeprefix(w)
    for w in sorted(UP_WORDS + DOWN_WORDS, key=len, reverse=True):
        if noun.endswith(w):
            noun = noun[: -len(w)]
            break
    return noun if len(noun) >= 2 else ""


def _noun(words: str) -> str:
    """"支出较去年减少" -> 支出; "比上年预算减少" -> "" (the clause names no item of its own)."""
    cut = min((i for i in (words.find(w) for w in COMPARE_WORDS) if i >= 0), default=-1)
    noun = words[:cut] if cut > 0 else ""
    for self_word in SELF_WORDS:  # "本部门预算收入较上年增加": the item is 预算收入
        noun = noun.removeprefix(self_word)
    return noun if len(noun) >= 2 else ""


def _compared_year(words: str, own: int | None) -> int | None:
    """"比2023年预算减少": 2023; None where the clause names no year (上年, 同比)."""
    for i in range(len(words) - 4):
        chunk = words[i:i + 4]
        if chunk.isdigit() and words[i + 4] == "年" and chunk.startswith(("19", "20")):
            year = int(chunk)
            return year if own is None or year < own else None
    return None


def _prior(base: Fact, change: Fact, how: Change) -> Fact | None:
    assert base.number is not None and change.number is not None
    value = base.number - how.sign * change.number
    if value < 0:
        return None
    year = how.year if how.year is not None else (base.year - 1 if base.year else None)
    if year is None:
        return None
    places = max(_places(base.value), _places(change.value))
    # the row names the year as the documents do: 上年 for the year before, else the year itself
    row = (PRIOR_PREFIX if base.year and year == base.year - 1 else f"{year}年") + base.row
    return replace(base, year=year, row=row, value=f"{value:,.{places}f}".replace(",", "") if places else str(int(value)),
                   code=base.code, context=base.context + "；" + change.context, column=how.basis or base.column)


def _places(printed: str) -> int:
    return len(printed.split(".", 1)[1]) if "." in printed else 0


def stated_change(f: Fact) -> Change | None:
    """The change a narrative figure states ("较上年减少1.00万元": -1), or None (the answer side binds it
    to the figure it is about: budgetqa.answer.periods)."""
    return _change(f) if f.source == "text" else None
