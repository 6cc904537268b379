"""Text questions (主要职责, 机构设置, 为什么增加, 主要用于 …) answered from the best section, cited.

The section is chosen by its title for the standard topics, else by the sentences that name the
item together with the topic word, else by character overlap (or the hybrid retriever when the
pipeline passes one in).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from budgetqa.answer.explain import explain, numbered
from budgetqa.answer.lists import list_answer
from budgetqa.answer.sections_data import section_words
from budgetqa.answer.targets import page_of, project_line, project_words
from budgetqa.catalog import Catalog, Passage, norm
from budgetqa.index.model import Fact
from budgetqa.understand.understander import Query, Target, item_words

if TYPE_CHECKING:
    from budgetqa.answer.answerer import Draft

Search = Callable[[str, Target], list[Passage]]
LIST_TOPICS = ("机构", "项目", "明细")
EXPLAIN_TOPICS = ("原因", "用途")
TARGET_TOPICS = ("绩效",)

_TITLE_WORDS = {"职责": ("职责", "职能"),
                "机构": ("机构设置", "单位构成", "预算单位构成", "基本情况", "人员情况", "概况", "机构"),
                "任务": ("工作任务", "主要任务", "工作总结", "工作计划"), "绩效": ("绩效目标", "绩效")}
_FOCUS = {"机构": ("内设", "处室", "科室", "下属", "二级单位", "性质", "包括"), "职责": ("职责",)}
_SENTENCE_WORDS = {"原因": ("主要原因", "原因", "主要是"), "用途": ("主要用于", "用于"), "绩效": ("绩效目标",)}
MAX_EXCERPT = 300
MIN_PROSE = 20  # shorter section text is a caption, not an answer
NOTE = "注"  # a table's note
MAX_DUTIES = 1000  # a list of duties is quoted whole up to this length, else each duty by its first clause


def answer_text(query: Query, catalog: Catalog, search: object = None) -> Draft:
    from budgetqa.answer.answerer import Draft, template

    parts: list[str] = []
    cites: list[Fact] = []
    for t in list(dict.fromkeys(query.targets))[:3]:  # "西安气象局下辖哪些区县气象局": the same target once
        found = _sectioned(query, catalog, t)
        listed = found is not None and query.topic in LIST_TOPICS
        found = found or _best(query, catalog, t, search if callable(search) else None)
        if found is None:
            continue
        passage, excerpt = _glued_heading(*found)
        meta = catalog.docs.get(passage.doc)
        named = sum(1 for u in meta.subunits if u in excerpt) if meta else 0
        if query.topic == "机构" and meta and meta.subunits and not all(u in excerpt for u in meta.subunits) \
                and not (listed and named >= 2):  # a list sentence that names the units stands alone
            excerpt += f"（文件所列单位：{'、'.join((meta.unit, *meta.subunits))}。）"
        parts.append(template("text").format(unit=t.ref.name, year=t.year or "", kind=t.kind or "",
                                             title=passage.title, excerpt=excerpt))
        cites.append(_as_fact(passage, t, catalog, excerpt))
    if not parts:
        words = item_words(query.residue) or "所问内容"
        return Draft("not_found", f"未找到与“{words}”相关的文字说明。")
    pool = tuple(f for c in cites for f in catalog.facts.get(c.doc, []))
    return Draft("answered", "\n".join(parts), extra_citations=tuple(cites), pool=pool,
                 unit=query.targets[0].ref.name if query.targets else None)


def _sectioned(query: Query, catalog: Catalog, t: Target) -> tuple[Passage, str] | None:
    """Lists from the 单位构成 / 机构设置 sections or project tables; why / what-for from the clause that
    explains the item (budgetqa.answer.lists, budgetqa.answer.explain)."""
    if query.topic not in LIST_TOPICS and query.topic not in EXPLAIN_TOPICS and query.topic not in TARGET_TOPICS:
        return None
    passages = [p for d in t.docs for p in catalog.passages.get(d, []) if p.text.strip()]
    if query.topic in LIST_TOPICS:
        return list_answer(query, catalog, t, passages)
    if query.topic in TARGET_TOPICS:
        return project_line(query.residue, passages)
    # what a project's money is for may be printed only as its target ("青茂口岸安检服务经费是干什么的")
    return explain(query, passages) or (project_line(query.residue, passages) if query.topic == "用途" else None)


def _best(query: Query, catalog: Catalog, t: Target, search: Search | None) -> tuple[Passage, str] | None:
    passages = [p for d in t.docs for p in catalog.passages.get(d, []) if p.text.strip()]
    words = _TITLE_WORDS.get(query.topic)
    if words:
        for w in words:  # a title-only passage or a table's note ("注：空表表示…") says nothing
            hit = next((p for p in passages if w in p.title and "目录" not in p.title and len(p.title) <= 24
                        and _prose(p.text)), None)
            if hit:
                return hit, (_duties(hit.text) if query.topic == "职责" else _focused(hit.text, query))
    keys = _SENTENCE_WORDS.get(query.topic, ())
    labels = [norm(x) for item in query.items for x in (*item.labels[:1], item.text)] or \
        [item_words(query.residue)]
    if query.topic in TARGET_TOPICS and not project_words(query.residue):
        labels = list(keys)  # the unit's targets as a whole: any sentence about them
    if keys:
        # every section's sentences about the item; the one sharing most wording with the question wins
        # ("决算小于年初预算的原因" is the 决算数小于预算数 sentence, not the first 原因 of the document)
        asked = norm(query.residue)
        found = [(p, "".join(ss)) for p in passages if (ss := _about(_sentences(p.text), keys, labels))]
        if found:
            p, text = max(found, key=lambda pt: _shared(asked, pt[1]))
            return p, _clip(text)
    if search is not None:
        hits = search(query.question, t)
        if hits:
            return hits[0], _best_window(hits[0].text, query)
    return _overlap(query, passages)


def _prose(text: str) -> bool:
    flat = _flatten(text)
    return len(flat) >= MIN_PROSE and not flat.startswith(NOTE)


def _glued_heading(p: Passage, excerpt: str) -> tuple[Passage, str]:
    """An excerpt opening with a numbered heading glued to its text ("九、…支出预算情况说明无锡市水利局…"):
    the heading is the section cited, the text after it the excerpt."""
    w = section_words()
    if not numbered(excerpt):
        return p, excerpt
    head = excerpt[:w.heading_max]
    ends = [(head.find(e), -len(e)) for e in w.heading_ends if e in head]  # the first, the longest there
    first = min(ends, default=None)
    cut = first[0] - first[1] if first else 0
    title, rest = excerpt[:cut], excerpt[cut:].lstrip("：:")
    if not cut or not rest or any(m in title for m in ("，", "。", "万元")):
        return p, excerpt
    return replace(p, title=title), rest


def _shared(asked: str, text: str) -> int:
    t = norm(text)
    return len({asked[i:i + 2] for i in range(len(asked) - 1)} & {t[i:i + 2] for i in range(len(t) - 1)})


def _about(sentences: list[str], keys: tuple[str, ...], labels: list[str]) -> list[str]:
    """Sentences with the topic word that name the item, or follow the sentence that does."""
    out: list[str] = []
    for i, s in enumerate(sentences):
        if not any(k in s for k in keys):
            continue
        if any(lab and lab in norm(s) for lab in labels):
            out.append(s)
        elif i and any(lab and lab in norm(sentences[i - 1]) for lab in labels):
            out += [sentences[i - 1], s]
    return list(dict.fromkeys(out))


def _overlap(query: Query, passages: list[Passage]) -> tuple[Passage, str] | None:
    core = set(item_words(query.residue)) - set("的了是么什")
    if len(core) < 2:
        return None
    scored = [(len(core & set(p.title)) * 3 + len(core & set(p.text[:400])), i, p) for i, p in enumerate(passages)]
    scored.sort(key=lambda x: (-x[0], x[1]))
    if not scored or scored[0][0] < 2 * len(core):
        return None
    return scored[0][2], _excerpt(scored[0][2].text)


def _focused(text: str, query: Query) -> str:
    """The section from the first sentence about what was asked ("内设机构" in a 职责及机构设置 section)."""
    sentences = _sentences(text)
    asked = [w for w in _FOCUS.get(query.topic, ()) if w in query.question] or list(_FOCUS.get(query.topic, ()))
    start = next((i for i, s in enumerate(sentences) if any(w in s for w in asked)), 0)
    return _clip("".join(sentences[start:]))


def _duties(text: str) -> str:
    """A section of duties: whole when short; else the lines before the numbered list, and each numbered
    duty by its first clause (by its first phrase when those are still too long), up to the first
    unnumbered line after the list (机构设置 follows)."""
    flat = _flatten(text)
    if len(flat) <= MAX_DUTIES:
        return flat
    lead: list[str] = []
    duties: list[str] = []
    for line in (x.strip() for x in text.split("\n") if x.strip()):
        if numbered(line):
            duties.append(line)
        elif duties:
            break
        elif len(line) <= MAX_EXCERPT // 2:
            lead.append(line)
    if not duties:
        return _clip(flat)
    for marks in ("；。", "，；。"):
        out = "".join(lead) + "".join(_first_part(d, marks) for d in duties)
        if len(out) <= MAX_DUTIES:
            break
    return _clip_at(out, MAX_DUTIES)


def _first_part(line: str, marks: str) -> str:
    cut = min((line.find(m) for m in marks if m in line), default=len(line))
    return line[:cut] + "。"


def _best_window(text: str, query: Query) -> str:
    """The sentences of a retrieved passage that share most words with the question."""
    core = set(item_words(query.residue)) - set("的了是么什情况")
    sentences = _sentences(text)
    if not sentences or not core:
        return _excerpt(text)
    best = max(range(len(sentences)), key=lambda i: (len(core & set(sentences[i])), -i))
    return _clip("".join(sentences[best:best + 3]))


def _sentences(text: str) -> list[str]:
    flat = _flatten(text)
    return [s + "。" for s in flat.split("。") if s.strip()]


def _flatten(text: str) -> str:
    """Join hard-wrapped lines: Chinese prose has no spaces between words."""
    return re.sub(r"\s*\n\s*", "", text).strip()


def _excerpt(text: str) -> str:
    return _clip(_flatten(text))


def _clip(text: str) -> str:
    return _clip_at(text, MAX_EXCERPT)


def _clip_at(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind("。", 0, limit)
    return text[: cut + 1] if cut > limit // 3 else text[:limit] + "……"


def _as_fact(p: Passage, t: Target, catalog: Catalog, excerpt: str) -> Fact:
    meta = catalog.docs.get(p.doc)
    page = page_of(excerpt, catalog.facts.get(p.doc, []), p.page)  # the excerpt's own page, not the section's first
    return Fact(doc=p.doc, unit=meta.unit if meta else t.ref.name, year=t.year, kind=t.kind, section=p.title,
                table="", row=p.title, code=None, column="", value="", measure="", page=page,
                quote=excerpt[:200], source="text")
