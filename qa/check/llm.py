"""Optional LLM answers, guarded by the numeric checker.

The deterministic chain runs first; the model then rewrites the answer from the same facts and
passages. Its sentence replaces the deterministic one only when every figure in it checks against
those facts (or the arithmetic the deterministic answer computed), every year it names is one the
sources hold, no bare number slipped in, and the figures the question needs are all there.
Otherwise, and on any failure of the service, the user gets the deterministic answer with a note.

`langchain_openai` is imported only when an LLM is configured (it costs seconds to import).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import budgetqa.prompts as _prompts
from budgetqa.answer.answerer import template
from budgetqa.answer.arith import Derived
from budgetqa.answer.select import clean_label
from budgetqa.catalog import Catalog, Passage
from budgetqa.check.checker import Figure, check_bound, figures, matches, matches_derived
from budgetqa.index.model import Fact
from budgetqa.index.read.years import without_years, years_in
from budgetqa.types import Answer, Value
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

if TYPE_CHECKING:
    from budgetqa.check.chain import Drafted
    from budgetqa.config import Settings

log = logging.getLogger("budgetqa.check.llm")

NOTE_UNVERIFIED = "生成的回答中有数字未能与原表核对，已改用确定性回答"
NOTE_INCOMPLETE = "生成的回答未给出文件中的答案数字，已改用确定性回答"
NOTE_UNAVAILABLE = "大模型服务暂不可用，已给出确定性回答"
MAX_PASSAGES = 3
PASSAGE_CHARS = 600  # enough for a section's gist; keeps small local models fast
NUMERIC_WINDOW = 160  # characters either side of an item's mention, for numeric questions

_THINK = re.compile(r"<think>.*?</think>", re.S)  # reasoning models (qwen3, deepseek-r1) via Ollama
_OPEN = "<think>"
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NOT_FOUND = ("未找到", "无法回答", "没有找到")
# amounts in Chinese numerals ("五万元", "百分之五十") cannot be checked against printed figures
_CN_FIGURE = re.compile(r"百分之[零〇一二两三四五六七八九十百千点]+|[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千万亿点]*"
                        r"(?:万元|亿元|元|人|辆|%)")


@cache
def load_prompt() -> ChatPromptTemplate:
    """System + user messages from prompts/llm_system.txt and prompts/llm_user.txt."""
    folder = Path(_prompts.__file__).parent
    system = (folder / "llm_system.txt").read_text(encoding="utf-8").strip()
    user = (folder / "llm_user.txt").read_text(encoding="utf-8").strip()
    return ChatPromptTemplate.from_messages([("system", system), ("human", user)])


def chat_model(settings: Settings) -> Any:
    """ChatOpenAI on the configured OpenAI-compatible endpoint (Ollama serves one at /v1), or None."""
    if not settings.llm_enabled:
        return None
    from langchain_openai import ChatOpenAI  # lazy: only paid when an LLM is configured
    from pydantic import SecretStr

    base = settings.llm_base_url or ollama_v1(settings.ollama_url)
    # local servers ignore the key, but the client insists on one
    key = SecretStr(settings.llm_api_key or "not-needed")
    return ChatOpenAI(base_url=base, model=settings.llm_model, api_key=key, timeout=settings.llm_timeout,
                      max_retries=0, temperature=0)


def ollama_v1(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def make_answerer(settings: Settings, catalog: Catalog | None = None, model: Any = None) -> LLMAnswerer | None:
    """The injected model (tests) or the configured one; None means the deterministic answerer alone."""
    model = model if model is not None else chat_model(settings)
    return LLMAnswerer(model, catalog) if model is not None else None


@dataclass(frozen=True)
class Context:
    """What the model is given and what its sentence is checked against."""

    facts: tuple[Fact, ...]
    derived: tuple[Derived, ...]
    passages: tuple[Passage, ...]
    numeric: bool
    required: tuple[Fact, ...]  # figures the answer must state (as pseudo-facts), when no arithmetic
    years: frozenset[str]
    numbers: frozenset[str]  # bare numbers allowed: from labels, codes, titles, the trusted answer


class LLMAnswerer:
    def __init__(self, model: Runnable[Any, Any], catalog: Catalog | None = None) -> None:
        self._chain: Runnable[dict[str, str], str] = load_prompt() | model | StrOutputParser()
        self._catalog = catalog

    def refine(self, d: Drafted, det: Answer) -> Answer:
        """The model's sentence when it checks, else the deterministic answer with a note."""
        ctx = self.context(d, det)
        if ctx is None:
            return det
        try:
            text = self._chain.invoke(self.inputs(d, det, ctx))
        except Exception as exc:  # timeout, refused connection, HTTP error: never the user's problem
            return _unavailable(det, exc)
        return judge(text, d, det, ctx)

    def stream(self, d: Drafted, det: Answer) -> Iterator[str | Answer]:
        """Text chunks as the model writes them, then the checked Answer (which is what counts)."""
        ctx = self.context(d, det)
        if ctx is None:
            yield det
            return
        raw, shown = "", ""
        try:
            for chunk in self._chain.stream(self.inputs(d, det, ctx)):
                raw += chunk
                now = visible(raw)
                if len(now) > len(shown) and now.startswith(shown):
                    yield now[len(shown):]
                    shown = now
        except Exception as exc:  # as in refine: fall back, whatever broke
            yield _unavailable(det, exc)
            return
        yield judge(raw, d, det, ctx)

    def context(self, d: Drafted, det: Answer) -> Context | None:
        """None when the model has nothing to add (not answered, a clarifying question, no sources)."""
        draft = d.draft
        numeric = bool(draft.facts or draft.derived)
        if det.status != "answered" or not (numeric or (d.query.qtype == "text" and draft.extra_citations)):
            return None
        passages = self._passages(draft.facts, draft.extra_citations, numeric)
        # text answers: as the deterministic check, any figure of the cited documents (draft.pool)
        facts = tuple(draft.facts) if numeric else tuple(draft.pool)
        det_figs = figures(det.answer)
        verified = {(v.value, v.measure) for v in det.values if v.verified}
        required = () if draft.derived or not numeric else tuple(
            _pseudo(f) for f in det_figs if (float(f.value), f.measure) in verified)
        shown = facts if numeric else ()
        trusted = [det.answer, *(f"{f.table} {f.section} {f.row} {f.code or ''} {f.column}" for f in shown),
                   *(p.title for p in passages)]
        years = {str(y) for t in trusted for y in years_in(t, written=True)} | {str(f.year) for f in shown if f.year}
        years |= {str(y) for y in (d.query.years or ()) if y} | {str(y) for p in passages for y in years_in(p.text, written=True)}
        spans = _without(det.answer, det_figs)
        numbers = {n for t in [spans, *trusted[1:]] for n in _NUMBER.findall(t)}
        return Context(facts, tuple(draft.derived), passages, numeric, required, frozenset(years),
                       frozenset(numbers))

    def inputs(self, d: Drafted, det: Answer, ctx: Context) -> dict[str, str]:
        lines = [fact_line(i, f) for i, f in enumerate(ctx.facts, 1)] if ctx.numeric else []
        lines += [f"[计算{i}] {dv.formula}" for i, dv in enumerate(ctx.derived, 1)]
        paras = [f"[段落{i}] 《{p.title}》：{p.text}" for i, p in enumerate(ctx.passages, 1)]
        return {"question": d.request.question, "facts": "\n".join(lines) or "（无）",
                "passages": "\n".join(paras) or "（无）", "reference": det.answer}

    def _passages(self, facts: tuple[Fact, ...], cited: tuple[Fact, ...], numeric: bool) -> tuple[Passage, ...]:
        if self._catalog is None:
            return tuple(Passage(c.doc, c.section, c.quote, c.page) for c in cited[:MAX_PASSAGES])
        if not numeric:
            return tuple(self._section(c) for c in cited[:MAX_PASSAGES])
        found: list[tuple[bool, Passage]] = []
        for f in facts:  # prose that mentions the item explains it ("主要用于…")
            label = clean_label(f.row)
            for p in self._catalog.passages.get(f.doc, []):
                at = p.text.find(label) if len(label) >= 2 else -1
                if at >= 0 and all(p.title != o.title for _, o in found):
                    text = window(p.text, at, at + len(label))
                    found.append((f.value.strip() in text, replace(p, text=text)))
        found.sort(key=lambda x: not x[0])  # stable: prose quoting the figure first
        return tuple(p for _, p in found[:MAX_PASSAGES])

    def _section(self, c: Fact) -> Passage:
        assert self._catalog is not None
        full = next((p for p in self._catalog.passages.get(c.doc, []) if p.title == c.section), None)
        if full is None:
            return Passage(c.doc, c.section, c.quote, c.page)
        return replace(full, text=full.text[:PASSAGE_CHARS])


def window(text: str, begin: int, end: int) -> str:
    """The sentences around text[begin:end], within NUMERIC_WINDOW characters either side."""
    lo, hi = max(0, begin - NUMERIC_WINDOW), min(len(text), end + NUMERIC_WINDOW)
    before = max(text.rfind("。", lo, begin), text.rfind("\n", lo, begin))
    after = text.rfind("。", end, hi)
    return text[before + 1 if before >= 0 else lo:after + 1 if after >= 0 else hi].strip()


def fact_line(i: int, f: Fact) -> str:
    where = f"表：{f.table}；行：{f.row}；列：{f.column or '—'}" if f.table else \
        f"文字说明：{f.section}；项目：{f.row}"
    return (f"[事实{i}] 单位：{f.unit}；年度：{f.year or '不详'}；类别：{f.kind or '不详'}；{where}；"
            f"数值：{f.value.strip()}；计量单位：{f.measure or '—'}")


def judge(raw: str, d: Drafted, det: Answer, ctx: Context) -> Answer:
    """Accept the model's sentence only if everything in it checks; else the deterministic answer."""
    sentence = clean(raw)
    figs = figures(sentence)
    checks = check_bound(sentence, ctx.facts if ctx.numeric else (), ctx.derived,
                         pool=() if ctx.numeric else ctx.facts)
    bad = [f"{g.text}{g.measure}" for g, c in zip(figs, checks, strict=True) if not c.verified]
    bad += stray(sentence, figs, ctx)
    if bad:
        log.warning("LLM answer rejected, unverified figures %s for %r: %r", bad, d.request.question[:200],
                    sentence[:300])
        return _fallback(det, NOTE_UNVERIFIED)
    refuses = _says_not_found(sentence) and not _says_not_found(det.answer)
    if not sentence or refuses or (ctx.numeric and not _complete(figs, ctx)):
        log.warning("LLM answer rejected, answer figures missing for %r: %r", d.request.question[:200],
                    sentence[:300])
        return _fallback(det, NOTE_INCOMPLETE)
    values = tuple(dict.fromkeys(Value(c.value, c.measure, True) for c in checks))
    return replace(det, answer=keep_frame(sentence, det.answer, d), values=values)


def stray(sentence: str, figs: list[Figure], ctx: Context) -> list[str]:
    """Years the sources do not hold and numbers written without a measure (never shown unchecked)."""
    bad = [f"{y}年" for y in years_in(sentence, written=True) if str(y) not in ctx.years]
    rest = without_years(_without(sentence, figs), " ")
    return bad + [n for n in _NUMBER.findall(rest) if n not in ctx.numbers] + _CN_FIGURE.findall(rest)


def _without(text: str, figs: list[Figure]) -> str:
    for g in reversed(figs):
        text = text[:g.start] + " " + text[g.end:]
    return text


def _complete(figs: list[Figure], ctx: Context) -> bool:
    if not figs:
        return False
    if ctx.derived:
        return all(any(matches_derived(g, dv) for g in figs) for dv in ctx.derived)
    return all(any(matches(g, r) for g in figs) for r in ctx.required)


def _pseudo(fig: Figure) -> Fact:
    return Fact(doc="", unit="", year=None, kind=None, section="", table="", row="", code=None, column="",
                value=fig.text, measure=fig.measure, page=None, quote="")


def _says_not_found(sentence: str) -> bool:
    return any(w in sentence for w in _NOT_FOUND)


def keep_frame(sentence: str, det_text: str, d: Drafted) -> str:
    """Keep the deterministic answer's framing (several units meant; which year was assumed)."""
    for name, lead in (("ambiguous", True), ("year_default", False)):
        pattern = re.escape(template(name)).replace(r"\{names\}", ".+?").replace(r"\{year\}", r"\d{4}")
        m = re.search(pattern.replace(r"\{kind\}", ".*?"), det_text)
        if m and m.group(0) not in sentence:
            sentence = m.group(0) + sentence if lead else sentence + m.group(0)
    return sentence


def clean(raw: str) -> str:
    text = _THINK.sub("", raw)
    if _OPEN in text:  # an unfinished reasoning block: nothing after it is an answer
        text = text[:text.index(_OPEN)]
    return text.replace("**", "").strip()


def visible(raw: str) -> str:
    """What may be shown of a partial stream: no reasoning, no half-arrived <think> tag."""
    text = clean(raw)
    for k in range(len(_OPEN) - 1, 0, -1):
        if text.endswith(_OPEN[:k]):
            return text[:-k]
    return text


def _fallback(det: Answer, note: str) -> Answer:
    return replace(det, notes=(*det.notes, note))


def _unavailable(det: Answer, exc: BaseException) -> Answer:
    log.warning("LLM service unavailable (%s: %s); deterministic answer given", type(exc).__name__, exc)
    return _fallback(det, NOTE_UNAVAILABLE)
