"""Question -> Query: which unit(s), year, kind, item(s) and what kind of question.

Everything is decided from the question's words and the indexed corpus (units, years, row labels);
the vocabulary file maps citizens' words to the tables' wording. Nothing here invents a figure.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from budgetqa.catalog import Catalog, DocMeta, norm, occurrences
from budgetqa.errors import BadQuestion
from budgetqa.index.read.years import without_base_years, without_years, years_in
from budgetqa.understand.concepts import bare_concept, concept_of, drop_qualifiers
from budgetqa.understand.frame import (
    CompareWords,
    FrameWords,
    Relation,
    asks_current,
    compared_with,
    compares_with_before,
    each_parts,
    frames,
    load_compare_words,
    load_words,
    needs_item,
    paired_years,
    previous_year_words,
    relation,
    with_item,
)
from budgetqa.understand.joins import (
    asks_money,
    counted_units_total,
    counts_rows,
    join_words,
    short_form_spans,
    sum_joined,
    verb_readings,
    verbs_as_words,
    without_rank,
)
from budgetqa.understand.label_forms import reordered_labels
from budgetqa.understand.lexicon import drop_all, has_any, made_of, vocabulary_data, words
from budgetqa.understand.normalize import from_english, normalize_question
from budgetqa.understand.periods import change_ask, period_words, without_comparison
from budgetqa.understand.text_shape import duty_or_use, spoken, text_shape
from budgetqa.understand.unit_cache import UnitCache
from budgetqa.understand.units import Mention, UnitRef, matcher_for
from budgetqa.understand.wording import (
    GENERIC_LABELS,
    INJECTION,
    Item,
    QType,
    QuestionWords,
    asked_measure,
    dedupe_items,
    drop_filler,
    drop_scope_suffix,
    drop_suffix_words,
    fuzzy_label,
    item_words,
    load_question_words,
    non_overlapping,
    pieces_between,
    question_type,
    split_at,
    strip_injection,
    unexplained_words,
)

__all__ = ["Item", "Query", "QType", "Target", "Understander", "item_words", "validate"]

MAX_QUESTION = 500
_QUOTED = re.compile(r"[“\"]([^”\"]{4,40})[”\"]")
_AS_OF = re.compile(r"(?:截至|截止|截止到|到)\s*(?:19|20)\d{2}\s*年\s*(?:底|末|年底|年末|12月31日)")
_CODE = re.compile(r"(?<![\d.])(\d{3,7})(?![\d.]|\s*年|\s*[万亿元%％])")
_KIND_SUFFIX = re.compile(r"(?<!年初)(?<!全年)(?<!完成)(决算|预算)数?$")


@dataclass(frozen=True)
class Target:
    """One unit to answer for, with the documents chosen for the year and kind asked."""

    ref: UnitRef
    docs: tuple[str, ...]
    year: int | None
    kind: str | None
    prior: bool = False  # the year asked is the year before the document's: its 上年 columns answer
    scope: str = ""  # "本级" / "部门" when the question asks both of a unit's documents of one year


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
    relation: Relation = ""  # what a comparison asks of its figures (budgetqa.understand.frame.relation)


@dataclass(frozen=True)
class Vocabulary:
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    frames: FrameWords = field(default_factory=FrameWords)
    questions: QuestionWords = field(default_factory=QuestionWords)
    compare: CompareWords = field(default_factory=CompareWords)

    @cached_property
    def label_entries(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """A label's table and the labels printed for the same row elsewhere, whichever word asked for it:
        "开会" and "会议费" both mean the row 会议费 and prefer the table the vocabulary names for it; a label of
        several entries takes the first."""
        out: dict[str, tuple[str, tuple[str, ...]]] = {}
        for entry in self.items.values():
            labels = tuple(norm(x) for x in entry.get("labels", ()))
            for label in labels if entry.get("table") else ():
                if len(label) >= 3:
                    out.setdefault(label, (entry["table"], labels))
        return out

    def with_table(self, item: Item) -> Item:
        """The item with its label's table and the other labels of that row ("公务用车运行维护费" is printed
        "公务用车运行费" in some 三公 tables)."""
        if item.table or item.code or not item.labels or item.labels[0] not in self.label_entries:
            return item
        table, labels = self.label_entries[item.labels[0]]
        return replace(item, table=table, labels=tuple(dict.fromkeys((*item.labels, *labels))))


@lru_cache(maxsize=1)
def load_vocabulary(path: str = "") -> Vocabulary:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8")) if path else vocabulary_data()
    return Vocabulary(items=data.get("items", {}), abbreviations=data.get("abbreviations", {}),
                      kinds=data.get("kinds", {}), frames=load_words(data),
                      questions=load_question_words(data), compare=load_compare_words(data))


def _own_offices(meta: DocMeta) -> bool:
    """The document covers the unit's own offices only (its 单位预算), not the department it heads."""
    return has_any(meta.title, "unit_document")


def validate(question: str) -> str:
    """The question normalised (budgetqa.understand.normalize), or BadQuestion with a clear message."""
    q = normalize_question(question or "")
    if not q:
        raise BadQuestion("问题为空，请输入要查询的问题，例如“福州市医疗保障局的公务接待费是多少”。")
    if len(q) > MAX_QUESTION:
        raise BadQuestion(f"问题过长（{len(q)}个字符），请限制在{MAX_QUESTION}个字符以内，一次只问一件事。")
    if not any(c.isalnum() or c == "_" for c in q):
        raise BadQuestion("问题只有标点符号，请用中文描述要查询的单位和项目。")
    if not _has_cjk(q):
        zh = from_english(q)
        if zh is None:
            raise BadQuestion("请用中文提问，例如“福州市医疗保障局2024年的办公费是多少”。英文问题需写明单位和项目"
                              "（如 official reception expenses of Fuzhou Medical Security Bureau）才能识别。")
        q = zh
    return q


class Understander:
    def __init__(self, catalog: Catalog, vocabulary: Vocabulary | None = None, unit_cache: UnitCache | None = None,
                 nearest: Callable[[str], str | None] | None = None) -> None:
        self.catalog = catalog
        self.vocab = vocabulary or load_vocabulary()
        self.nearest = nearest  # words -> the nearest vocabulary phrase (item_match.PhraseMatcher), or None
        self.matcher = matcher_for(catalog, self.vocab.abbreviations, cache=unit_cache)
        self._vocab_keys = sorted(self.vocab.items, key=len, reverse=True)
        self._label_cache: dict[tuple[str, ...], list[str]] = {}
        self._forms_cache: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self._scope_cache: dict[tuple[str, ...], str] = {}
        self._word_cache: dict[tuple[str, ...], set[str]] = {}
        self._kind_cache: dict[tuple[str, ...], dict[str, str]] = {}

    def understand(self, question: str, *, unit: str | None = None, year: int | None = None,
                   history: Sequence[Any] = ()) -> Query:
        q = validate(question)
        injection = bool(INJECTION.search(q))
        clean = spoken(strip_injection(q) if injection else q)  # "用来干啥" -> "用来干什么" (text_shapes.toml)
        if not _has_cjk(drop_filler(clean)):
            raise BadQuestion("问题中只有指令，没有要查询的内容。请直接问单位和项目，例如“福州市医疗保障局的公务接待费是多少”。")
        mentions, foreign = self.matcher.find(clean)
        dated = _AS_OF.sub("", clean)  # "截至2024年底" dates a stock figure, it does not pick a document
        dated = _QUOTED.sub("", without_base_years(dated))  # a year inside a quoted name is part of the name  # "比2023年预算减少": 2023 is what it is compared with, not asked
        years = tuple(dict.fromkeys(years_in(dated)))
        asked_year = year if year is not None else (years[0] if len(years) == 1 else None)
        kind = self._kind(without_comparison(clean))  # "比上年执行数少了多少" still asks this year's budget
        residue = without_rank(_residue(clean, mentions))  # "哪个三公经费多": the item is 三公经费
        qtype, topic = question_type(clean, mentions, years, self.vocab.questions)
        qtype = _change_type(clean, qtype)
        if shape := text_shape(clean):  # "下属有哪些医院", "怎么是0", "用来干什么": text_shapes.toml
            qtype, topic = "text", shape.topic
        topic = duty_or_use(topic, clean, residue)  # "…经费是干什么的": what the money is for
        base = Query(question=q, qtype=qtype, year=asked_year, years=years, kind=kind, topic=topic,
                     residue=residue, injection=injection, relation=relation(clean, self.vocab.compare),
                     notes=("问题中的指令性内容已忽略，数字只来自文件。",) if injection else ())
        if foreign:
            names = "、".join(dict.fromkeys(foreign))
            return replace(base, problem=self._unknown_unit(names, foreign[0]))  # units helper: closest known units
        refs = self._refs(mentions, unit, history)
        if isinstance(refs, str):
            return replace(base, problem=refs)
        ambiguous = [m for m in refs if len(m) > 1]
        if ambiguous and len(refs) == 1:
            base = replace(base, candidates=tuple(r.name for r in ambiguous[0]))
        if asked_year is None and not years and history and unit is None and not mentions:
            asked_year = getattr(history[-1], "year", None)
            base = replace(base, year=asked_year)
        targets, problem, defaulted = self._targets(refs, base, _own_years(clean, mentions, years))
        relative = previous_year_words(dated, self.vocab.frames) if not years and year is None else []
        if not relative and not years and year is None:  # "今年和去年分别多少": both years asked
            relative = paired_years(dated, self.vocab.compare, self.vocab.frames.previous, join_words().lists)
        if relative and targets:  # "去年的机关运行经费": the year before the unit's latest document
            targets, problem = self._previous(targets, kind, asks_current(dated, self.vocab.compare),
                                              dated.find(relative[0]), has_any(base.question, "own_level"))
            defaulted = False
        if targets and any(t.prior for t in targets):  # "去年", also beside "今年": the targets say the years
            for w in sorted(self.vocab.frames.previous, key=len, reverse=True):
                residue = residue.replace(w, "")  # "上年（2023年）": the year already says it
        items, unexplained = self._items(residue, targets, qtype)
        items = drop_qualifiers(items, residue)
        bare = bare_concept(residue) if not items and qtype != "text" else None
        if bare is not None:  # "今年预算多少": the concept the bare word names (concepts.toml)
            items, unexplained = (bare.item(),), ""
        elif not items and qtype != "text" and self.nearest is not None:
            items, unexplained = self._nearest_phrase(residue) or (items, unexplained)
        items = tuple(self.vocab.with_table(i) for i in items)
        items, columns, tables = self._hints(items, targets, qtype, residue)
        if qtype == "lookup" and len(items) == 1 and not items[0].code and not columns and not tables \
                and concept_of(items[0]) is None:  # a concept is resolved by identity, not by a nearby label
            items = (self._qualified(items[0], residue, targets),)
        measure = asked_measure(clean)
        # "今年买几辆": no item, a count of what the documents call 购置
        outside = norm(residue)
        for it in items:
            outside = outside.replace(norm(it.text), "")
        if qtype == "lookup" and len(items) >= 2 and "分别" not in clean and has_any(outside, "total_asked"):
            qtype = "sum"
        if qtype in ("lookup", "compare") and len(items) >= 2 and sum_joined(norm(residue), _spans(norm(residue), items)):
            qtype = "sum"  # "基本工资加绩效工资是多少": one figure, the two items' total
        if qtype == "lookup" and len(items) == 1 and counted_units_total(clean):
            qtype = "sum"  # "4家单位的在职人数合计": the rows of one column
        elif qtype == "sum" and len(items) == 1 and len({(t.ref.name, t.year, t.scope) for t in targets}) == 1 \
                and not counts_rows(clean):
            qtype = "lookup"  # "三公经费一共多少": the total is printed
        if len({t.ref.name for t in targets}) > 1 and qtype == "lookup":
            qtype = "compare"
        quoted = _quoted(clean, unexplained) if unexplained else ""
        if quoted:  # a name the citizen quotes ("“…建设”项目"): looked up as given, or not found
            unexplained, items = "", (Item(quoted, (norm(quoted),)),)
        if unexplained and not problem and qtype != "text":
            words = unexplained + "".join(i.text for i in items[:1])
            problem = f"文件中没有“{words}”这一项（只找到“{items[0].text}”，与所问不同）。" if items else ""
        if measure and items and unexplained:
            problem = ""  # "多少辆公务用车": the measure narrows the item, the words are not a new item
        if not items and measure:  # "今年买几辆": no item, a count of what the documents call 购置
            base = replace(base, residue=verbs_as_words(residue))
        return replace(base, qtype=qtype, targets=targets, items=items, problem=problem, columns=columns,
                       tables=tables, measure=measure, year_defaulted=defaulted)

    def frames(self, question: str, *, unit: str | None = None, year: int | None = None,
               history: Sequence[Any] = ()) -> list[tuple[str, Query]]:
        """The message as one (text, Query) per frame: later frames inherit the subject, and a follow-up
        naming no item ("比上年增加了多少", "其中服务类多少") the item of the frame before."""
        words = self.vocab.frames
        asked = validate(question)
        # an injected instruction is not a question of its own: the whole message is understood once,
        # the instruction dropped there
        parts = frames(asked, self.matcher, words) if not INJECTION.search(asked) else []
        if len(parts) <= 1:
            whole = self.understand(question, unit=unit, year=year, history=history)
            subject = parts[0].subject if parts else ""
            return self._each(asked, subject, whole, unit=unit, year=year, history=history)
        out: list[tuple[str, Query]] = []
        item = subject = ""
        for f in parts:
            q = self.understand(f.text, unit=unit, year=year, history=history)
            if item and needs_item(f, bool(q.items) and not q.problem, words):
                f = with_item(f, item, words)
                q = self.understand(f.text, unit=unit, year=year, history=history)
            elif item and out and compares_with_before(f, self.vocab.compare):
                f = compared_with(f, subject, item)
                q = self.understand(f.text, unit=unit, year=year, history=history)
            if not q.items and out and asks_money(f.clause):
                q = self._companion(out[-1][1], q)
            item = q.items[0].text if q.items else item
            subject = f.subject or subject
            out.append((f.text, q))
        return out

    def _each(self, text: str, subject: str, whole: Query, **context: Any) -> list[tuple[str, Query]]:
        """Items listed before 各/分别 that the clause read whole does not find ("水费和电费各安排了多少"
        where the documents print them in a project's target table): one frame per item instead. A clause
        read whole with its items found stays whole ("2021年和2022年的…分别", "商品和服务支出")."""
        pieces = each_parts(text, subject, join_words().lists, self.vocab.frames.each)
        if len(pieces) < 2 or (whole.items and not whole.problem) or whole.qtype == "text":
            return [(text, whole)]
        return [(p, self.understand(p, **context)) for p in pieces]

    def _companion(self, before: Query, query: Query) -> Query:
        """"有多少个项目纳入绩效目标管理，涉及多少钱": a part naming no item that asks for money is about
        what the part before counted: the money figure printed in the same sentence, after it."""
        for item in before.items[:1]:
            for t in before.targets:
                for d in t.docs:
                    label = _money_after(self.catalog.facts.get(d, []), item.labels)
                    if label:
                        return replace(query, items=(Item(label, (label,)),), problem="",
                                       targets=query.targets or before.targets)
        return query

    def _nearest_phrase(self, residue: str) -> tuple[tuple[Item, ...], str] | None:
        """Words neither the vocabulary nor the documents know, read by meaning: the nearest vocabulary
        phrase's item ("招待客人花的钱" -> 招待费), only above the matcher's threshold."""
        key = self.nearest(item_words(residue)) if self.nearest is not None else None
        entry = self.vocab.items.get(key or "")
        if not key or entry is None:
            return None
        labels = tuple(dict.fromkeys((*(norm(x) for x in entry.get("labels", ())), norm(key))))
        return (Item(key, labels, entry.get("table", ""), vocab=True),), ""

    def _hints(self, items: tuple[Item, ...], targets: tuple[Target, ...], qtype: str,
               residue: str) -> tuple[tuple[Item, ...], tuple[str, ...], tuple[str, ...]]:
        """Words that narrow an item rather than name one: a column ("基本支出里的会议费"; "年初预算数")
        or a table ("财政拨款安排的项目支出")."""
        cols = self.column_words(targets)
        titles = self.table_words(targets)
        text = norm(residue)
        bare = drop_all(text, "funds")  # "一般公共预算" names a fund: it does not ask for the 预算数 column
        named = tuple(c for c in cols if len(c) >= 3 and (c in bare or (c.endswith("数") and c[:-1] in bare))
                      and not any(c in lab for i in items for lab in i.labels[:1]))
        pieces = [drop_scope_suffix(w) for w in pieces_between(text, items)]
        tables = tuple(w for w in pieces if len(w) >= 4 and any(w in t for t in titles))
        if len(items) < 2 or qtype not in ("lookup", "compare", "difference", "sum"):
            return items, named, tables  # a ratio's "X中Y占" keeps X: it is the whole
        as_table = [i for i in items if not i.code and any(norm(i.text) in t for t in titles)
                    and re.search(re.escape(norm(i.text)) + r"(?:安排的|安排|中的|里的|的|中|里|支出|收入)", text)]
        last = max(text.find(norm(i.text)) for i in items)
        as_table = [i for i in as_table if text.find(norm(i.text)) < last]  # a table word qualifies an item after it
        if as_table and len(as_table) < len(items):  # "财政拨款安排的会议费": a table word, not an item
            items = tuple(i for i in items if i not in as_table)
            tables += tuple(norm(i.text) for i in as_table)
        # a vocabulary item with its own table (三公 items) is an item even where that table prints it as a column
        as_col = [i for i in items if i.labels and i.labels[0] in cols and not i.code and not i.table]
        rest = [i for i in items if i not in as_col]
        as_col = [i for i in as_col if concept_of(i) is None]  # 人员经费 beside 公用经费: two concepts, no column
        if len(items) < 2 or not as_col or not rest:
            return items, named, tables
        return tuple(rest), named + tuple(i.labels[0] for i in as_col), tables

    def _kind(self, q: str) -> str | None:
        q = drop_all(q, "not_kind")  # "一般公共预算" names a fund, not the kind of document
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
            return self._unknown_unit(name, name)  # units helper: closest known units
        all_refs = tuple(r for r in self.matcher.refs if not r.subunit)
        return [all_refs]

    def _unknown_unit(self, names: str, first: str) -> str:  # units helper: the closest, not every unit
        return f"语料中没有“{names}”的资料。最接近的已收录单位：{'、'.join(self.matcher.closest(first))}。"

    def _targets(self, refs: list[tuple[UnitRef, ...]], query: Query,
                 own: tuple[int, ...] = ()) -> tuple[tuple[Target, ...], str, bool]:
        """Each unit asked in each year asked; `own`: the year written with each unit, in their order."""
        targets: list[Target] = []
        problems: list[str] = []
        defaulted = False
        years = query.years if len(query.years) > 1 else ((query.year,) if query.year else (None,))
        own_level = has_any(query.question, "own_level")
        outturn = has_any(query.question, "outturn")
        levels = _levels(query.question) if own_level else (False,)
        for i, group in enumerate(refs):
            for ref in group:
                for y in (own[i],) if own else years:
                    picked = [self._pick(ref, y, query.kind, level, outturn) for level in levels]
                    scoped = len({t.docs for t, _ in picked if t is not None}) > 1  # two documents: say which
                    for level, (t, why) in zip(levels, picked, strict=True):
                        if t is None:
                            problems.append(why)
                        else:
                            targets.append(replace(t, scope="本级" if level else "部门") if scoped else t)
                            defaulted = defaulted or y is None
        problem = "；".join(dict.fromkeys(problems)) if not targets else ""
        return tuple(targets), problem, defaulted

    def _previous(self, targets: tuple[Target, ...], kind: str | None, current: int = -1,
                  previous: int = 0, own_level: bool = False) -> tuple[tuple[Target, ...], str]:
        """Each target moved to the year before its document: that year's own document if the corpus
        holds one, else this document's 上年 columns and 比上年 statements. A clause that also names the
        document's own year (`current` >= 0: "今年和去年") keeps both, in the order it names them."""
        out: list[Target] = []
        problems: list[str] = []
        for t in targets:
            moved, why = self._pick(t.ref, (t.year or 0) - 1, kind or t.kind, own_level) if t.year else (None, "")
            if moved is None:
                problems.append(why)
            else:
                both = (t, moved) if current < previous else (moved, t)
                out.extend(both if current >= 0 else (moved,))
        return tuple(out), "；".join(dict.fromkeys(problems)) if not out else ""

    def _pick(self, ref: UnitRef, year: int | None, kind: str | None,
              own_level: bool = False, outturn: bool = False) -> tuple[Target | None, str]:
        metas = [self.catalog.docs[d] for d in ref.docs if d in self.catalog.docs]
        # newest first, budgets first; then the document of the scope asked (the department's unless 本级),
        # and the name last so the order never depends on the order documents were indexed in
        metas.sort(key=lambda m: m.name)
        metas.sort(key=lambda m: (m.year or 0, m.kind == "预算", _own_offices(m) == own_level), reverse=True)
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
            if not same and kind == "决算" and not (prior and outturn):  # a budget prints last year's 执行数
                return None, f"语料中{ref.name}只有{held}的资料，没有{year or ''}{'年' if year else ''}决算。"
            pool = same or pool
        best = pool[0]
        docs = tuple(m.name for m in pool if m.year == best.year and m.kind == best.kind
                     and _own_offices(m) == _own_offices(best))
        return Target(ref, docs, year if prior else best.year, best.kind, prior), ""

    def _items(self, residue: str, targets: tuple[Target, ...], qtype: str) -> tuple[tuple[Item, ...], str]:
        """As `_match`; where a 的 splits a label the documents print whole ("…支出的年初预算": "…支出年初
        预算"), the reading without it wins when it names a longer item."""
        found = self._match(residue, targets, qtype)
        if "的" in residue:
            joined = self._match(residue.replace("的", ""), targets, qtype)
            longest = max((len(i.text) for i in found[0]), default=0)
            found = joined if max((len(i.text) for i in joined[0]), default=0) > longest + 1 else found
        outside = norm(residue)
        for it in found[0]:
            outside = outside.replace(norm(it.text), "|")
        # a verb inside a word the vocabulary or the documents know ("买车") is part of that word
        readings = verb_readings(residue) if verb_readings(outside) else []
        # words asked beyond the items found ("政府性基金收入" where only 收入 is found, "…和专项业务经费")
        leftover = any(len(w) >= 2 and not made_of(w, "scope", "intent") for w in pieces_between(norm(residue), found[0]))
        if qtype == "text" or (found[0] and not found[1] and not readings and not leftover):
            return found
        return self._other_readings(found, [residue, *readings], targets, qtype)

    def _other_readings(self, found: tuple[tuple[Item, ...], str], readings: list[str],
                        targets: tuple[Target, ...], qtype: str) -> tuple[tuple[Item, ...], str]:
        """Where the plain reading leaves words unexplained or unread, names no item, or the clause has a verb: the
        clause read without its verbs ("买特级防化服花多少钱"), and with printed labels written short
        ("公车运维费", "政府性基金收入", a project by the tail of its name). The reading that explains
        every word and covers most of the question wins; the plain one on a tie."""
        best, score = found, _reading_score(found)
        for reading in readings:
            for loose in (False, True):
                cand = self._match(reading, targets, qtype, loose=loose)
                if cand[0] and not cand[1] and _reading_score(cand) > score:
                    best, score = cand, _reading_score(cand)
        return best

    def _match(self, residue: str, targets: tuple[Target, ...], qtype: str,
               expanded: bool = False, loose: bool = False) -> tuple[tuple[Item, ...], str]:
        """Items named in the question (科目编码, vocabulary words, the documents' own row labels),
        and the words left unexplained in front of an item ("参保人数": 参保), if any."""
        text = norm(residue)
        split = split_at(text, qtype)
        spans: list[tuple[int, int, Item]] = []
        for code in _CODE.finditer(text):
            spans.append((code.start(), code.end(), Item(code.group(1), (), code=code.group(1))))
        for label in self._labels(targets):
            for m in occurrences(label, text):
                spans.append((m.start(), m.end(), Item(label, (label,))))
        for form, label in self._reordered(targets):  # "基本建设资本性支出" for 资本性支出（基本建设）
            for m in occurrences(form, text):
                spans.append((m.start(), m.end(), Item(label, (label,))))
        for base, label in self._kind_bases(targets).items():
            for m in occurrences(base, text):
                spans.append((m.start(), m.end(), Item(base, (label,))))
        for col in self._column_items(targets):
            for m in occurrences(col, text):
                spans.append((m.start(), m.end(), Item(col, (col,))))
        for key in self._vocab_keys:
            k = norm(key)
            for m in occurrences(k, text):
                entry = self.vocab.items[key]
                labels = tuple(dict.fromkeys((*(norm(x) for x in entry.get("labels", ())), k)))  # its own words last
                spans.append((m.start(), m.end(), Item(key, labels, entry.get("table", ""), vocab=True)))
        if loose:
            spans += self._vocabulary_labels(text)
            spans += self._short_forms(text, targets)
        chosen = drop_suffix_words(non_overlapping(spans))
        if not expanded:
            full = self._ellipsis(text, [(s, e, it) for s, e, it in chosen], targets)
            if full != text:
                return self._match(full, targets, qtype, expanded=True, loose=loose)
        items = [replace(it, side=int(split is not None and s >= split)) for s, _, it in chosen]
        if not items:
            fuzzy = fuzzy_label(text, self._labels(targets))
            return ((Item(fuzzy, (fuzzy,)),) if fuzzy else ()), ""
        return tuple(dedupe_items(items)), unexplained_words(text, chosen, self._scope_words(targets))

    def _vocabulary_labels(self, text: str) -> list[tuple[int, int, Item]]:
        """A label the vocabulary lists under a citizen's word, written as such ("因公出国（境）费" under 出国):
        that entry, before any short form of another label."""
        out: list[tuple[int, int, Item]] = []
        for key in self._vocab_keys:
            entry = self.vocab.items[key]
            labels = tuple(dict.fromkeys((*(norm(x) for x in entry.get("labels", ())), norm(key))))
            for lab in (x for x in labels[:-1] if len(x) >= 3 and x not in GENERIC_LABELS):
                for m in occurrences(lab, text):
                    out.append((m.start(), m.end(), Item(text[m.start():m.end()], labels, entry.get("table", ""),
                                                         vocab=True)))
        return out

    def _short_forms(self, text: str, targets: tuple[Target, ...]) -> list[tuple[int, int, Item]]:
        """Labels the question writes short (budgetqa.understand.joins.short_form_spans), the shortest label
        first where several fit the same words."""
        chars = set(text)
        suffixes = () if asked_measure(text) else words("money_suffix")  # "接待了多少人" asks no 接待费
        out: list[tuple[int, int, Item]] = []
        for label in reversed(self._labels(targets)):
            if label[0] not in chars and label[-1] not in chars:
                continue
            for s, e in short_form_spans(text, label, suffixes):
                out.append((s, e, Item(text[s:e], (label,))))
        return out

    def _qualified(self, item: Item, residue: str, targets: tuple[Target, ...]) -> Item:
        """"政府采购工程类预算": a word left over next to the item qualifies it, and the documents print the
        two together in their own order ("工程类采购预算"): that label, if there is exactly one."""
        core = norm(item.text)[-2:]
        for piece in pieces_between(norm(residue), (item,)):
            word = piece.replace("　", "")
            if len(word) < 2 or len(core) < 2 or word in GENERIC_LABELS or has_any(word, "total_word"):
                continue  # "…支出合计": a total word asks for the total, it does not qualify the item
            hits = [lab for lab in self._labels(targets) if word in lab and core in lab and lab not in item.labels]
            if len(hits) == 1:
                return Item(hits[0], (hits[0],))
        return item

    def _ellipsis(self, text: str, chosen: list[tuple[int, int, Item]], targets: tuple[Target, ...]) -> str:
        """The question with an elided head restored: "公务用车购置费和运行费" -> "…和公务用车运行费"
        (the second item shares the first one's head; it only counts when the whole is a known item)."""
        known = set(self._labels(targets)) | {norm(k) for k in self._vocab_keys}
        for start, end, item in reversed(chosen):
            if end >= len(text) or text[end] not in "和及与、" or item.code:
                continue
            word = text[start:end]
            rest = text[end + 1:]
            for size in range(min(8, len(rest)), 1, -1):
                tail = rest[:size]
                if tail in known or not _has_cjk(tail[0]):
                    continue
                head = next((word[:h] for h in range(len(word) - 1, 1, -1) if word[:h] + tail in known), "")
                if head:
                    return text[:end + 1] + head + rest
        return text

    def _labels(self, targets: tuple[Target, ...]) -> list[str]:
        docs = {d for t in targets for d in t.docs}
        key = tuple(sorted(docs))
        cached = self._label_cache.get(key)
        if cached is None:
            labels = {lab for d in docs for lab, fs in self.catalog.by_label.get(d, {}).items()
                      if len(lab) >= 2 and not (fs[0].source == "text" and has_any(lab, "derived_label"))
                      and not self._earlier(d, fs)}
            cached = sorted(labels - GENERIC_LABELS, key=lambda s: (-len(s), s))
            self._label_cache[key] = cached
        return cached

    def _reordered(self, targets: tuple[Target, ...]) -> list[tuple[str, str]]:
        key = ("reordered", *sorted({d for t in targets for d in t.docs}))
        cached = self._forms_cache.get(key)
        if cached is None:
            cached = self._forms_cache[key] = reordered_labels(self._labels(targets))
        return cached

    def _earlier(self, doc: str, facts: Sequence[Any]) -> bool:
        """Last year's figures a change statement gives ("上年培训费"): they answer for the year before
        under the item's own label (select.candidates), never as an item of their own."""
        meta = self.catalog.docs.get(doc)
        own = getattr(meta, "year", None)
        return bool(own) and all(f.source == "text" and f.year and f.year < own for f in facts)

    def _kind_bases(self, targets: tuple[Target, ...]) -> dict[str, str]:
        """Prose labels that end in the document's own kind word, by what is left without it: a final
        account says "一般公共预算财政拨款支出决算296,047.75万元", the citizen asks "…支出是多少"."""
        kinds = {t.kind for t in targets if t.kind}
        key = ("kind-bases", *sorted({d for t in targets for d in t.docs}))
        cached = self._kind_cache.get(key)
        if cached is None:
            labels = set(self._labels(targets))
            cached = {}
            for lab in labels:
                m = _KIND_SUFFIX.search(lab)
                if m and m.group(1) in kinds and len(lab) - len(m.group(0)) >= 4:
                    base = lab[:m.start()]
                    if base not in labels and base not in cached:
                        cached[base] = lab
            self._kind_cache[key] = cached
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
        return sorted((c for c in cols if len(c) >= 3 and not re.search(r"\d", c) and c not in GENERIC_LABELS
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


def _money_after(facts: Sequence[Any], labels: Sequence[str]) -> str:
    """The label of the first money figure printed after the item's figure in the item's sentence."""
    money = ("元", "万元", "亿元")
    for f in facts:
        if f.source != "text" or norm(f.row) not in labels:
            continue
        at = f.quote.find(f.value)
        after = [g for g in facts if g.quote == f.quote and g.measure in money and g is not f
                 and g.quote.find(g.value) > at]
        if after:
            return norm(min(after, key=lambda g: g.quote.find(g.value)).row)
    return ""


def _own_years(text: str, mentions: Sequence[Mention], years: tuple[int, ...]) -> tuple[int, ...]:
    """"无锡水利局2026年和无锡发改委2025年的三公经费": each unit written with a year of its own, right
    after its name, asks that year only (not every unit in every year). Empty when they are not so paired."""
    if len(mentions) < 2 or len(mentions) != len(years):
        return ()
    if not all(text[m.end:].lstrip().startswith(f"{y}年") for m, y in zip(mentions, years, strict=True)):
        return ()
    return years


def _levels(question: str) -> tuple[bool, ...]:
    """The document scopes a question naming 本级 asks, in its order: the own offices only, or also the whole
    department when it names that too ("本级和整个部门的…", "全系统比本级多多少")."""
    whole = [question.find(w) for w in words("whole_department") if w in question]
    if not whole:
        return (True,)
    own = min(question.find(w) for w in words("own_level") if w in question)
    return (True, False) if own < min(whole) else (False, True)


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _reading_score(found: tuple[tuple[Item, ...], str]) -> tuple[bool, bool, int]:
    items, unexplained = found
    return not unexplained, bool(items), 2 * sum(len(i.text) for i in items) - len(items)


def _spans(text: str, items: Sequence[Item]) -> list[tuple[int, int]]:
    """Where each item's words stand in the text, in the question's order."""
    out: list[tuple[int, int]] = []
    at = 0
    for it in items:
        w = norm(it.text)
        k = text.find(w, at)
        if w and k >= 0:
            out.append((k, k + len(w)))
            at = k + len(w)
    return out


def _change_type(text: str, qtype: QType) -> QType:
    """A change asked of one figure ("下降了百分之多少", "比上年少了多少") is a growth question, whatever
    other rule its words also meet (budgetqa.understand.periods)."""
    if qtype not in ("lookup", "difference", "ratio") or change_ask(text) is None:
        return qtype
    if qtype != "lookup" and not any(c in text for c in period_words().compare):
        return qtype  # "A比B少了多少": two figures, not one figure's change
    return "growth"


def _quoted(question: str, words: str) -> str:
    """The name in quotation marks the unexplained words are part of, or ""."""
    core = re.sub(r"\d|年度|年|项目$", "", drop_filler(words))
    if len(core) < 2:
        return ""
    return next((m for m in _QUOTED.findall(question)
                 if core in re.sub(r"\d|年度|年", "", drop_filler(norm(m)))), "")


def _residue(q: str, mentions: list[Mention]) -> str:
    out = q.replace(" ", "")
    for m in sorted(mentions, key=lambda m: m.start, reverse=True):
        out = out[:m.start] + "　" + out[m.end:]
    out = without_years(out, "　")
    return re.sub(r"[（(]\s*　?\s*[）)]", "　", out)  # "上年（2023年）": the brackets held only the year
