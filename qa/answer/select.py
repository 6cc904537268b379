"""Choosing the fact that answers for an item among all facts that match it.

Preferences, in order: a table the question names, the label the question used (or the vocabulary's
first choice), table over narrative, the table a budget reader would look in (三公 table for 三公 items,
the whole budget's 经济分类 table for 经济分类 codes (the 基本支出 one holds only part), the expenditure
totals table for 功能分类 codes), and the main column (合计, 预算数, 决算数, this year) over sub-columns
and last year's.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

from budgetqa.answer.concepts import printed
from budgetqa.catalog import Catalog, norm
from budgetqa.index.model import Fact
from budgetqa.index.read.tables import OWN
from budgetqa.index.read.years import after_first_year, years_in
from budgetqa.understand.concepts import concept_of
from budgetqa.understand.lexicon import drop_all, has_any, words
from budgetqa.understand.understander import Item, Target, item_words

_TOTAL_ROWS = {"合计", "总计", "本年支出合计", "支出合计", "本年收入合计", "收入合计", "支出总计", "收入总计"}
_SANGONG = ("三公", "公务接待", "因公出国", "公务用车")
_MAIN_COL = re.compile(r"合计|总计|预算数|决算数|本年|金额|小计|全年|执行数|^数额$|^数值$")
_GENERIC = {"合计", "小计", "总计", "其他", "项目"}
LIST_MARK = "、"  # "会议费、培训费预算支出共263.72万元" is the figure of a list
_SCOPES = ("三公", "基本支出", "机关运行", "收入预算", "收支", "政府采购", "经济分类")
_NUMBERING = re.compile(r"^\s*(?:[（(]?\s*(?:[一二三四五六七八九十]+|\d{1,2})\s*[）)、.．]\s*|其中\s*[：:]\s*)+")


@dataclass(frozen=True)
class Hints:
    """What the question says beyond the item: a column, a table, the measure asked for."""

    columns: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    measure: str = ""
    words: str = ""  # the question's own wording, to prefer "政府采购预算总额" for "政府采购总额"


@dataclass(frozen=True)
class Choice:
    fact: Fact
    also: tuple[Fact, ...]  # other facts giving the same figure (other tables)
    conflicts: tuple[Fact, ...]  # narrative figures for the same item that disagree


@cache
def _scope_words() -> dict[str, tuple[str, ...]]:
    data = tomllib.loads(Path(__file__).with_name("scope.toml").read_text(encoding="utf-8"))
    return {k: tuple(v) for k, v in data.items()}


def own_level_asked(wording: str) -> bool:
    """The question narrows the item to the unit's own offices ("本级的公务接待费")."""
    return has_any(wording, "own_level")


def candidates(catalog: Catalog, target: Target, item: Item, tables: tuple[str, ...] = (),
               own_level: bool = False, over_units: bool = False) -> list[tuple[int, Fact]]:
    """(label rank, fact) for every fact of the target's documents that stands for the item, of the unit
    asked: a sub-unit's own figures (the rows under its line in a table split by unit, or its row), the
    department's own offices with `own_level` (its 本级 rows), else the department's figures only — never
    a sub-unit's or the 本级's (index/extract/owners.py), unless one unit alone prints the item."""
    if target.ref is not None and target.ref.subunit:
        name = norm(target.ref.name)
        return (_matching(catalog, target, item, tables, lambda f: owner_is(f.owner, name))
                + _subunit_rows(catalog, target, item, name, lambda f: owner_is(f.owner, name)))
    if own_level:
        own = [p for d in target.docs if d in catalog.docs
               for p in _subunit_rows(catalog, replace(target, docs=(d,)), item, norm(catalog.docs[d].unit) + OWN,
                                      lambda f: f.owner == OWN)]
        own += _matching(catalog, target, item, tables, lambda f: f.owner == OWN)
        if own:
            return own
    whole = _matching(catalog, target, item, tables, lambda f: not f.owner)
    if whole:
        return whole
    # printed only inside one unit's rows (a project of one unit): that is the department's figure too;
    # printed for several units, the department's own figure is not printed
    # (`over_units`: the question adds the units up, "4家单位的在职人数合计": every unit's figure is an input)
    owned = _matching(catalog, target, item, tables, lambda f: True)
    return owned if over_units or len({f.owner for _, f in owned}) == 1 else []


def owner_is(owner: str, name: str) -> bool:
    """A fact's owner is the sub-unit named (its name as the registry spells it)."""
    if not owner or owner == OWN:
        return False
    a, b = _name_key(owner), _name_key(name)
    return a == b or (len(b) >= 4 and (a.endswith(b) or b.endswith(a)))


_NAME_DROP = str.maketrans("", "", "()（） \t\u3000")


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", norm(name)).translate(_NAME_DROP)


def _matching(catalog: Catalog, target: Target, item: Item, tables: tuple[str, ...],
              keep: Callable[[Fact], bool]) -> list[tuple[int, Fact]]:
    out: list[tuple[int, Fact]] = []
    if tables and any(lab in _TOTAL_ROWS for lab in item.labels):  # "一般公共预算财政拨款支出": that table's 合计
        out += [(0, f) for d in target.docs for f in catalog.facts.get(d, [])
                if norm(f.row) in ("合计", "总计") and any(t in norm(f.table) for t in tables)]
    out += _titled_totals(catalog, target, item)
    for d in target.docs:
        per_label = catalog.by_label.get(d, {})
        for i, lab in enumerate(item.labels):
            hits = per_label.get(lab, [])
            if target.prior:  # the prose names last year's figure "上年收入总计"
                hits = hits + per_label.get("上年" + lab, [])
            if lab in _GENERIC or len(lab) < 2:  # "合计" only counts in the item's own table
                hits = [f for f in hits if item.table and item.table in f.table]
            out += [(i, f) for f in hits]
        if item.code:
            out += [(0, f) for f in catalog.by_code.get(d, {}).get(item.code, [])]
        unit = norm(catalog.docs[d].unit) if d in catalog.docs else ""
        out += _column_or_narrative(catalog.facts.get(d, []), item, unit)
    return [(r, f) for r, f in out if f.table != "目录" and "目录" not in f.section[:4] and keep(f)]


_TITLED_TOTAL = re.compile(r"^(.{4,}?)(总计|合计)$")


def _titled_totals(catalog: Catalog, target: Target, item: Item) -> list[tuple[int, Fact]]:
    """"财政拨款收入支出总计": the 总计 row of the table titled 财政拨款收入支出…表 (the prose may say it
    too, and may be wrong; the table is the record)."""
    out: list[tuple[int, Fact]] = []
    for i, lab in enumerate(item.labels):
        m = _TITLED_TOTAL.match(lab)
        if not m:
            continue
        for d in target.docs:
            out += [(i, f) for f in catalog.facts.get(d, []) if f.source == "table"
                    and norm(f.row) in ("总计", "合计") and norm(f.table).startswith(m.group(1))]
    return out


def _titled(f: Fact, item: Item) -> str:
    """The item's label that names this table's 总计 row, or ""."""
    if f.source != "table" or norm(f.row) not in ("总计", "合计"):
        return ""
    return next((lab for lab in item.labels if (m := _TITLED_TOTAL.match(lab)) is not None
                 and norm(f.table).startswith(m.group(1))), "")


def _column_or_narrative(facts: list[Fact], item: Item, unit: str) -> list[tuple[int, Fact]]:
    """"项目支出" as a column of a totals row, "在职人数" as a column of the unit's own row, or a
    narrative figure whose subject contains the label."""
    out = []
    for f in facts:
        row, col = norm(f.row), norm(f.column)
        for i, lab in enumerate(item.labels):
            if len(lab) < 2 or lab in _GENERIC:
                continue
            if f.source == "table" and col and lab in (col, col.split("/")[-1]) and (
                    row in _TOTAL_ROWS or (unit and row == unit)):
                out.append((i + 1, f))
            elif f.source == "table" and lab in _TOTAL_ROWS and row in ("合计", "总计") and lab[:2] in f.table:
                out.append((i + 1, f))  # "支出合计": the 合计 row of an expenditure table
            elif f.source == "text" and lab in row and not has_any(row.replace(lab, ""), "derived") \
                    and (LIST_MARK not in row or LIST_MARK in lab):  # a list's total is none of its items'
                out.append((i + 2, f))
    return out


def _subunit_rows(catalog: Catalog, target: Target, item: Item, name: str,
                  owned: Callable[[Fact], bool] = lambda f: False) -> list[tuple[int, Fact]]:
    """Rows labelled with a sub-unit (or the unit's 本级) inside its department's document (the item is
    then a column); `owned`: the facts the unit owns (index/extract/owners.py), whose own line may print
    its name cut short ("中共西安市委" for 中共西安市委理论讲师团) or the department's name for its 本级. A
    table titled with the item (收入 by unit) gives its 合计 column, but only when no column names the item:
    "…会议费、培训费支出预算表" has a 会议费 column beside its 合计; among titled tables, a 总表 first."""
    out: list[tuple[int, Fact]] = []
    generic: list[tuple[int, Fact]] = []  # 合计/小计 as a label: any column says it
    titled: list[tuple[int, Fact]] = []
    part: list[tuple[int, Fact]] = []  # "收入" in the column "其他收入": one of its parts
    for d in target.docs:
        unit = norm(catalog.docs[d].unit) if d in catalog.docs else ""
        for f in catalog.facts.get(d, []):
            if name not in norm(f.row) and name not in norm(f.context) and name not in _sentence_before(f) \
                    and not (owned(f) and _unit_line(f, name, unit)):
                continue
            col = norm(f.column)
            path = [p for p in col.split("/") if p]
            for i, lab in enumerate(item.labels):
                if not lab:
                    continue
                kind = _tail(lab, _KIND_WORDS)
                if lab in norm(f.row) or lab in norm(f.context) or _names_column(lab, path) \
                        or (kind and lab[-2:] in f.table and _names_column(kind, path)):
                    (generic if lab in _GENERIC else out).append((i, f))
                elif lab in col:
                    part.append((i, f))
                elif len(head := _tail(lab, ("合计", "总计")) or lab) >= 2 and head in norm(f.table) \
                        and _MAIN_COL.search(col):
                    titled.append((i + (0 if "总表" in f.table else 1), f))
    return out or generic or titled or part


# "一般公共预算收入": the 一般公共预算 column of a 收入 table; "支出合计" of a unit: its line of the 支出 table
_KIND_WORDS = ("收入", "支出")


def _tail(label: str, tails: tuple[str, ...]) -> str:
    """The label without one of `tails` at its end (at least two characters left), else ""."""
    t = next((w for w in tails if label.endswith(w) and len(label) >= len(w) + 2), "")
    return label[:-len(t)] if t else ""


def _unit_line(f: Fact, name: str, unit: str) -> bool:
    """The fact is on its owner's own line (its figures the owner's totals), not an item row under it."""
    row = norm(f.row)
    if not row or f.source != "table":
        return False
    return row in name or name.startswith(row) or row == unit or row == unit + OWN


def _sentence_before(f: Fact) -> str:
    """A prose figure's sentence up to its clause: "…中心编制人数8人，实有人员7人" names the unit of 7人
    before the clause "实有人员7人"."""
    if f.source != "text":
        return ""
    at = f.quote.find(f.context) if f.context else -1
    return norm(f.quote[:at]) if at > 0 else ""


def _names_column(label: str, path: list[str]) -> bool:
    """The column is the item's: its own name, or the 小计/合计 of a header group named after it."""
    if not path:
        return False
    if path[-1] == label:
        return True
    return path[-1] in ("小计", "合计") and any(label in p for p in path[:-1])


def table_rank(f: Fact, item: Item) -> int:
    t = f.table
    if item.table:
        return 0 if item.table in t else 2
    label = norm(f.row)
    code = f.code or ""
    if label in ("合计", "总计"):
        return 0 if "总表" in t else 3 if "三公" in t else 1
    if any(w in label for w in _SANGONG):
        return 0 if "三公" in t else 1
    if code.startswith("3") and len(code) in (3, 5):
        return 0 if ("基本支出" not in t and "经济分类" in t) else 1 if "经济分类" in t else 2
    if code.startswith("2") and len(code) in (3, 5, 7):
        if "支出" in t and "总表" in t and "收入" not in t:
            return 0
        return 1 if "支出" in t and "收入" not in t else 3 if "收入" in t else 2
    narrower = 1 if has_any(t, "part_of_budget") else 0  # part of the budget only
    if "收入" in label:
        return (0 if "收入" in t or "收支" in t else 1) + narrower
    if "支出" in label and ("合计" in label or "总计" in label):
        return (0 if "收支" in t or ("支出" in t and "总表" in t) else 1) + narrower
    if "支出" in label:  # a 功能分类 class named without its code: the coded tables hold it
        return 2 if "收支" in t else 1
    return 1


def column_rank(f: Fact, target: Target, hints: tuple[str, ...] = ()) -> int:
    c = norm(f.column)
    if hints and c and any(h in c for h in hints):
        return -1
    if f.source == "text" and f.kind == "决算" and re.search("预算", norm(f.row)):
        return 2  # a final account's narrative also quotes the budget: "年初预算为…"
    if target.prior:
        if f.source == "text":
            return 0 if "上年" in norm(f.row) or "上年" in _just_before(f) else 4
        carried = "上年结转" in c or "上年结余" in c  # this year's money carried over, not last year's figure
        return 0 if ("上年" in c or str(target.year) in c) and not carried and not has_any(c, "change_column") else 4
    if f.source == "text" and ("上年" in norm(f.row)):
        return 4
    if not c:
        return 0
    if has_any(c, "old_column"):
        return 4
    years = years_in(c)
    if years:
        return 0 if target.year in years else 4
    if f.kind == "决算" and "预算" in c:
        return 2
    return 0 if _MAIN_COL.search(c) else 1


_KIND_TAIL = re.compile(r"(?:决算数?|预算数?)$")


def _plainer(item: Item) -> Item:
    """The item without the wording one document's prose adds ("住房公积金支出决算" is "住房公积金" in
    another document's tables): for comparing units whose documents word it differently."""
    out: list[str] = []
    for lab in item.labels:
        base = _KIND_TAIL.sub("", lab)
        for variant in (base, re.sub(r"支出$", "", base)):
            if len(variant) >= 2 and variant not in item.labels and variant not in _GENERIC:
                out.append(variant)
    return Item(item.text, tuple(dict.fromkeys(out)), item.table, item.code, item.vocab, item.side)


def _just_before(f: Fact) -> str:
    """The words right before the figure in its sentence ("收入总计93.42万元（上年收入总计54.07万元": the
    上年 belongs to 54.07 only)."""
    at = f.context.find(f.value)
    return norm(f.context[max(0, at - 10):at]) if at >= 0 else norm(f.context)


def choose(catalog: Catalog, target: Target, item: Item, hints: Hints = Hints()) -> Choice | None:
    concept = concept_of(item)
    # a column the question names narrows the item, unless it is the main column or a concept itself
    narrowed = [c for c in hints.columns if concept_of(Item(c, (c,))) is None
                and not (c in words("main_column") and (c != "预算数" or target.kind != "决算"))]
    own_level = own_level_asked(hints.words)
    flow = _is_count_measure(hints.measure) and any(w in hints.words for w in _scope_words()["flow_asked"])
    if concept is not None and not hints.tables and not narrowed and not own_level and not flow:
        own = printed(catalog, target, concept)  # by identity: the concept's own figure, never a part
        if own is not None and (not hints.measure or _measure_ok(own, hints.measure)):
            return Choice(own, (), ())
    over_units = any(w in hints.words for w in _scope_words()["over_units"])
    cands = candidates(catalog, target, item, hints.tables, own_level, over_units)
    if not cands and not item.code:
        cands = candidates(catalog, target, _plainer(item), hints.tables, own_level, over_units)
    if hints.measure:
        asked = [(r, f) for r, f in cands if _measure_ok(f, hints.measure, relaxed=True)]
        cands = asked or [(r, f) for r, f in cands if _is_count(f)] if _is_count_measure(hints.measure) else asked
    if target.prior:  # only last year's figures answer: 上年 columns, 上年… sentences
        cands = [(r, f) for r, f in cands if column_rank(f, target) == 0
                 and (not f.year or not target.year or f.year in (target.year, target.year + 1))]
    elif target.year:  # an earlier year's figure a change statement gives never answers for this year
        cands = [(r, f) for r, f in cands if not f.year or f.year >= target.year]
    if not cands:
        return None
    cols = hints.columns

    def key(p: tuple[int, tuple[int, Fact]]) -> tuple:
        rank, f = p[1]
        in_table = 0 if hints.tables and any(t in norm(f.table) for t in hints.tables) else 1
        # "参公…的机关运行经费" is a part of it: a narrative subject that only ends with the label
        row = norm(f.row).removeprefix("上年") if target.prior else norm(f.row)
        part = f.source == "text" and not any(row.startswith(lab) for lab in item.labels if lab)
        own_table = table_rank(f, item) if item.table else 0  # 招待费: the 三公 table, even as a column there
        named = _titled(f, item) or f.row  # the title names a table's 总计 row
        # a table the question names ("一般公共预算基本支出") outranks prose that cannot say which table it is
        return (own_table, in_table, _flow_mismatch(f, flow), -_widest(f, item, hints.words), rank, -_bigrams(named, hints.words), part,
                column_rank(f, target, cols) >= 4,
                not group_total(f, item), f.source != "table", table_rank(f, item),
                column_rank(f, target, cols), f.number is None, f.number == 0, p[0])

    ranked = sorted(enumerate(cands), key=key)
    best = ranked[0][1][1]
    if target.prior and column_rank(best, target) != 0:
        return None  # no figure for the year before
    same = tuple(f for _, (_, f) in ranked[1:] if f.number is not None and _same(f, best))
    titled = bool(_titled(best, item))
    conflicts = tuple(f for _, (r, f) in ranked if f.source == "text" and r == ranked[0][1][0]
                      and (titled or norm(f.row) == norm(best.row)) and not has_any(f.section + f.context, "project_context")
                      and (titled or any(k in f.section and k in best.table for k in _SCOPES))
                      and f.number is not None and best.source == "table" and not _same(f, best))
    return Choice(best, same[:3], _dedupe(conflicts)[:2])


def group_total(f: Fact, item: Item) -> bool:
    """The subtotal column of a header group named after the item: a wide table that prints 会议费 and
    培训费 beside the 三公 group has a 合计 over all of them, and the 三公 total is the group's 小计."""
    if f.source != "table" or not f.column:
        return False
    path = [p for p in norm(f.column).split("/") if p]
    if len(path) < 2 or path[-1] not in ("小计", "合计"):
        return False
    words = {norm(item.text), *(lab for lab in item.labels if len(lab) >= 3 and lab not in _TOTAL_ROWS)}
    return any(w and w in p for p in path[:-1] for w in words)


def _widest(f: Fact, item: Item, words: str) -> int:
    """How much of the question's wording around the item the fact's label holds: "离退休多少人" names
    "单位管理的离退休人员", not the row "退休" the item matched inside 离退休."""
    t = norm(item.text)
    at = words.find(t) if t else -1
    if at < 0:
        return 0
    names = (norm(_titled(f, item) or f.row), norm(f.column).split("/")[-1])  # a titled table's 总计 row
    best = 0
    for a in range(max(0, at - 6), at + 1):
        for b in range(at + len(t), min(len(words), at + len(t) + 6) + 1):
            if b - a > best and any(words[a:b] in n for n in names):
                best = b - a
    return best


def _bigrams(row: str, words: str) -> int:
    r = norm(row)
    return sum(1 for i in range(len(words) - 1) if words[i:i + 2] in r) if words else 0


def by_measure(catalog: Catalog, target: Target, words: str, measure: str) -> Fact | None:
    """No item, but a measure asked ("共有多少辆车"): the figure in that measure whose wording overlaps most."""
    wording = drop_all(norm(item_words(words)), "as_of")
    want = set(wording) - set("的了是有共各几多少　") - {measure}
    best: tuple[int, int, Fact] | None = None
    for d in target.docs:
        for i, f in enumerate(catalog.facts.get(d, [])):
            if not _measure_ok(f, measure) or f.number is None:
                continue
            score = len(want & set(norm(f.row) + norm(f.context))) * 10 - len(norm(f.row)) // 4
            score += 10 * _bigrams(_counted(f), wording)  # "下属5家预算单位": what follows 5家 is what is counted
            score += 5 if re.search(r"共有|共计|总数|合计|实有|现有", f.context) else 0  # a stock, not a part
            if best is None or (score, -i) > (best[0], -best[1]):
                best = (score, i, f)
    if best is None:
        return None
    # a third of the asked characters: prose around a count is short ("接待人数共13人" for 国内公务接待…人)
    need = max(1, (len(want) + 2) // 3)
    return best[2] if len(want & set(norm(best[2].row) + norm(best[2].context))) >= need else None


def _counted(f: Fact) -> str:
    """The words right after a count in its sentence ("5家预算单位" -> "预算单位的综")."""
    at = f.context.find(f.value + f.measure)
    return f.context[at + len(f.value) + len(f.measure):][:6] if at >= 0 else ""


def _measure_ok(f: Fact, measure: str, relaxed: bool = False) -> bool:
    """The fact is in the asked measure; `relaxed`: a generic counter (个) takes any count."""
    if relaxed and measure in _scope_words()["generic_counters"] and _is_count(f):
        return True
    return f.measure == measure or (measure == "人" and f.measure in ("人", "名"))


def _is_count_measure(measure: str) -> bool:
    return bool(measure) and measure not in _scope_words()["not_counts"]


def _is_count(f: Fact) -> bool:
    return f.number is not None and _is_count_measure(f.measure)


def _flow_mismatch(f: Fact, asked: bool) -> bool:
    """A count that is a flow (购置车辆0辆) for a question about the stock (有几辆车), or the reverse."""
    if not _is_count(f):
        return False
    said = norm(f.row)
    return asked != any(w in said for w in _scope_words()["flow_facts"])


def _same(a: Fact, b: Fact) -> bool:
    ya, yb = a.yuan, b.yuan
    if ya is not None and yb is not None:
        return abs(ya - yb) < 1
    return a.number == b.number and a.measure == b.measure


def _dedupe(facts: tuple[Fact, ...]) -> tuple[Fact, ...]:
    seen: dict[tuple[str, str], Fact] = {}
    for f in facts:
        seen.setdefault((f.value, f.measure), f)
    return tuple(seen.values())


def clean_label(row: str) -> str:
    """A row label as shown in answers: numbering dropped, wording kept ("2、公务接待费" -> "公务接待费")."""
    t = re.sub(r"</?\w+>", "", row).strip()
    return _NUMBERING.sub("", t).strip() or t


def scope(f: Fact) -> str:
    """What the figure belongs to, from its table title or section ("一般公共预算“三公”经费")."""
    title = f.table or ""
    if not title:
        return ""
    t = after_first_year(title).strip() or title
    t = re.sub(r"^(?:公开)?\d+表\s*|^表\s*\d+(?:[-－]\d+)?\s*", "", t)  # "公开03表", "表13 部门综合预算…"
    t = re.sub(r"[（(]?(?:公开)?\d+表[）)]?$", "", t).strip()
    t = re.sub(r"(?:支出预算表|支出决算表|(?:预算|决算)?(?:情况|明细|总)?表)$", "", t).strip()
    return t
