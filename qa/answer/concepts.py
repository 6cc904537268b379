"""A concept's figure (budgetqa.understand.concepts): the fact that prints it, else the sum of its parts.

Facts are picked by identity (table role, item, column role), never by a row label alone, so a
concept is never answered with one of its parts: 人员经费 is the 人员经费 column of a 合计 row (or
the prose "人员经费X万元"), and only when no document prints it the sum of 工资福利支出 and 对个人和
家庭的补助 of the 基本支出 table, said to be a sum.
"""

from __future__ import annotations

from dataclasses import dataclass

from budgetqa.answer.arith import ArithmeticError_, Derived, compute, fmt
from budgetqa.catalog import Catalog
from budgetqa.index.extract.identity import Identity, identity_of, item_key, role_name
from budgetqa.index.model import Fact
from budgetqa.index.read.years import years_in
from budgetqa.understand.concepts import NARRATIVE, Concept, Spec, concept_of
from budgetqa.understand.understander import Item, Target

_NOT_MAIN = ("上年", "增减", "执行率", "结转", "比上年")


@dataclass(frozen=True)
class Summed:
    """A concept no document prints, as the sum of the parts one table prints."""

    text: str
    facts: tuple[Fact, ...]
    derived: Derived


def _ident(catalog: Catalog, f: Fact) -> Identity:
    meta = catalog.docs.get(f.doc)
    return identity_of(f, meta.subunits if meta else ())


def _main(column: str, prior: bool, kind: str | None) -> bool:
    """This year's figure (or, asked for the year before, the 上年 column); a final account's 决算数,
    not the budget it also prints."""
    if prior:
        return "上年" in column and "结转" not in column
    if kind == "决算" and "预算" in column:
        return False
    return not any(w in column for w in _NOT_MAIN) and not years_in(column, written=True)


def _item_ok(spec: Spec, item: str, prior: bool) -> bool:
    if prior:  # prose states last year's figure as "上年…"
        if not item.startswith("上年"):
            return False
        item = item[2:]
    key = item_key(item)
    if spec.items and key not in {item_key(w) for w in spec.items}:
        return False
    if spec.item_suffix and not any(key.endswith(item_key(w)) for w in spec.item_suffix):
        return False
    if spec.item_contains and not any(item_key(w) in key for w in spec.item_contains):
        return False
    return not any(w in item for w in spec.none)


def _column_ok(spec: Spec, column: str, source: str, prior: bool, kind: str | None = None) -> bool:
    if source == "text":
        return True
    last = column.split("/")[-1] if column else ""
    if spec.columns and last not in spec.columns:
        return False
    if spec.column_prefix and not any(column.startswith(p) for p in spec.column_prefix):
        return False
    return _main(column, prior, kind)


def matching(catalog: Catalog, target: Target, spec: Spec) -> list[Fact]:
    """The target's facts a spec names, in document order."""
    out = []
    sub = target.ref.name if target.ref is not None and target.ref.subunit else ""
    for d in target.docs:
        for f in catalog.facts.get(d, []):
            if f.number is None or f.table == "目录":
                continue
            ident = _ident(catalog, f)
            role = NARRATIVE if f.source == "text" else ident.role
            if spec.roles and role not in spec.roles:
                continue
            if not spec.roles and (f.source == "text" or "绩效" in role):
                continue
            if spec.measures and f.measure not in spec.measures:
                continue
            if spec.subunit != bool(sub) or not _unit_ok(f, ident, sub):
                continue  # a sub-unit's figure is its own row; the department's never a sub-unit's row
            if not _item_ok(spec, ident.item, target.prior and f.source == "text") \
                    or not _column_ok(spec, ident.column, f.source, target.prior, f.kind):
                continue
            if f.source == "text" and f.kind == "决算" and "预算" in ident.item:
                continue  # a final account's prose also quotes the budget ("年初预算为…")
            out.append(f)
    return out


def _unit_ok(f: Fact, ident: Identity, sub: str) -> bool:
    """The fact is the asked unit's own: a department's row (not a sub-unit's), or the sub-unit's row; in
    prose, the clause right before the figure names the sub-unit ("…中心编制人数8人，实有人员7人")."""
    if not sub:
        # the 本级 row stands for the department only where no table splits it by unit
        return ident.subunit is None or (ident.subunit == "本级" and not f.owner)
    if f.source == "text":
        at = f.context.find(f.value)
        before = f.context[:at] if at >= 0 else f.context
        return sub[-3:] in before  # the name's head is often shortened ("市委讲师团"), its tail is not
    return item_key(ident.subunit or "") == item_key(sub)


def printed(catalog: Catalog, target: Target, concept: Concept) -> Fact | None:
    """The concept's own printed figure: the first spec that names a fact decides."""
    for spec in concept.printed:
        found = matching(catalog, target, spec)
        if found:
            return max(found, key=lambda f: f.yuan or f.number or 0) if spec.largest else found[0]
    return None


def summed(catalog: Catalog, target: Target, concept: Concept) -> Summed | None:
    """The parts of one table added up, when every part is printed there."""
    spec = concept.parts
    if spec is None or (target.ref is not None and target.ref.subunit):
        return None
    by_table: dict[str, dict[str, Fact]] = {}
    for f in matching(catalog, target, spec):
        by_table.setdefault(f.table, {}).setdefault(item_key(_ident(catalog, f).item), f)
    wanted = [item_key(w) for w in spec.items]
    table = next((t for t, got in by_table.items() if all(w in got for w in wanted)), None)
    if table is None:
        return None
    parts = [by_table[table][w] for w in wanted]
    try:
        d = compute("sum", parts)
    except ArithmeticError_:
        return None
    role = role_name(_ident(catalog, parts[0]).role)
    said = "，".join(f"{_label(p)}{p.value.strip()}{p.measure}" for p in parts)
    year = f"{parts[0].year}年" if parts[0].year else ""
    text = (f"{target.ref.name}{year}{parts[0].kind or ''}中未单独列出{concept.id}，按{role}（{table}）中"
            f"{'、'.join(_label(p) for p in parts)}相加：{said}，{concept.id}合计为{fmt(d.value, d.measure)}"
            f"{d.measure}（计算：{d.formula}）。")
    return Summed(text, tuple(parts), d)


def _label(f: Fact) -> str:
    return item_key(f.row) or f.row


def concept_sum(catalog: Catalog, target: Target, item: Item) -> Summed | None:
    """The answerer's fallback for an item that names a concept nothing prints."""
    concept = concept_of(item)
    return summed(catalog, target, concept) if concept is not None else None
