"""How a clause's words join and surround its items: lists and sums of items, comparisons between
subjects, verbs around an item, short forms of a printed label.

Pure functions over strings; the words are data (vocabulary.toml [joins], [verbs], [companions]).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from budgetqa.understand import lexicon


@dataclass(frozen=True)
class JoinWords:
    lists: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    rank: tuple[str, ...] = ()
    comparatives: tuple[str, ...] = ()
    subjects: tuple[str, ...] = ()  # "三家", "两个单位": words counting the subjects compared
    verbs: tuple[tuple[str, str], ...] = ()  # verb -> the documents' word for it ("" = dropped), longest first
    money: tuple[str, ...] = ()


@cache
def join_words() -> JoinWords:
    data = lexicon.vocabulary_data()
    joins = data.get("joins", {})
    verbs = sorted(data.get("verbs", {}).items(), key=lambda kv: -len(kv[0]))
    return JoinWords(tuple(joins.get("list", ())), tuple(joins.get("sum", ())), tuple(joins.get("rank", ())),
                     tuple(joins.get("comparatives", ())), tuple(sorted(joins.get("subjects", ()), key=len, reverse=True)),
                     tuple(verbs), tuple(data.get("companions", {}).get("money", ())))


_ENDS = "，,。？?！!；;　 "


def sum_joined(text: str, spans: Iterable[tuple[int, int]]) -> bool:
    """Two items one after another joined by a sum word ("基本工资加绩效工资", "A加上B")."""
    words = join_words()
    ordered = sorted(spans)
    for (_, a_end), (b_start, _) in zip(ordered, ordered[1:], strict=False):
        between = text[a_end:b_start].replace("　", "").replace("的", "")
        if between in words.sums:
            return True
    return False


def counted_units_total(text: str) -> bool:
    """"4家单位的在职人数合计": units counted by a number, a total word after them — the rows of one column
    added up ([joins] counted_units, row_totals)."""
    data = lexicon.vocabulary_data().get("joins", {})
    return any(text[at:].find(t) > 0 for at in _after_number(text, data.get("counted_units", ()))
               for t in data.get("row_totals", ()))


def counts_rows(text: str) -> bool:
    """"4家单位", "办公费两行", "所有行": the question counts units or rows, so a sum is over them, not the
    printed total ([joins] counted_units, rows, row_quantifiers)."""
    data = lexicon.vocabulary_data().get("joins", {})
    if _after_number(text, data.get("counted_units", ())) or _after_number(text, data.get("rows", ())):
        return True
    return any(text[:at].rstrip().endswith(tuple(data.get("row_quantifiers", ())))
               for w in data.get("rows", ()) for at in _find_all(text, w))


def _after_number(text: str, ws: Iterable[str]) -> list[int]:
    """Where one of the words stands right after a number ("4家单位", "4 家单位")."""
    return [at for w in ws for at in _find_all(text, w) if text[:at].rstrip()[-1:].isdecimal()]


def _find_all(text: str, w: str) -> list[int]:
    out: list[int] = []
    at = text.find(w)
    while at >= 0 and w:
        out.append(at)
        at = text.find(w, at + 1)
    return out


def without_rank(text: str) -> str:
    """"哪个三公经费多，各多少" -> "三公经费，各多少": a comparison between subjects asks the item of each;
    its asking word (哪个/谁) and the comparative after the item (多/高) are no part of the item."""
    words = join_words()
    for w in words.subjects:  # "三家哪个培训费最多": the count of subjects is no part of the item
        text = text.replace(w, "　")
    text = _without_unit_qualifiers(text)
    if not any(w in text for w in words.rank):
        return text
    for w in sorted(words.rank, key=len, reverse=True):
        text = text.replace(w, "")
    out = text
    for c in sorted(words.comparatives, key=len, reverse=True):
        for end in _ENDS:
            out = out.replace(c + end, end)
        if out.endswith(c) and not out.endswith("多少"):
            out = out[: -len(c)]
    return out


def _without_unit_qualifiers(text: str) -> str:
    """"应急管理局和住建局（无锡）": words in brackets right after a unit's place ("　", where the unit's name
    stood in the residue) say which unit, not which item; 本级 in brackets still narrows the figure."""
    out = text
    for open_, close in (("（", "）"), ("(", ")")):
        at = out.find("　" + open_)
        while at >= 0:
            end = out.find(close, at)
            inner = out[at + 2:end] if end > 0 else ""
            if inner and all("\u4e00" <= c <= "\u9fff" for c in inner) and not lexicon.has_any(inner, "own_level"):
                out = out[:at + 1] + out[end + 1:]
            at = out.find("　" + open_, at + 1)
    return out


def verb_readings(text: str) -> list[str]:
    """The clause read with its verbs dropped ("买特级防化服花多少钱" -> "特级防化服多少钱"), and a verb that
    has a document word read as that word after and before its noun ("买公务用车" -> "公务用车购置",
    "购置公务用车"). [] when the clause has no verb."""
    words = join_words()
    found = _verbs_in(text, words.verbs)
    if not found:
        return []
    dropped = _rebuild(text, found, lambda verb, word, noun: noun)
    after = _rebuild(text, found, lambda verb, word, noun: noun + word)
    before = _rebuild(text, found, lambda verb, word, noun: word + noun)
    return list(dict.fromkeys(r for r in (after, before, dropped) if r != text))


def verbs_as_words(text: str) -> str:
    """The clause with each verb that has a document word replaced by it in place ("今年买几辆" ->
    "今年购置几辆"): what a count question without an item is matched on."""
    found = _verbs_in(text, join_words().verbs)
    return _rebuild(text, found, lambda verb, word, noun: (word or verb) + noun) if found else text


def asks_money(text: str) -> bool:
    return any(w in text for w in join_words().money)


def _verbs_in(text: str, verbs: tuple[tuple[str, str], ...]) -> list[tuple[int, str, str]]:
    """(position, verb, word) of each verb, leftmost-longest, not inside a longer word of the list."""
    out: list[tuple[int, str, str]] = []
    i = 0
    while i < len(text):
        hit = next(((v, w) for v, w in verbs if text.startswith(v, i)), None)
        if hit is None:
            i += 1
            continue
        out.append((i, hit[0], hit[1]))
        i += len(hit[0])
    return out


def _rebuild(text: str, found: list[tuple[int, str, str]], form: object) -> str:
    """The text with each verb and the noun after it (up to the next verb or filler word) rewritten."""
    out: list[str] = []
    last = 0
    for n, (at, verb, word) in enumerate(found):
        out.append(text[last:at])
        start = at + len(verb)
        stop = found[n + 1][0] if n + 1 < len(found) else len(text)
        noun = _noun(text[start:stop])
        out.append(form(verb, word, noun))  # type: ignore[operator]
        last = start + len(noun)
    out.append(text[last:])
    return "".join(out)


def _noun(text: str) -> str:
    """The words up to the first filler word ("公务用车花多少钱" -> "公务用车")."""
    for i in range(len(text)):
        if lexicon.replace_words(text[i:], "filler", "|").startswith("|"):
            return text[:i]
    return text


def short_form_spans(text: str, label: str, money_suffixes: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where the question writes `label` short: its characters in order with some left out, first and last
    kept ("公车运维费" for 公务用车运行维护费, "政府性基金收入" for 政府性基金预算收入); its tail without the
    qualifier in front ("代办服务能力提升专题培训" for 西安市政务服务系统代办…培训); or without its money
    suffix ("公务接待" for 公务接待费). Three characters at least and two fifths of the label."""
    forms = [label] + [label[: -len(s)] for s in money_suffixes if label.endswith(s) and len(label) - len(s) >= 3]
    out: list[tuple[int, int]] = []
    for form in forms:
        least = max(3, (2 * len(form) + 4) // 5)
        for s in range(len(text)):
            end = _abbreviation_end(text, s, form)
            if end and end - s >= least:
                out.append((s, end))
        if len(form) >= 8:
            tail_least = max(6, (2 * len(form) + 4) // 5)
            for size in range(len(form) - 1, tail_least - 1, -1):
                at = text.find(form[-size:])
                if at >= 0:
                    out.append((at, at + size))
                    break
    return out


def _abbreviation_end(text: str, s: int, form: str) -> int:
    """The end of the longest run text[s:e] that starts and ends as `form` does and is a subsequence of it."""
    if text[s] != form[0]:
        return 0
    k = 1
    best = 0
    for j in range(s + 1, len(text)):
        ch = text[j]
        if ch == form[-1] and j > s:
            best = j + 1  # the last character may close the form here
        at = form.find(ch, k, len(form) - 1)
        if at < 0:
            break
        k = at + 1
    return best
