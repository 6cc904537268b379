"""Questions about one project's performance table (绩效目标表 / 绩效自评表).

Such a table's title names the project ("天网工程租赁和服务费2025年项目支出绩效目标表",
"西安市级2022年病媒生物防制项目绩效自评表"); its rows are the project's money total and its indicators.
When a question names the project, the answer comes from that table only: the rest of the question is
matched against its row labels (and columns such as 全年执行数 / 执行率 / 实际完成值).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from budgetqa.catalog import Catalog, norm
from budgetqa.index.extract.identity import PERFORMANCE_ROLES, table_role
from budgetqa.index.model import Fact
from budgetqa.index.read.years import without_years
from budgetqa.understand import lexicon
from budgetqa.understand.lexicon import has_any
from budgetqa.understand.understander import Target

_TITLE_TAIL = re.compile(r"(?:(?:19|20)\d{2}年度?)?(?:项目支出|支出|项目)?绩效(?:目标|自评|评价)表$")
_BRACKETS = re.compile(r"[（(][^（()）]*[）)]")
_MONEY_NOTE = re.compile(r"[（(](?:万元|元|亿元)[）)]")
_PRINTED = re.compile(r"[≥≤><=＞＜]?\s*[-\d.,]+\s*\S{0,5}")
_HEADER_NAME = re.compile(r"项目名称[:：]?(.{3,40}?)(?:主管部门|实施单位|项目单位|预算单位|$)")
_MIN_COVER = 0.6  # share of the project name's character pairs the question must repeat
_MIN_RUN = 4  # and one unbroken run this long, so "经费" alone never names a project


@dataclass(frozen=True)
class Project:
    name: str  # as the title prints it
    table: str
    doc: str
    cover: float
    run: int
    row: str = ""  # a list of projects (项目名称 | 自评分数): the project is this row, not the title


@functools.lru_cache(maxsize=16384)  # pure; find_project asks it of every fact of the unit's documents
def project_name(title: str) -> str:
    """The project a performance table's title names; "" when the title is not one."""
    t = norm(title).replace(" ", "")
    if not is_performance_table(t):
        return ""
    pieces = [p for p in without_years(_TITLE_TAIL.sub("", t), "\0").split("\0") if p]
    return pieces[-1] if pieces else ""  # "西安市级2022年病媒生物防制": the words after the year


def is_performance_table(title: str) -> bool:
    """A 绩效目标/绩效自评 table, by its role (index/extract/roles.toml; `table_role` keeps it per title)."""
    return table_role(title) in PERFORMANCE_ROLES


@functools.lru_cache(maxsize=8192)
def _performance_fact_table(title: str) -> bool:
    """`is_performance_table` of a fact's table title as stored (cleaned once per title, not per fact)."""
    return is_performance_table(_plain(title))


def _asks_funds_only(rest: str) -> bool:
    """Nothing is left of the question but words for the project's money."""
    return not lexicon.replace_words(rest, "project_funds")


def _funds_row(row: str) -> bool:
    return has_any(row, "project_funds_row")


def _pairs(text: str) -> set[str]:
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _run(name: str, q: str) -> int:
    for size in range(len(name), 1, -1):
        if any(name[i:i + size] in q for i in range(len(name) - size + 1)):
            return size
    return 0


def _plain(text: str) -> str:
    return norm(text).replace(" ", "")


def find_project(catalog: Catalog, t: Target, question: str) -> Project | None:
    """The performance table whose project the question names (in full or clearly abbreviated)."""
    q = without_years(_plain(question).replace(_plain(t.ref.name), ""))
    best: Project | None = None
    seen: set[tuple[str, str, str]] = set()
    for d in t.docs:
        own = _plain(catalog.docs[d].unit) if d in catalog.docs else ""
        for f in catalog.facts.get(d, []):
            if f.source != "table" or not _performance_fact_table(f.table):
                continue
            name = project_name(f.table)
            row = "" if name else f.row
            if (d, f.table, row) in seen:
                continue
            seen.add((d, f.table, row))
            if not name:
                name = _row_project(f)
                if not name:
                    continue
            p = _named(without_years(name), q, own, _plain(t.ref.name))
            if p is not None and (best is None or (p[0], p[1]) > (best.cover, best.run)):
                best = Project(name, f.table, d, p[0], p[1], row)
    return best


def _row_project(f: Fact) -> str:
    """A project a row names when the title does not: the header block run into the label
    ("项目名称省医保服务站工作经费主管部门…"), or a list of projects with their scores."""
    label = _plain(f.row)
    m = _HEADER_NAME.search(label)
    if m:
        return m.group(1)
    return label if has_any(f.column, "project_score") else ""


def _named(name: str, q: str, own: str, unit: str) -> tuple[float, int] | None:
    """How well the question repeats a project name: (share of its pairs, longest run), None if not enough."""
    core = _BRACKETS.sub("", name)
    for whole in (own, unit):
        if whole and whole in core:
            core = core.replace(whole, "")  # "佛山市轨道交通局开办经费": the question left the unit out of it
    if len(core) < 3 or core in ("合计", "总计") or core in own or core in unit:
        return None  # the unit's own total table is not a project
    pairs = _pairs(core)
    cover = sum(p in q for p in pairs) / len(pairs)
    run = _run(core, q)
    if run >= min(_MIN_RUN, len(core)) and cover >= _MIN_COVER:
        return cover, run
    return None


def _rest(question: str, t: Target, project: Project) -> str:
    """The question without unit, year, project name and filler: what it asks of the project."""
    q = without_years(_plain(question).replace(_plain(t.ref.name), ""))
    name = _pairs(_BRACKETS.sub("", project.name))
    keep = [True] * len(q)
    for i in range(len(q) - 1):
        if q[i:i + 2] in name:
            keep[i] = keep[i + 1] = False
    return lexicon.replace_words("".join(c for c, k in zip(q, keep, strict=True) if k), "project_filler")


def _label(row: str) -> str:
    return _MONEY_NOTE.sub("", norm(row)).replace(" ", "")


def _score(label: str, rest: str) -> int:
    return sum(p in rest for p in _pairs(label)) + (3 if label and label in rest else 0)


def rows_asked(catalog: Catalog, project: Project, rest: str) -> tuple[list[Fact], bool]:
    """The table's facts for the row (and columns) the rest of the question asks, and whether the question
    named that row or column (else it is the money total by default); [] when nothing fits."""
    pool = [f for f in catalog.facts.get(project.doc, []) if f.table == project.table and f.number is not None
            and (not project.row or f.row == project.row)]
    if not pool:
        return [], False
    if project.row:  # the row is the project: the question can only pick among its columns
        named = any(_score(norm(f.column), rest) > 0 for f in pool)
        if not named and not _asks_funds_only(rest):
            return [], False  # "服务站工作人员有多少人": an indicator this row does not hold
        return _columns(pool, rest), named
    named = True
    by_row = max(pool, key=lambda f: (_score(_label(f.row), rest), _funds_row(f.row)))
    if _score(_label(by_row.row), rest) == 0:
        by_col = max(pool, key=lambda f: (_score(norm(f.column), rest), _funds_row(f.row)))
        if _score(norm(by_col.column), rest) > 0:
            by_row = by_col
        elif not _asks_funds_only(rest) or not _funds_row(by_row.row):
            return [], False  # the question asks something this table does not hold
        else:
            named = False
    return _columns([f for f in pool if _label(f.row) == _label(by_row.row)], rest), named


def _columns(same: list[Fact], rest: str) -> list[Fact]:
    """The columns of one row the question names, else all of them (duplicates from split pages once)."""
    top = max(_score(norm(f.column), rest) for f in same)
    if top > 0:
        same = [f for f in same if _score(norm(f.column), rest) == top]
    out: list[Fact] = []
    for f in same:
        if not any(g.column == f.column and g.value == f.value for g in out):
            out.append(f)
    return out


def printed(f: Fact) -> str:
    """The figure as the table prints it: "≥90%" keeps its comparator, else value and measure."""
    ctx = (f.context or "").strip()
    if f.source == "table" and ctx and f.value.strip() in ctx and _PRINTED.fullmatch(ctx):
        return ctx if ctx.endswith(f.measure) else ctx + f.measure
    return f"{f.value.strip()}{f.measure}"


def sentence(t: Target, project: Project, facts: list[Fact]) -> str:
    f = facts[0]
    row = _MONEY_NOTE.sub("", f.row.strip())
    cols = [x for x in facts if x.column.strip()]
    figures = "、".join(f"{x.column.strip()}为{printed(x)}" for x in cols) if cols else "为" + printed(f)
    year = f.year or t.year or ""
    if project.row:
        return f"{t.ref.name}{year}年“{f.table.strip()}”中，{project.name}项目的{figures}。"
    # the name without its bracketed note: figures there ("含…30名") would read as unchecked answers
    name = _BRACKETS.sub("", project.name)
    table = "绩效自评表" if "自评" in f.table else "绩效目标表"
    return f"{t.ref.name}{year}年{name}项目的{table}中，“{row}”{figures}。"


def project_answer(catalog: Catalog, targets: tuple[Target, ...], question: str) -> tuple[list[str], list[Fact], bool]:
    """Sentences and facts for every target whose documents hold the named project's table, and whether the
    question is surely about the project: it names a row of the table or speaks of 项目/绩效. A bare
    "城乡医疗救助预算" may mean a budget line of the same name, so that one waits for the other tables."""
    lines: list[str] = []
    facts: list[Fact] = []
    said = has_any(question, "project_asked")
    sure = False
    for t in targets:
        project = find_project(catalog, t, question)
        if project is None:
            continue
        found, named = rows_asked(catalog, project, _rest(question, t, project))
        if found:
            lines.append(sentence(t, project, found))
            facts += found
            sure = sure or named or (said and not project.row)
    return lines, facts, sure
