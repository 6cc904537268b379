"""Question -> Query: which unit(s), year, kind, item(s) and what kind of question.

Everything is decided from the question's words and the indexed corpus (units, years, row labels);
the vocabulary file maps citizens' words to the tables' wording. Nothing here invents a figure.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from budgetqa.catalog import Catalog, norm, occurrences
from budgetqa.errors import BadQuestion
from budgetqa.units import Mention, UnitMatcher, UnitRef

QType = Literal["lookup", "sum", "difference", "ratio", "growth", "average", "compare", "text"]

MAX_QUESTION = 500
_YEAR = re.compile(r"(?<![\d.])((?:19|20)\d{2})(?![\d.])\s*(?:年度|年)?")
_DERIVED_LABEL = re.compile(r"占|增长|增加|减少|下降|增幅|降幅|比上年|较上年|同比|持平|比例|比重|百分比")
_AS_OF = re.compile(r"(?:截至|截止|截止到|到)\s*(?:19|20)\d{2}\s*年\s*(?:底|末|年底|年末|12月31日)")
_CODE = re.compile(r"(?<![\d.])(\d{3,7})(?![\d.]|\s*年|\s*[万亿元%％])")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_INJECTION = re.compile(r"忽略|无视|不要管|不管.{0,6}规则|以上规则|之前的(?:指令|规则)|ignore|disregard|system prompt|"
                        r"直接回答|你现在是|扮演|回答\s*[:：]?\s*\d|答案是\s*\d|输出\s*\d|就说\s*\d", re.I)
_FILLER = re.compile(r"请问|请|帮我|查一下|查询|一下|告诉我|我想知道|想知道|是多少|有多少|多少钱|多少|是什么|什么|"
                     r"安排了|安排|花了|用了|分别|一共|总共|加起来|合计起来|的|了|呢|吗|啊|是|有|为|年度|预算数|"
                     r"预算|决算数|决算|执行数|经费数|金额|资金|钱|那么|那|和|与|及|、|，|,|。|？|\?|！|!|：|:|；|\s")

_TEXT_WORDS = {"职责": ("职责", "职能", "负责", "做什么", "干什么"),
               "机构": ("机构设置", "单位构成", "机构", "内设", "构成", "由哪些", "哪些单位", "处室", "科室", "性质"),
               "原因": ("原因", "为什么", "为何", "增加", "减少"), "用途": ("主要用于", "用途", "用在", "用于"),
               "任务": ("工作任务", "主要任务", "重点工作", "工作总结"), "绩效": ("绩效目标", "绩效")}
_TEXT_TRIGGER = re.compile(r"主要职责|职责|职能|负责什么|负责哪些|做什么|干什么|机构设置|内设|单位构成|由哪些|哪些单位|"
                           r"哪些处室|哪些科室|什么性质|单位性质|为什么|为何|原因|主要用于|用途|用在了?哪|主要任务|工作任务|"
                           r"重点工作|绩效目标是什么|什么内容|什么情况|情况如何|怎么样|介绍一下|是怎么回事|有哪些举措")


@dataclass(frozen=True)
class Item:
    text: str  # as the question says it ("招待费")
    labels: tuple[str, ...]  # normalized row labels it stands for, best first
    table: str = ""  # keyword of the preferred table ("三公")
    code: str | None = None
    vocab: bool = False  # from the vocabulary file (wins over a bare label on the same words)
    side: int = 0  # ratio / difference: 0 = before 占/比, 1 = after


@dataclass(frozen=True)
class Target:
    """One unit to answer for, with the documents chosen for the year and kind asked."""

    ref: UnitRef
    docs: tuple[str, ...]
    year: int | None
    kind: str | None
    prior: bool = False  # the year asked is the year before the document's: its 上年 columns answer


@dataclass(frozen=True)
class Query:
    question: str
    qtype: QType
    targets: tuple[Target, ...] = ()
    items: tuple[Item, ...] = ()
    year: int | None = None  # as asked; None = latest held
    years: tuple[int, ...] = ()
    kind: str | None = None
    topic: str = ""  # for text questions: 职责 / 机构 / 原因 / 用途 / …
    residue: str = ""  # the question without unit, year and filler: what the item is called
    columns: tuple[str, ...] = ()  # column words the question uses ("基本支出里的会议费")
    tables: tuple[str, ...] = ()  # table words ("财政拨款安排的项目支出")
    measure: str = ""  # the measure asked for ("几辆车": 辆)
    candidates: tuple[str, ...] = ()  # ambiguous: units the question may mean
    problem: str = ""  # why the corpus cannot answer (not_found), in Chinese
    notes: tuple[str, ...] = ()
    injection: bool = False
    year_defaulted: bool = False


@dataclass(frozen=True)
class Vocabulary:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def load_vocabulary(path: str = "") -> Vocabulary:
    p = Path(path) if path else Path(__file__).with_name("vocabulary.toml")
    data = tomllib.loads(p.read_text(encoding="utf-8"))
    return Vocabulary(items=data.get("items", {}), abbreviations=data.get("abbreviations", {}),
                      kinds=data.get("kinds", {}))


def validate(question: str) -> str:
    """The question stripped, or BadQuestion with a clear message."""
    q = (question or "").strip()
    if not q:
        raise BadQuestion("问题为空，请输入要查询的问题，例如“福州市医疗保障局的公务接待费是多少”。")
    if len(q) > MAX_QUESTION:
        raise BadQuestion(f"问题过长（{len(q)}个字符），请限制在{MAX_QUESTION}个字符以内，一次只问一件事。")
    if not re.search(r"[\w\u4e00-\u9fff]", q):
        raise BadQuestion("问题只有标点符号，请用中文描述要查询的单位和项目。")
    if not _CJK.search(q):
        raise BadQuestion("请用中文提问，例如“福州市医疗保障局2024年的办公费是多少”。")
    return q


class Understander:
    def __init__(self, catalog: Catalog, vocabulary: Vocabulary | None = None) -> None:
        self.catalog = catalog
        self.vocab = vocabulary or load_vocabulary()
        self.matcher = UnitMatcher(catalog, self.vocab.abbreviations)
        self._vocab_keys = sorted(self.vocab.items, key=len, reverse=True)
        self._label_cache: dict[tuple[str, ...], list[str]] = {}
        self._scope_cache: dict[tuple[str, ...], str] = {}
        self._word_cache: dict[tuple[str, ...], set[str]] = {}

    def understand(self, question: str, *, unit: str | None = None, year: int | None = None,
                   history: Sequence[Any] = ()) -> Query:
        q = validate(question)
        injection = bool(_INJECTION.search(q))
        clean = _strip_injection(q) if injection else q
        if not _CJK.search(_FILLER.sub("", clean)):
            raise BadQuestion("问题中只有指令，没有要查询的内容。请直接问单位和项目，例如“福州市医疗保障局的公务接待费是多少”。")
        mentions, foreign = self.matcher.find(clean)
        dated = _AS_OF.sub("", clean)  # "截至2024年底" dates a stock figure, it does not pick a document
        years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(dated) if 1990 <= int(y) <= 2099))
        asked_year = year if year is not None else (years[0] if len(years) == 1 else None)
        kind = self._kind(clean)
        residue = _residue(clean, mentions)
        qtype, topic = _qtype(clean, mentions, years)
        base = Query(question=q, qtype=qtype, year=asked_year, years=years, kind=kind, topic=topic,
                     residue=residue, injection=injection,
                     notes=("问题中的指令性内容已忽略，数字只来自文件。",) if injection else ())
        if foreign:
            names = "、".join(dict.fromkeys(foreign))
            return replace(base, problem=f"语料中没有“{names}”的资料。语料包含的单位：{'、'.join(self.catalog.units())}。")
        refs = self._refs(mentions, unit, history)
        if isinstance(refs, str):
            return replace(base, problem=refs)
        ambiguous = [m for m in refs if len(m) > 1]
        if ambiguous and len(refs) == 1:
            base = replace(base, candidates=tuple(r.name for r in ambiguous[0]))
        if asked_year is None and not years and history and unit is None and not mentions:
            asked_year = getattr(history[-1], "year", None)
            base = replace(base, year=asked_year)
        targets, problem, defaulted = self._targets(refs, base)
        items, unexplained = self._items(residue, targets, qtype)
        items, columns, tables = self._hints(items, targets, qtype, residue)
        measure = _asked_measure(clean)
        if qtype == "lookup" and len(items) >= 2 and re.search(r"合计|总计|总额|共", clean):
            qtype = "sum"
        if qtype == "sum" and len(items) == 1 and len({t.ref.name for t in targets}) == 1:
            qtype = "lookup"  # "三公经费一共多少": the total is printed
        if len({t.ref.name for t in targets}) > 1 and qtype == "lookup":
            qtype = "compare"
        if unexplained and not problem and qtype != "text":
            words = unexplained + "".join(i.text for i in items[:1])
            problem = f"文件中没有“{words}”这一项（只找到“{items[0].text}”，与所问不同）。" if items else ""
        if measure and items and unexplained:
            problem = ""  # "多少辆公务用车": the measure narrows the item, the words are not a new item
        return replace(base, qtype=qtype, targets=targets, items=items, problem=problem, columns=columns,
                       tables=tables, measure=measure, year_defaulted=defaulted)

    def _hints(self, items: tuple[Item, ...], targets: tuple[Target, ...], qtype: str,
               residue: str) -> tuple[tuple[Item, ...], tuple[str, ...], tuple[str, ...]]:
        """Words that narrow an item rather than name one: a column ("基本支出里的会议费"; "年初预算数")
        or a table ("财政拨款安排的项目支出")."""
        cols = self.column_words(targets)
        titles = self.table_words(targets)
        text = norm(residue)
        named = tuple(c for c in cols if len(c) >= 3 and (c in text or (c.endswith("数") and c[:-1] in text))
                      and not any(c in lab for i in items for lab in i.labels[:1]))
        pieces = [_SUFFIX_OK.sub("", w) for w in _pieces(text, items)]
        tables = tuple(w for w in pieces if len(w) >= 4 and any(w in t for t in titles))
        if len(items) < 2 or qtype not in ("lookup", "compare"):
            return items, named, tables
        as_col = [i for i in items if i.labels and i.labels[0] in cols and not i.code]
        as_table = [i for i in items if i not in as_col and not i.code and any(norm(i.text) in t for t in titles)
                    and not any(lab in cols for lab in i.labels)]
        rest = [i for i in items if i not in as_col and i not in as_table]
        if not rest:
            return items, named, tables
        return (tuple(rest), named + tuple(i.labels[0] for i in as_col),
                tables + tuple(norm(i.text) for i in as_table))

    def _kind(self, q: str) -> str | None:
        for word in sorted(self.vocab.kinds, key=len, reverse=True):
            if word in q:
                return self.vocab.kinds[word]
        return None

    def _refs(self, mentions: list[Mention], unit: str | None,
              history: Sequence[Any]) -> list[tuple[UnitRef, ...]] | str:
        if mentions:
            return [m.refs for m in mentions]
        name = unit or (getattr(history[-1], "unit", None) if history else None)
        if name:
            found, _ = self.matcher.find(name)
            if found:
                return [found[0].refs]
            return f"语料中没有“{name}”的资料。语料包含的单位：{'、'.join(self.catalog.units())}。"
        all_refs = tuple(r for r in self.matcher.refs if not r.subunit)
        return [all_refs]

    def _targets(self, refs: list[tuple[UnitRef, ...]], query: Query) -> tuple[tuple[Target, ...], str, bool]:
        targets: list[Target] = []
        problems: list[str] = []
        defaulted = False
        years = query.years if len(query.years) > 1 else ((query.year,) if query.year else (None,))
        for group in refs:
            for ref in group:
                for y in years:
                    t, why = self._pick(ref, y, query.kind)
                    if t is None:
                        problems.append(why)
                    else:
                        targets.append(t)
                        defaulted = defaulted or y is None
        problem = "；".join(dict.fromkeys(problems)) if not targets else ""
        return tuple(targets), problem, defaulted

    def _pick(self, ref: UnitRef, year: int | None, kind: str | None) -> tuple[Target | None, str]:
        metas = [self.catalog.docs[d] for d in ref.docs if d in self.catalog.docs]
        metas.sort(key=lambda m: (m.year or 0, m.kind == "预算"), reverse=True)
        held = "、".join(dict.fromkeys(f"{m.year}年{m.kind or ''}" for m in metas))
        pool = [m for m in metas if year is None or m.year == year]
        prior = False
        if not pool and year is not None:
            # last year's figures are printed beside this year's (上年 columns, 比上年 sentences)
            pool, prior = [m for m in metas if m.year == year + 1], True
        if not pool:
            return None, f"语料中{ref.name}只有{held}的资料，没有{year}年的。"
        if kind:
            same = [m for m in pool if m.kind == kind]
            if not same and kind == "决算":
                return None, f"语料中{ref.name}只有{held}的资料，没有{year or ''}{'年' if year else ''}决算。"
            pool = same or pool
        best = pool[0]
        docs = tuple(m.name for m in pool if m.year == best.year and m.kind == best.kind)
        return Target(ref, docs, year if prior else best.year, best.kind, prior), ""

    def _items(self, residue: str, targets: tuple[Target, ...], qtype: str) -> tuple[tuple[Item, ...], str]:
        """Items named in the question (科目编码, vocabulary words, the documents' own row labels),
        and the words left unexplained in front of an item ("参保人数": 参保), if any."""
        text = norm(residue)
        split = _split_at(text, qtype)
        spans: list[tuple[int, int, Item]] = []
        for m in _CODE.finditer(text):
            spans.append((m.start(), m.end(), Item(m.group(1), (), code=m.group(1))))
        for label in self._labels(targets):
            for m in occurrences(label, text):
                spans.append((m.start(), m.end(), Item(label, (label,))))
        for col in self._column_items(targets):
            for m in occurrences(col, text):
                spans.append((m.start(), m.end(), Item(col, (col,))))
        for key in self._vocab_keys:
            k = norm(key)
            for m in occurrences(k, text):
                entry = self.vocab.items[key]
                labels = tuple(norm(x) for x in entry.get("labels", ()))
                spans.append((m.start(), m.end(), Item(key, labels, entry.get("table", ""), vocab=True)))
        chosen = _drop_suffix_words(_non_overlapping(spans))
        items = [replace(it, side=int(split is not None and s >= split)) for s, _, it in chosen]
        if not items:
            fuzzy = _fuzzy_label(text, self._labels(targets))
            return ((Item(fuzzy, (fuzzy,)),) if fuzzy else ()), ""
        return tuple(_dedupe_items(items)), _unexplained(text, chosen, self._scope_words(targets))

    def _labels(self, targets: tuple[Target, ...]) -> list[str]:
        docs = {d for t in targets for d in t.docs}
        key = tuple(sorted(docs))
        cached = self._label_cache.get(key)
        if cached is None:
            labels = {lab for d in docs for lab, fs in self.catalog.by_label.get(d, {}).items()
                      if len(lab) >= 2 and not (fs[0].source == "text" and _DERIVED_LABEL.search(lab))}
            cached = sorted(labels - _GENERIC_LABELS, key=lambda s: (-len(s), s))
            self._label_cache[key] = cached
        return cached

    def _scope_words(self, targets: tuple[Target, ...]) -> str:
        """Table titles and column names: words a question may use to narrow an item."""
        docs = {d for t in targets for d in t.docs}
        key = tuple(sorted(docs))
        cached = self._scope_cache.get(key)
        if cached is None:
            parts = {norm(f.table) + "|" + norm(f.column) for d in docs for f in self.catalog.facts.get(d, [])}
            cached = "|".join(sorted(parts))
            self._scope_cache[key] = cached
        return cached

    def _column_items(self, targets: tuple[Target, ...]) -> list[str]:
        """Column names that are items themselves ("基本支出", "项目支出" of a totals table)."""
        cols = {c.split("/")[-1] for c in self.column_words(targets)}
        return sorted((c for c in cols if len(c) >= 3 and not re.search(r"\d", c) and c not in _GENERIC_LABELS
                       and not c.endswith(("数", "合计", "小计", "总计"))), key=lambda c: (-len(c), c))

    def table_words(self, targets: tuple[Target, ...]) -> set[str]:
        return self._per_docs("tables", targets, lambda f: norm(f.table) if f.table else None)

    def column_words(self, targets: tuple[Target, ...]) -> set[str]:
        return self._per_docs("columns", targets, lambda f: norm(f.column) if f.source == "table" else None)

    def _per_docs(self, what: str, targets: tuple[Target, ...], pick: Any) -> set[str]:
        """A set of words over the targets' facts, computed once per set of documents."""
        key = (what, *sorted({d for t in targets for d in t.docs}))
        cached = self._word_cache.get(key)
        if cached is None:
            cached = {w for d in key[1:] for f in self.catalog.facts.get(d, []) if (w := pick(f))}
            self._word_cache[key] = cached
        return cached


_GENERIC_LABELS = {"合计", "小计", "总计", "项目", "其他", "其中", "单位", "科目", "支出", "收入", "金额", "预算数",
                   "决算数", "本年", "上年", "年度", "名称", "科目名称", "科目编码", "单位名称", "项目名称"}


def _non_overlapping(spans: list[tuple[int, int, Item]]) -> list[tuple[int, int, Item]]:
    """Leftmost-longest, like a tokenizer; on equal spans the vocabulary wins (its labels list the row
    label itself first, then the wording other documents use)."""
    out: list[tuple[int, int, Item]] = []
    for s, e, item in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]), not x[2].vocab)):
        if any(s < oe and os_ < e for os_, oe, _ in out):
            continue
        if item.labels and item.labels[0] in _GENERIC_LABELS and not item.table:
            continue
        out.append((s, e, item))
    out.sort(key=lambda x: x[0])
    return out


def _dedupe_items(items: list[Item]) -> list[Item]:
    out: list[Item] = []
    for item in items:
        if not any(i.labels and i.labels[:1] == item.labels[:1] and i.side == item.side for i in out):
            out.append(item)
    return out


_SCOPE_OK = re.compile(r"^(?:一般公共预算|财政拨款|公共预算|本级|部门|单位|本单位|本部门|全年|本年|年初|今年|当年|全部|所有|"
                       r"总|合计|其中|里|中|里面|当中|共|累计|用于|方面|的|经费|费用|支出|项目|科目|类|款|项|"
                       r"拨款|财政|预算|决算|执行|数|实际|安排|资金)+$")


_SUFFIX_OK = re.compile(r"(?:里面|当中|里|中|项目|的|之|内)+$")
_BARE = {"支出", "收入"}


def _drop_suffix_words(chosen: list[tuple[int, int, Item]]) -> list[tuple[int, int, Item]]:
    """"培训费支出": a bare 支出/收入 right after another item only repeats what kind of figure it is."""
    out: list[tuple[int, int, Item]] = []
    for s, e, item in chosen:
        if out and item.text in _BARE and s == out[-1][1]:
            continue
        out.append((s, e, item))
    return out


def _unexplained(text: str, chosen: list[tuple[int, int, Item]], scope: str) -> str:
    """A word right in front of an item that neither the vocabulary nor the documents explain."""
    prev_end = 0
    for s, e, _ in chosen:
        chunk = _FILLER.sub("", text[prev_end:s]).replace("　", "")
        chunk = re.sub(r"[\d()（）“”]+", "", chunk)
        prev_end = e
        core = _SUFFIX_OK.sub("", chunk)
        if len(core) < 2 or _SCOPE_OK.match(chunk) or core in scope:
            continue
        if _SCOPE_OK.match(chunk[-2:]) and (len(chunk) <= 3 or chunk[:-2] in scope):
            continue
        return chunk
    return ""


_MEASURE_ASKED = re.compile(r"(?:几|多少)\s*(辆|台|人次|人|名|个|家|项|次|件|套|批|户|平方米)")


def _asked_measure(q: str) -> str:
    m = _MEASURE_ASKED.search(q)
    return "" if not m else {"名": "人"}.get(m.group(1), m.group(1))


def _pieces(text: str, items: tuple[Item, ...]) -> list[str]:
    """The question's words between the items, filler dropped."""
    out = text
    for i in items:
        for w in (norm(i.text), *i.labels[:1]):
            if w:
                out = out.replace(w, "|")
    return [p for p in (_FILLER.sub("|", x) for x in out.split("|")) for p in p.split("|") if p]


def _split_at(text: str, qtype: str) -> int | None:
    """Where the second operand starts: after 占 (ratio) or 比 (difference)."""
    word = {"ratio": "占", "difference": "比"}.get(qtype)
    if not word or word not in text:
        return None
    return text.index(word)


def _fuzzy_label(text: str, labels: list[str]) -> str:
    """The shortest row label that contains what is left of the question ("社会保障和就业" -> …支出)."""
    core = _FILLER.sub("", text)
    if len(core) < 3:
        return ""
    hits = [lab for lab in labels if core in lab]
    return min(hits, key=len) if hits else ""


def _residue(q: str, mentions: list[Mention]) -> str:
    out = q.replace(" ", "")
    for m in sorted(mentions, key=lambda m: m.start, reverse=True):
        out = out[:m.start] + "　" + out[m.end:]
    out = _YEAR.sub("　", out)
    return out


def item_words(residue: str) -> str:
    """What the question calls the item, for a not-found message (figures in the question dropped)."""
    words = re.sub(r"\d[\d,.]*\s*(?:亿元|万元|元|%|％)?", "", residue)
    return _FILLER.sub("", words).replace("　", "").strip()


def _qtype(q: str, mentions: list[Mention], years: tuple[int, ...]) -> tuple[QType, str]:
    m = _TEXT_TRIGGER.search(q)
    if m and not re.search(r"多少|几", q):
        for topic, words in _TEXT_WORDS.items():
            if any(w in m.group(0) for w in words):
                return "text", topic
        return "text", ""
    if "占" in q and re.search(r"占比|比例|比重|百分|多少|多大|几成", q):
        return "ratio", ""
    if re.search(r"增长|增减|变化|变动|比上年|同比|增幅|降幅|增加了?多少|减少了?多少|下降了?多少|"
                 r"比(?:上年|去年|\d{4}年?)(?:预算)?(?:增加|减少|多|少)", q):
        return "growth", ""
    if re.search(r"占比|比例|比重|百分比", q):
        return "ratio", ""
    if re.search(r"差额|相差|差多少|多多少|少多少|高多少|低多少|差距|多了多少|少了多少", q):
        return "difference", ""
    if re.search(r"加起来|一共|总共|总和|之和|合起来|加在一起|共计", q):
        return "sum", ""
    if re.search(r"平均|均值", q):
        return "average", ""
    if m:
        return "text", next((t for t, ws in _TEXT_WORDS.items() if any(w in m.group(0) for w in ws)), "")
    if len(mentions) > 1 or len(years) > 1:
        return "compare", ""
    return "lookup", ""


def _strip_injection(q: str) -> str:
    """Drop the sentence carrying an instruction; what remains is the question proper."""
    parts = re.split(r"(?<=[。！!；;，,？?])", q)
    kept = [p for p in parts if not _INJECTION.search(p)]
    return "".join(kept)
