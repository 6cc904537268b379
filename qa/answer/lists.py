"""List questions ("包括哪些单位", "下属有哪些医院", "有哪些项目") answered from the right section.

Units are read from the sentences of the 单位构成 / 机构设置 sections (text_sections.toml [kinds]): the
sentence naming what is listed ("医院", "区县气象局", "预算单位") and, when the question says it, the
relation ("下属", "下辖") wins and is quoted verbatim. A sentence of a section whose title names what is
listed ("（二）机构设置: 综合事务部、综合治理部、后勤服务部。") counts as naming it; a word the document
may use instead (内设机构 for 处室) counts less than the word asked ("派出机构" is not the 内设机构 list). A
document without such a sentence lists its units as rows of its tables (six-digit unit codes). Projects
are the names of the unit's rows in the project tables (表 项目支出预算表 / 绩效目标表), each once; asked of
a department (not its 本级), every unit's projects, by unit.
"""

from __future__ import annotations

from budgetqa.answer.sections_data import SectionWords, section_words
from budgetqa.catalog import Catalog, Passage, norm
from budgetqa.index.extract.identity import table_role
from budgetqa.index.model import Fact
from budgetqa.understand.lexicon import has_any
from budgetqa.understand.text_shape import list_nouns, list_shape, spoken
from budgetqa.understand.understander import Query, Target

MIN_MATCH = 0.5  # share of the listed noun's character pairs the sentence must repeat
ALIAS = 0.8  # a word the document may use instead of the one asked counts this much
MAX_LIST = 600


def list_answer(query: Query, catalog: Catalog, t: Target, passages: list[Passage]) -> tuple[Passage, str] | None:
    w = section_words()
    shape = list_shape(spoken(query.question))
    if query.topic == "项目":
        roles = tuple(r for word, r in w.project_tables.items() if word in query.question) or w.project_roles
        return _projects(catalog, t, w, roles, own=has_any(query.question, "own_level"))
    listed = _noun(shape.listed if shape else "", w)
    if query.topic == "明细":
        return _details(catalog, t, listed, w) if listed else None
    if not listed:
        return None
    found = _from_sections(query.question, listed, passages, w)
    if found is None and listed.endswith(w.table_nouns):
        found = _from_tables(catalog, t, w)
    return found


def _noun(listed: str, w: SectionWords) -> str:
    """"下属单位" -> "单位", "改委下属单位" -> "单位": the relation is scored apart, the noun must be in the
    sentence."""
    for r in sorted(w.relations, key=len, reverse=True):
        at = listed.find(r)
        if at >= 0 and len(listed) > at + len(r) + 1:
            return listed[at + len(r):]
    return listed


def _sentences(text: str) -> list[str]:
    """Sentences of the section, lines joined first (a page break may cut "本部门下 / 属单位包括")."""
    flat = "".join(line.strip() for line in text.split("\n"))
    return [s.strip() + "。" for s in flat.split("。") if s.strip()]


def _from_sections(question: str, listed: str, passages: list[Passage],
                   w: SectionWords) -> tuple[Passage, str] | None:
    asked_relations = [r for r in w.relations if r in question]
    aliases = next((a for n, a in w.aliases.items() if listed.endswith(n)), ())
    scored = []
    for p in passages:
        kind = w.kind_of(p.title)
        if kind not in w.list_kinds:
            continue
        rank = w.list_kinds.index(kind)
        titled = listed in norm(p.title)  # "（二）机构设置" names the 机构 its sentences list
        sentences = _sentences(p.text)
        for k, s in enumerate(sentences):
            match = max(_share(listed, norm(s)), *(ALIAS * _share(n, norm(s)) for n in aliases),
                        1.0 if titled and _lists(s, w) else 0.0)
            if match < MIN_MATCH:
                continue
            at = min((s.find(m) for m in w.markers if m in s), default=len(s))
            lead = int(any(n in s[:at] for n in (listed, *aliases)))  # "预算单位…包括：" lists units; "内设机构包括：…事业单位人事管理处" does not
            relation = sum(1 for r in asked_relations if r in s)
            s += "".join(_items_after(sentences[k + 1:])) if at < len(s) else ""
            scored.append(((round(match, 1), lead, relation, int(at < len(s)), -rank, min(len(s), MAX_LIST)), p, s))
    if not scored:
        return None
    _, p, s = max(scored, key=lambda x: x[0])
    s = _printed_table(s, w)
    return p, s if len(s) <= MAX_LIST else s[:MAX_LIST] + "……"


def _printed_table(sentence: str, w: SectionWords) -> str:
    """A table of units printed inside the sentence, its rows numbered 1, 2, 3 … after the header words,
    as names joined by 、 ("包括：西安市民政局（机关）、西安市第一社会福利院、…")."""
    at = min((sentence.find(h) for h in w.table_headers if h in sentence), default=-1)
    if at < 0:
        return sentence
    body = sentence[at:]
    for h in w.table_headers:
        body = body.replace(h, "")
    names: list[str] = []
    pos, n = 0, 1
    while body.startswith(str(n), pos):
        start = pos + len(str(n))
        nxt = body.find(str(n + 1), start + 1)
        end = nxt if nxt > 0 else len(body)
        name = body[start:end].rstrip("。；; ")
        for filler in w.table_fillers:
            name = name[: -len(filler)] if name.endswith(filler) and len(name) > len(filler) else name
        names.append(name.strip())
        pos, n = end, n + 1
    if len(names) < 2:
        return sentence
    return sentence[:at] + "、".join(names) + "。"


def _lists(sentence: str, w: SectionWords) -> bool:
    """The sentence names several things: a list marker, or names separated by 、."""
    return "、" in sentence or any(m in sentence for m in w.markers)


def _items_after(sentences: list[str]) -> list[str]:
    """The numbered sentences that continue a list ("具体包括：1.…（本部）。2.…。3.…。")."""
    out = []
    for s in sentences:
        if not (s[:1].isdigit() or (s[:1] in "（(" and s[1:2].isdigit())):
            break
        out.append(s)
    return out


def _share(word: str, text: str) -> float:
    if word in text:
        return 1.0
    pairs = {word[i:i + 2] for i in range(len(word) - 1)}
    return len([p for p in pairs if p in text]) / len(pairs) if pairs else 0.0


def _from_tables(catalog: Catalog, t: Target, w: SectionWords) -> tuple[Passage, str] | None:
    """Units as the rows of a table coded by unit (125002 西安市安全生产执法监察支队)."""
    for d in t.docs:
        tables: dict[str, dict[str, Fact]] = {}  # the first table listing two units or more is the list
        for f in catalog.facts.get(d, []):
            if f.code and len(f.code) == w.unit_code_digits and f.code.isdigit():
                tables.setdefault(f.table, {}).setdefault(_without_footer(f.row, w), f)
        rows = next((r for r in tables.values() if len(r) >= 2), None)
        if rows:
            first = next(iter(rows.values()))
            names = "、".join(rows)
            return Passage(doc=d, title=first.table, text=names, page=first.page), f"列出的单位：{names}。"
    return None


def _details(catalog: Catalog, t: Target, listed: str, w: SectionWords) -> tuple[Passage, str] | None:
    """The row names of a detail table whose title names what is asked ("哪些培训": 培训费明细表)."""
    noun = next((n for n in sorted(list_nouns("明细"), key=len, reverse=True) if listed.endswith(n)), listed)
    for d in t.docs:
        rows: dict[str, dict[str, Fact]] = {}
        for f in catalog.facts.get(d, []):
            title = norm(f.table)
            if f.source == "table" and noun in title and any(m in title for m in w.detail_tables) \
                    and norm(f.row) not in w.project_totals:
                rows.setdefault(f.table, {}).setdefault(f.row, f)
        named = next((r for r in rows.values() if r), None)
        if named:
            first = next(iter(named.values()))
            names = "、".join(named)
            return Passage(doc=d, title=first.table, text=names, page=first.page), f"{first.table}列出：{names}。"
    return None


def _without_footer(label: str, w: SectionWords) -> str:
    for mark in w.page_footer:
        at = label.find(mark)
        if at >= 0:
            cut = label.rfind("第", 0, at)
            return label[:cut] if cut > 0 else label
    return label


def _projects(catalog: Catalog, t: Target, w: SectionWords, roles: tuple[str, ...],
              own: bool = False) -> tuple[Passage, str] | None:
    """The project names of the unit's rows in the project tables, each once, in the table's order; for a
    department asked as a whole, every unit's rows, by unit."""
    for d in t.docs:
        meta = catalog.docs.get(d)
        facts = [f for f in catalog.facts.get(d, []) if f.source == "table"
                 and table_role(f.table, f.section) in roles]
        if not facts:
            continue
        units = (meta.unit, *meta.subunits) if meta else (t.ref.name,)
        heads = meta is not None and norm(meta.unit) == norm(t.ref.name)  # the document is the unit's own
        whole = heads and not own and not t.ref.subunit
        mine = [f for f in facts if _same_unit(f.row, t.ref.name)]
        rows = facts if whole or (not mine and heads) else mine
        by_unit: dict[str, list[str]] = {}
        for f in rows:
            name = _project_name(f, units, w)
            if name:
                unit = f.row if any(_same_unit(f.row, u) for u in units) else t.ref.name
                by_unit.setdefault(unit, [])
                if name not in by_unit[unit]:
                    by_unit[unit].append(name)
        if by_unit:
            first = rows[0]
            if len(by_unit) == 1:
                text = "、".join(next(iter(by_unit.values())))
                said = f"{t.ref.name}的项目：{text}。"
            else:
                text = "；".join(f"{u}：{'、'.join(ns)}" for u, ns in by_unit.items())
                said = f"{t.ref.name}各单位的项目：{text}。"
            return Passage(doc=d, title=first.table, text=text, page=first.page), said
    return None


def _same_unit(row: str, unit: str) -> bool:
    a, b = norm(row), norm(unit)
    return bool(a) and (a == b or (len(a) >= 4 and (a in b or b in a)))


def _project_name(f: Fact, units: tuple[str, ...], w: SectionWords) -> str:
    """The project a row is about: the row label, or — when the label is a unit ("湖州市退役军人事务局 |
    拥军优抚与褒扬纪念") — the first words after it. Totals and project categories ("特定目标类项目") are none."""
    cells = [c.strip() for c in f.quote.split("\t") if c.strip()]
    words = [c for c in cells if not _is_figure(c)]
    label = f.row.strip()
    if any(_same_unit(label, u) for u in units):
        name = words[1] if len(words) > 1 and norm(words[0]) == norm(label) else ""
    else:
        name = label or (words[0] if words else "")
    if not name or norm(name) in w.project_totals or name.endswith(w.project_categories):
        return ""
    return name


def _is_figure(cell: str) -> bool:
    try:
        float(cell.replace(",", "").replace("%", ""))
        return True
    except ValueError:
        return cell in ("-", "—", "/")
