"""Figures stated in the prose of a document ("公务接待费5.00万元，比上年增加1.00万元").

Each figure with a measure becomes a text fact. Its row is the budget item the sentence attaches
it to: the words between the previous figure (or the clause start) and this one, cleaned of
connectives. Comparisons ("同比增加", "增长") borrow the sentence's subject so that "增长72.7%"
after "收入总计93.42万元" reads 收入总计增长. A generic label ("2024年预算安排") takes the item
named by the section heading ("（二）公务接待费").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from budgetqa.index.extract.statements import prior_facts, unchanged_sentence
from budgetqa.index.model import Document, Fact, Section

# Longest first so 万元 wins over 元 and 个百分点 over 个.
MEASURES: tuple[str, ...] = (
    "个百分点", "百分点", "万人次", "人次", "万人", "亿元", "万元", "元", "%", "％", "平方米", "平米",
    "公里", "台（套）", "台套", "个月", "批次", "人", "名", "辆", "台", "个", "件", "次", "户", "家", "项", "套",
    "所", "场", "篇", "份", "亩", "座",
)
_NUM = r"(?<![0-9A-Za-z.,．])(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
# A bare 万 before punctuation is 万元 shortened in lists ("基本养老保险缴费 7.44 万、职业年金…").
_FIGURE = re.compile(_NUM + r"\s*(?P<measure>" + "|".join(re.escape(m) for m in MEASURES)
                     + r"|万(?=[，,、；;。）)]|$)|分(?![钟之析别类期配项局])(?=\W|$))?")
_SENTENCE_END = re.compile(r"[。！？!?\n]+")
_CLAUSE_BREAK = re.compile(r"[，,；;：:、。]")
# A bare number right after these words is a count even without a measure ("在职人数39").
_COUNT_LABELS: tuple[tuple[str, str], ...] = (("人数", "人"), ("人员", "人"), ("车辆数", "辆"), ("车辆", "辆"),
                                               ("用车", "辆"), ("得分", "分"))
_PREVIOUS = r"(?:同比|(?:比|较|与)(?:上年度?|去年|\d{4}\s*年度?)(?:预算|决算)?(?:数|安排)?(?:相比)?)"
_COMPARISON = re.compile(
    r"^" + _PREVIOUS + r"?各?"
    r"(?:增加|减少|增长|下降|增|减|降低|提高|上升|持平|节约|节省|占|占比|增幅|降幅|增长率|下降率)"
    r"(?:[（(](?:增加|减少|下降|增长)[)）])?(?:了|为|达)?$"
)
_LEADING = re.compile(
    r"^(?:[\s（(]*[一二三四五六七八九十]+[）)、.．]|[\s（(]*\d{1,2}[）)、.．](?!\d)|其中|主要是|主要用于|主要包括|"
    r"包括|(?:与|同|和|较)上年度?相比|为|累计|当年(?!度)|主要原因是|原因是|主要为|分别为|分别是|即|本年度?|今年|共有|拥有|共|合计|涉及|设置|安排|用于|\d{4}\s*年度?|"
    r"[\s\u3000*])+"
)
_TRAILING = re.compile(r"(?:为|是|达到|达|共计|约|有|了|的|共|均|预计|\d{4}\s*年度?|[\s\u3000*:：])+$")
_CODE = re.compile(r"^(?P<code>\d{3,9})\s*[-－—]?\s*")
_CODE_AFTER = re.compile(r"[（(](?P<code>\d{3,9})[)）]\s*$")
_GENERIC = re.compile(r"^(?:年度)?(?:预算|决算|预算数|决算数|预算安排|安排|支出|金额|资金|总额|经费|年初预算|当年|上年)?$")
_HEADING_NUMBER = re.compile(r"^[\s*#]*(?:第[一二三四五六七八九十]+部分|[（(]?[一二三四五六七八九十\d]+[)）、.．])?\s*")
MAX_LABEL = 30
_CLAUSE_END = re.compile(r"[，,；;：:。]")  # a clause break that is not a list's 、
_LIST_TOTAL = re.compile(r"(?:共|共计|合计|总计)(?:为|是)?\s*$")


@dataclass(frozen=True)
class _Figure:
    value: str
    measure: str
    label: str  # cleaned words before the figure
    code: str | None
    clause: str
    start: int
    end: int


def narrative_facts(doc: Document) -> list[Fact]:
    strip_names = tuple(sorted({doc.unit, *doc.aliases, *doc.subunits} - {""}, key=len, reverse=True))
    out: list[Fact] = []
    for section in doc.sections:
        out.extend(_section_facts(doc, section, strip_names))
    return out + prior_facts(out)


def _section_facts(doc: Document, section: Section, names: tuple[str, ...]) -> Iterator[Fact]:
    heading = _heading_item(section.title)
    topic = ""  # the item a numbered line without figures introduces ("1、…行政运行（项）。")
    subject = ""
    seen: list[Fact] = []
    for sentence in _sentences(section.text):
        found = [] if _is_rubric(sentence) else figures(sentence, names)
        if not found:
            if _ITEM_START.match(sentence):
                topic = _heading_item(sentence)
            same = unchanged_sentence(sentence, seen, doc.year)
            if same is not None:
                yield same
            continue
        previous = ""
        for fig in found:
            if not fig.label and fig.measure in _RATIOS and previous:
                row = previous  # "较上年增加0.46万元（15.13%）": the rate of the change before it
            else:
                row, subject = _row_for(fig, subject, topic or heading)
            previous = row
            fact = Fact(doc=doc.name, unit=doc.unit, year=doc.year, kind=doc.kind, section=section.title,
                        table="", row=row, code=fig.code, column="", value=fig.value, measure=fig.measure,
                        page=section.page, quote=sentence, source="text", context=fig.clause)
            seen.append(fact)
            yield fact


def _is_rubric(sentence: str) -> bool:
    """Scoring rules of a 绩效目标表 that reached the prose ("低于90%得2分，每超5%扣1分")."""
    return len(_RUBRIC.findall(sentence)) >= 2


_RUBRIC = re.compile(r"得满分|[扣得]\s*\d+(?:\.\d+)?\s*分|不得分")


def _row_for(fig: _Figure, subject: str, item: str) -> tuple[str, str]:
    """The row label for a figure and the subject later comparisons in the sentence refer to."""
    label = fig.label
    if fig.measure in _RATIOS and subject and _RELATION.match(label):
        return subject + label, subject  # "占政府采购支出总额的8.64%", "完成全年预算的24%"
    if _COMPARISON.match(label):
        base = subject or item
        return (base + _drop_previous_year(label)) if base else label, subject
    if _ASPECT.match(label):
        # "年初预算为1560.05万元，支出决算为1511.89万元" under "…行政运行（项）": budget vs actual of one item
        base = item or _ASPECT_SUFFIX.sub("", subject)
        row = _join(base, label)
        return row, row if item or not subject else subject
    if _ENDS_COMPARISON.search(label):
        # "与上年相比，财政拨款支出减少17,151.62万元，下降5.48%": later comparisons are about 财政拨款支出
        noun = re.sub(_PREVIOUS + "$", "", _ENDS_COMPARISON.sub("", label))
        if _ASPECT.match(noun) or _GENERIC.match(noun):
            base = _ASPECT_SUFFIX.sub("", item or subject)  # "支出决算比上年增加" after "机关运行经费支出…"
            return (_join(base, label) if base else label), subject
        return label, noun or subject
    if _GENERIC.match(label):
        return item or label, item or subject
    if subject and _prior_of(label) == subject:
        return label, subject  # "收入总计…（上年收入总计…，同比增加…）": the comparison is about 收入总计
    return label, label


_ASPECT = re.compile(r"^(?:(?:年初|全年|调整)?(?:预算|决算|执行)数?|支出决算数?)$")
_ASPECT_SUFFIX = re.compile(r"(?:年初|全年|调整)?(?:预算|决算|执行)数?$")
_ENDS_COMPARISON = re.compile(r"各?(?:增加|减少|增长|下降|降低|提高|上升|持平)(?:了|为|达)?$")


def _join(base: str, label: str) -> str:
    if base.endswith("支出") and label.startswith("支出"):
        return base + label[2:]
    return base + label


_RATIOS = ("%", "个百分点", "百分点")
_RELATION = re.compile(r"^(?:占|完成|达到|相当于|为)")


def _prior_of(label: str) -> str:
    """上年收入总计 -> 收入总计; labels that do not name the previous year stay as they are."""
    return re.sub(r"^(?:上年度?|去年|\d{4}年度?)", "", label)


def _drop_previous_year(label: str) -> str:
    return re.sub("^" + _PREVIOUS.replace("同比|", ""), "", label)


def _heading_item(title: str) -> str:
    """"（二）公务接待费" -> 公务接待费; headings that are not an item name give ""."""
    text = _HEADING_NUMBER.sub("", title).strip(" *#\u3000。")
    text = _shorten(text) if re.search(r"[（(]项[)）]", text) else text
    if len(text) > 14 or "情况" in text or "说明" in text:
        return ""
    return text


def _sentences(text: str) -> Iterator[str]:
    for part in _SENTENCE_END.split(_join_wrapped(text)):
        part = part.strip()
        if part:
            yield part


def _join_wrapped(text: str) -> str:
    """PDF renderings wrap sentences mid-word; a line break ends a sentence only after punctuation
    or before a numbered item. Blank lines are spacing (raw PDF text puts one after every line)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out: list[str] = []
    for line in lines:
        if out and not _LINE_END.search(out[-1]) and not _ITEM_START.match(line) and not _is_subheading(out[-1]):
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out)


def _is_subheading(line: str) -> bool:
    """"（一）收入预算情况" on a line of its own titles what follows; it is not wrapped prose."""
    return bool(_ITEM_START.match(line)) and len(line) <= 20 and not _FIGURE_HINT.search(line)


_FIGURE_HINT = re.compile(r"\d[\d.,]*\s*(?:万元|元|%|人|辆)")
_LINE_END = re.compile(r"[。！？!?；;：:]$")
_ITEM_START = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[）)]|[一二三四五六七八九十]+、|\d{1,2}[.．、](?!\d)|第[一二三四五六七八九十]+)")


def figures(sentence: str, names: tuple[str, ...] = ()) -> list[_Figure]:
    """Every figure with a measure in a sentence, with its cleaned label."""
    out: list[_Figure] = []
    prev_end = 0
    for m in _FIGURE.finditer(sentence):
        raw_label = sentence[prev_end:m.start()]
        measure = m.group("measure") or _count_measure(raw_label, sentence, m.end())
        if not measure or _is_year(sentence, m) or _run_together(m.group("num")) \
                or sentence[max(m.start() - 1, 0):m.start()] == "第":  # "第3次会议" is an ordinal
            continue
        label, code = clean_label(raw_label, names)
        if out and label.startswith(("以上", "以下", "以内")) and out[-1].end == m.start() - len(raw_label):
            # "单位价值50万元以上设备8台": the threshold belongs to the item
            label = f"{out[-1].label}{out[-1].value}{out[-1].measure}{label}"
        if _THRESHOLD.search(label):
            prev_end = m.end()  # scoring rules ("低于90%得2分") state limits, not amounts
            continue
        if measure not in ("%", "％", "个百分点", "百分点") and not _MONEY.match(measure) and _COUNT_VERB.match(label):
            label = label + _following_noun(sentence, m.end())
            if not label and out and out[-1].end >= m.start() - 2:
                label = out[-1].label  # "累计接待3批次、22人次"
        elif label in _BARE_COUNTS and not _MONEY.match(measure):
            label = _counted_before(raw_label, names) + label
        out.append(_Figure(value=m.group("num").replace("，", ","), measure=_MEASURE_NAMES.get(measure, measure),
                           label=label, code=code, clause=_clause(sentence, m.start(), m.end()),
                           start=m.start(), end=m.end()))
        prev_end = m.end()
    return out


# One spelling per measure so the checker compares like with like; the clause keeps the printed form.
_MEASURE_NAMES = {"％": "%", "万": "万元", "台（套）": "台", "台套": "台", "平米": "平方米"}
_MONEY = re.compile(r"^(?:亿元|万元|元)$")
_THRESHOLD = re.compile(r"(?:低于|高于|小于|大于|等于|超过|不足|每少|每超过|每出现|每增加|每减少|得|扣|[≥≤<>＜＞=])$")
# Counts whose item follows the figure: "设置13个项目绩效目标", "新增1辆公务用车".
_COUNT_VERB = re.compile(r"^(?:新增|购置|配备|设置|设|更新|共有|现有|拥有|实有|有|包括|下属|涉及|开展|组织|委托|接待|"
                         r"组织对|对)?$")


# A count named only by its counting word ("…的培训，人数11人"): what is counted is the clause before it.
_BARE_COUNTS = frozenset({"人数", "人次", "次数", "数量", "个数", "总数"})


def _counted_before(raw_label: str, names: tuple[str, ...]) -> str:
    """"拟开展职业能力提升的培训，人数" -> "职业能力提升的培训": the clause before the counting word."""
    clauses = [c.strip() for c in _CLAUSE_BREAK.split(raw_label)]
    before = next((c for c in reversed(clauses[:-1]) if c), "")
    if not before or _FIGURE.search(before):
        return ""
    noun, _ = clean_label(before, names)
    return noun[-(MAX_LABEL // 2):]


def _count_measure(raw_label: str, sentence: str, end: int) -> str:
    tail = raw_label.rstrip(" \u3000为是有共计")
    following = sentence[end:end + 1]
    if following and (following.isdigit() or following in "年月日号.-－—"):
        return ""
    for word, measure in _COUNT_LABELS:
        if tail.endswith(word):
            return measure
    return ""


def _run_together(num: str) -> bool:
    """Cells of a broken table read as one number ("40434043404310100.00"): no budget prints 13+ digits."""
    return len(num.split(".")[0].replace(",", "").replace("，", "")) > 12


def _is_year(sentence: str, m: re.Match[str]) -> bool:
    """"2024年" never reaches here (年 is no measure), but "2024 年度 5 个" must not eat 2024."""
    return m.group("measure") is None and len(m.group("num")) == 4 and sentence[m.end():m.end() + 1] == "年"


def clean_label(raw: str, names: tuple[str, ...] = ()) -> tuple[str, str | None]:
    """The item name in the words before a figure, and a 科目编码 printed in front of it."""
    raw = re.sub(r"(收入?)、(支出?)", r"\1\2", raw)  # "收、支预算总计各增加": one item, not a list
    parts = _CLAUSE_BREAK.split(raw)
    text = parts[-1]
    clause = _CLAUSE_END.split(raw)[-1]
    if "、" in clause and _LIST_TOTAL.search(clause):
        text = clause  # "“三公”经费及会议费、培训费预算支出共263.72万元": the list's total, not 培训费's
    if not text.strip() and len(parts) > 1 and raw.rstrip().endswith(("：", ":")):
        text = parts[-2]  # "年度预算安排：138.8万元"
    text = text.lstrip("①②③④⑤⑥⑦⑧⑨⑩")
    text = re.split(r"[ \u3000]{2,}", text.strip())[-1]  # layout text: columns are runs of spaces
    text = _after_open_bracket(text)
    text = re.sub(r"^[）)]+|^[（(][^（()）]{1,2}[）)]", "", text.strip())  # "（含）以上设备"
    if re.fullmatch(r"(?:其中)?(?:共|共计|合计|总计|累计)(?:为|是)?", text.strip()):
        return "合计", None  # "…，共计138.8万元"
    for _ in range(3):  # connectives, numbering, unit names and years can stack up
        before = text
        text = _LEADING.sub("", text)
        for name in names:
            text = text.removeprefix(name)
        text = text.removeprefix("本部门").removeprefix("本单位")
        if text == before:
            break
    code = None
    m = _CODE.match(text)
    if m:
        code, text = m.group("code"), text[m.end():]
    m = _CODE_AFTER.search(text)
    if m:  # "住房公积金（2210201）"
        code, text = m.group("code"), text[:m.start()]
    text = _TRAILING.sub("", text).strip()
    text = re.split(r"\d+\.\d+|\d{5,}", text)[-1] or text  # table cells run into prose: "…428.69卫及…"
    text = re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", text)  # "单位 公务用车" from wrapped lines
    return _shorten(text), code


def _shorten(text: str) -> str:
    """Keep the specific item of a long label: the （项） of a class path, the words after the last 的."""
    m = re.search(r"(?:（款）|\(款\))([^（(]+)(?:（项）|\(项\))", text)
    if m:
        return m.group(1)
    if len(text) > MAX_LABEL and "的" in text:
        tail = text.rsplit("的", 1)[1]
        if len(tail) >= 2:
            text = tail
    return text[-MAX_LABEL:]


def _after_open_bracket(text: str) -> str:
    """"（上年收入总计" -> 上年收入总计, but "因公出国（境）费" stays whole."""
    depth_open = -1
    depth = 0
    for i, ch in enumerate(text):
        if ch in "（(":
            if depth == 0:
                depth_open = i
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
    return text[depth_open + 1:] if depth and depth_open >= 0 else text


def _following_noun(sentence: str, end: int) -> str:
    """"设置13个项目绩效目标": a count's item may follow it."""
    tail = _CLAUSE_BREAK.split(sentence[end:], maxsplit=1)[0]
    tail = re.split(r"[\d（(]", tail, maxsplit=1)[0].strip()
    return tail[:MAX_LABEL] if tail else ""


def _clause(sentence: str, start: int, end: int) -> str:
    left = max((m.end() for m in re.finditer(r"[，,；;。]", sentence[:start])), default=0)
    right_m = re.search(r"[，,；;。]", sentence[end:])
    right = end + right_m.start() if right_m else len(sentence)
    return sentence[left:right].strip()
