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

from budgetqa.catalog import Catalog, norm
from budgetqa.errors import BadQuestion
from budgetqa.units import Mention, UnitMatcher, UnitRef

QType = Literal["lookup", "sum", "difference", "ratio", "growth", "average", "compare", "text"]

MAX_QUESTION = 500
_YEAR = re.compile(r"((?:19|20)\d{2})\s*(?:年|年度)?")
_CODE = re.compile(r"(?<![\d.])(\d{3,7})(?![\d.]|\s*年|\s*[万亿元%％])")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_INJECTION = re.compile(r"忽略|无视|不要管|不管.{0,6}规则|以上规则|之前的(?:指令|规则)|ignore|disregard|system prompt|"
                        r"直接回答|你现在是|扮演|请回答\s*\d", re.I)
_FILLER = re.compile(r"请问|请|帮我|查一下|查询|一下|告诉我|我想知道|想知道|是多少|有多少|多少钱|多少|是什么|什么|"
                     r"安排了|安排|花了|用了|分别|一共|总共|加起来|合计起来|的|了|呢|吗|啊|是|有|为|年度|预算数|"
                     r"预算|决算数|决算|执行数|经费数|金额|资金|钱|那么|那|和|与|及|、|，|,|。|？|\?|！|!|：|:|；|\s")

_TEXT_WORDS = {"职责": ("职责", "职能"), "机构": ("机构设置", "单位构成", "机构", "内设", "构成"),
               "原因": ("原因", "为什么", "为何", "增加", "减少"), "用途": ("主要用于", "用途", "用在", "用于"),
               "任务": ("工作任务", "主要任务", "重点工作", "工作总结"), "绩效": ("绩效目标", "绩效")}
_TEXT_TRIGGER = re.compile(r"主要职责|职责|职能|机构设置|内设机构|单位构成|为什么|为何|什么原因|原因是|主要用于|用途|"
                           r"用在了?哪|主要任务|工作任务|重点工作|绩效目标|是做什么|干什么")


@dataclass(frozen=True)
class Item:
    text: str  # as the question says it ("招待费")
    labels: tuple[str, ...]  # normalized row labels it stands for, best first
    table: str = ""  # keyword of the preferred table ("三公")
    code: str | None = None


@dataclass(frozen=True)
class Target:
    """One unit to answer for, with the documents chosen for the year and kind asked."""

    ref: UnitRef
    docs: tuple[str, ...]
    year: int | None
    kind: str | None


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

    def understand(self, question: str, *, unit: str | None = None, year: int | None = None,
                   history: Sequence[Any] = ()) -> Query:
        q = validate(question)
        injection = bool(_INJECTION.search(q))
        clean = _strip_injection(q) if injection else q
        mentions, foreign = self.matcher.find(clean)
        years = tuple(dict.fromkeys(int(y) for y in _YEAR.findall(clean) if 1990 <= int(y) <= 2099))
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
        items = self._items(residue, targets)
        if len({t.ref.name for t in targets}) > 1 and qtype == "lookup":
            qtype = "compare"
        return replace(base, qtype=qtype, targets=targets, items=items, problem=problem,
                       year_defaulted=defaulted)

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
        if not pool:
            return None, f"语料中{ref.name}只有{held}的资料，没有{year}年的。"
        if kind:
            same = [m for m in pool if m.kind == kind]
            if not same and kind == "决算":
                return None, f"语料中{ref.name}只有{held}的资料，没有{year or ''}{'年' if year else ''}决算。"
            pool = same or pool
        best = pool[0]
        docs = tuple(m.name for m in pool if m.year == best.year and m.kind == best.kind)
        return Target(ref, docs, best.year, best.kind), ""

    def _items(self, residue: str, targets: tuple[Target, ...]) -> tuple[Item, ...]:
        """Items named in the question: 科目编码, vocabulary words, then the documents' own row labels."""
        text = norm(residue)
        spans: list[tuple[int, int, Item]] = []
        for m in _CODE.finditer(text):
            spans.append((m.start(), m.end(), Item(m.group(1), (), code=m.group(1))))
        doc_labels = self._labels(targets)
        for label in doc_labels + [lab for lab in self.catalog.labels if lab not in set(doc_labels)]:
            for m in re.finditer(re.escape(label), text):
                spans.append((m.start(), m.end(), Item(label, (label,))))
        for key in self._vocab_keys:
            k = norm(key)
            for m in re.finditer(re.escape(k), text):
                entry = self.vocab.items[key]
                labels = tuple(norm(x) for x in entry.get("labels", ()))
                spans.append((m.start(), m.end(), Item(key, labels, entry.get("table", ""))))
        chosen = _non_overlapping(spans)
        if not chosen:
            fuzzy = _fuzzy_label(text, doc_labels)
            chosen = [Item(fuzzy, (fuzzy,))] if fuzzy else []
        return tuple(chosen)

    def _labels(self, targets: tuple[Target, ...]) -> list[str]:
        labels = {lab for t in targets for d in t.docs for lab in self.catalog.by_label.get(d, {}) if len(lab) >= 2}
        return sorted(labels - _GENERIC_LABELS, key=lambda s: (-len(s), s))


_GENERIC_LABELS = {"合计", "小计", "总计", "项目", "其他", "其中", "单位", "科目", "支出", "收入", "金额", "预算数",
                   "决算数", "本年", "上年", "年度", "名称", "科目名称", "科目编码", "单位名称", "项目名称"}


def _non_overlapping(spans: list[tuple[int, int, Item]]) -> list[Item]:
    """Longest span first; a vocabulary word inside a longer row label gives way to the label."""
    out: list[tuple[int, int, Item]] = []
    for s, e, item in sorted(spans, key=lambda x: (-(x[1] - x[0]), x[0], bool(x[2].table) is False)):
        if any(s < oe and os_ < e for os_, oe, _ in out):
            continue
        if item.labels and item.labels[0] in _GENERIC_LABELS and not item.table:
            continue
        out.append((s, e, item))
    out.sort(key=lambda x: x[0])
    items: list[Item] = []
    for _, _, item in out:
        if not any(i.labels and i.labels[:1] == item.labels[:1] for i in items):
            items.append(item)
    return items


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
    """What the question calls the item, for a not-found message."""
    return _FILLER.sub("", residue).replace("　", "").strip()


def _qtype(q: str, mentions: list[Mention], years: tuple[int, ...]) -> tuple[QType, str]:
    if re.search(r"占比|比例|比重|占.{0,12}(?:百分之|多少)|百分比", q):
        return "ratio", ""
    if re.search(r"增长|增减|变化|变动|比上年|同比|增幅|增加了?多少|减少了?多少", q) and not _TEXT_TRIGGER.search(q):
        return "growth", ""
    if re.search(r"差额|相差|差多少|多多少|少多少|高多少|低多少|差距", q):
        return "difference", ""
    if re.search(r"加起来|一共|总共|总和|之和|合起来|加在一起|共计", q):
        return "sum", ""
    if re.search(r"平均|均值", q):
        return "average", ""
    m = _TEXT_TRIGGER.search(q)
    if m:
        for topic, words in _TEXT_WORDS.items():
            if any(w in m.group(0) for w in words):
                return "text", topic
        return "text", ""
    if len(mentions) > 1 or len(years) > 1:
        return "compare", ""
    return "lookup", ""


def _strip_injection(q: str) -> str:
    """Drop the sentence carrying an instruction; what remains is the question proper."""
    parts = re.split(r"(?<=[。！!；;，,？?])", q)
    kept = [p for p in parts if not _INJECTION.search(p)]
    return "".join(kept) or q
