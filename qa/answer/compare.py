"""Comparisons: two or more figures, each answered and checked on its own as a lookup, then the relation the
question asks (budgetqa.understand.frame.relation): which is larger, by how much, how many times, or the
largest / smallest of several or of a concept's parts ("三公经费里哪项最多").

A compare frame's operands are its (unit × year × item) identities in the question's order: every target
with every item. Each operand is looked up exactly as a one-target, one-item question would be (the caller's
`lookup`), so its sentence, facts and checks are those of that lookup; the relation is computed with
budgetqa.answer.arith over the operands' facts and shown as a computation ("计算：…"), which the checker
recomputes from the same facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from budgetqa.answer.arith import ArithmeticError_, Derived, combine, fmt, in_measure, of_fact
from budgetqa.answer.concepts import matching
from budgetqa.answer.select import clean_label
from budgetqa.catalog import Catalog, norm
from budgetqa.index.extract.identity import identity_of, item_key
from budgetqa.index.model import Fact
from budgetqa.understand.concepts import concept_of
from budgetqa.understand.frame import relations
from budgetqa.understand.lexicon import has_any
from budgetqa.understand.understander import Item, Query, Target, load_vocabulary

if TYPE_CHECKING:
    from budgetqa.answer.answerer import Draft

Lookup = Callable[[Query], "Draft"]


@dataclass(frozen=True)
class Operand:
    """One figure of a comparison: its identity as asked and the lookup that answered it."""

    target: Target
    item: Item
    draft: Draft
    fact: Fact | None  # the figure's own fact; None when the lookup computed it (a sum of parts, last year's)
    value: Decimal  # in the measure of the first operand (money brought to one measure)
    measure: str


def compared(query: Query, catalog: Catalog, lookup: Lookup) -> Draft | None:
    """The comparison's reply, or None when the question compares fewer than two figures the documents hold
    (the caller answers it as before: a single lookup, a change, or what is missing)."""
    pairs = [(t, i) for t in query.targets for i in query.items]
    if len(pairs) == 1 and query.relation in ("most", "least"):
        return _ranked_parts(query, catalog, *pairs[0]) or _parts_looked_up(query, *pairs[0], lookup)
    if len(pairs) < 2:
        return None
    operands = _operands(query, pairs, lookup)
    if operands is None or (query.qtype == "sum" and not _summable(operands)):
        return None
    return _reply(query, operands)


def _operands(query: Query, pairs: Sequence[tuple[Target, Item]], lookup: Lookup) -> list[Operand] | None:
    """Each (target, item) looked up as a one-target, one-item question; None when one is missing (the plain
    path then says which)."""
    out: list[Operand] = []
    for t, item in pairs:
        one = replace(query, targets=(t,), items=(item,), qtype="lookup", relation="", year_defaulted=False,
                      candidates=())
        draft = lookup(one)
        if draft.status != "answered" or not draft.facts:
            return None  # a figure the documents lack: the plain path says which one is missing
        computed = bool(draft.derived) and draft.facts[0] in draft.derived[0].inputs  # last year's, a sum of parts
        fact = None if computed else draft.facts[0]
        value, measure = (draft.derived[0].value, draft.derived[0].measure) if fact is None \
            else (fact.number, fact.measure)
        if value is None:
            return None
        out.append(Operand(t, item, draft, fact, value, measure))
    first = out[0].measure
    try:
        return [replace(o, value=_in(o, first), measure=first) for o in out]
    except ArithmeticError_:
        return None  # 万元 against 人: nothing to compare


def _in(o: Operand, measure: str) -> Decimal:
    if o.fact is not None:
        return in_measure(o.fact, measure)
    if o.measure == measure:
        return o.value
    raise ArithmeticError_("计量单位不同")


def _reply(query: Query, operands: list[Operand]) -> Draft:
    from budgetqa.answer.answerer import Draft

    lines = [o.draft.text for o in operands]
    derived: list[Derived] = [d for o in operands for d in o.draft.derived]
    facts = list(dict.fromkeys(f for o in operands for f in o.draft.facts))
    asked = _relations_asked(query)
    for relation in asked:  # "谁高？高多少？是几倍？": each relation asked, in its order
        # "高多少？是几倍？": the multiple after a difference is the larger's over the smaller's
        said, made = _relation(relation, operands, larger_first=len(asked) > 1)
        if said not in lines:
            lines.append(said)
            derived += made
    units = {o.target.ref.name for o in operands}
    return Draft("answered", "".join(lines), tuple(facts), tuple(derived),
                 unit=operands[0].target.ref.name if len(units) == 1 else None)


def _relations_asked(query: Query) -> list[str]:
    """The relations the frame asks of its operands: a sum; or every comparison its words ask, in their order
    (budgetqa.understand.frame.relations); "which is larger" when it asks none by name."""
    if query.qtype == "sum":
        return ["sum"]
    found: list[str] = list(relations(query.question, load_vocabulary().compare))
    if query.relation and query.relation not in found:
        found.insert(0, query.relation)
    return found or ["more"]


def _relation(relation: str, operands: list[Operand], larger_first: bool = False) -> tuple[str, list[Derived]]:
    """The sentence stating the relation, and the computations it shows; with `larger_first` a multiple is the
    larger figure's over the smaller's, whatever their order in the question."""
    labels = _labels(operands)
    if relation == "sum":
        d = combine("sum", [_term(o) for o in operands])
        return f"以上合计{_amount(d)}（计算：{d.formula}）。", [d]
    if relation in ("most", "least") or len(operands) > 2:
        best, word = _extreme([o.value for o in operands], relation in ("least", "less"))
        o = operands[best]
        return f"其中{labels[best]}{word}，为{_shown(o)}。", []
    (a, la), (b, lb) = zip(operands, labels, strict=True)
    if larger_first and b.value > a.value:
        (a, la), (b, lb) = (b, lb), (a, la)
    if relation == "ratio":
        try:
            d = combine("ratio", [_term(a), _term(b)])
        except ArithmeticError_ as exc:
            return f"{la}不能按{lb}计算百分比：{exc}。", []
        return f"{la}相当于{lb}的{fmt(d.value)}%（计算：{d.formula}）。", [d]
    if relation == "times":
        try:
            d = combine("times", [_term(a), _term(b)])
        except ArithmeticError_ as exc:
            return f"{la}不能按{lb}计算倍数：{exc}。", []  # "会议费0.00万元": said, not left out
        return f"{la}是{lb}的{fmt(d.value)}倍（计算：{d.formula}）。", [d]
    if a.value == b.value:
        return f"{la}与{lb}相等。", []
    big, small, word = (a, b, "多") if a.value > b.value else (b, a, "少")
    if relation == "more" and word == "少":  # "哪个多": the larger one is named first
        la, lb, word = lb, la, "多"
    elif relation == "less" and word == "多":  # "哪个少": the smaller one is named first
        la, lb, word = lb, la, "少"
    try:
        d = combine("difference", [_term(big), _term(small)])
    except ArithmeticError_:
        return f"{la}比{lb}{word}。", []
    return f"{la}比{lb}{word}{_amount(d)}（计算：{d.formula}）。", [d]


def _amount(d: Derived) -> str:
    """A computed amount with its unit; one in 元 of ten thousand or more also in 万元, as citizens and the
    narratives count money ("30964500.00元（即3096.45万元）")."""
    said = f"{fmt(d.value, d.measure)}{d.measure}"
    if d.measure != "元" or abs(d.value) < _WAN:
        return said
    return f"{said}（即{fmt(d.value / _WAN, '万元')}万元）"


_WAN = Decimal(10000)


def _term(o: Operand) -> Derived:
    """The operand as a term of the relation's computation: its printed figure, or the computation that gave
    it (last year's figure from a change, a concept's sum of parts), recomputed by the checker from its facts."""
    return of_fact(o.fact) if o.fact is not None else o.draft.derived[0]


def _summable(operands: Sequence[Operand]) -> bool:
    try:
        combine("sum", [_term(o) for o in operands])
    except ArithmeticError_:
        return False  # 万元 and 人: no total
    return True


def _extreme(values: Sequence[Decimal], least: bool) -> tuple[int, str]:
    """Where the largest (or smallest) value is, and the word that says so."""
    pick = min if least else max
    return pick(range(len(values)), key=lambda k: values[k]), "最少" if least else "最多"


def _shown(o: Operand) -> str:
    if o.fact is not None:
        return f"{o.fact.value.strip()}{o.fact.measure}"
    return f"{fmt(o.value, o.measure)}{o.measure}"


def _labels(operands: Sequence[Operand]) -> list[str]:
    """What tells the operands apart: the unit where units differ, the year where years differ, then the item
    ("湖州市交通运输局公务接待费", "2025年机关运行经费")."""
    units = len({o.target.ref.name for o in operands}) > 1
    scopes = len({o.target.scope for o in operands}) > 1  # 本级 and 部门: a unit's two documents
    years = len({_year_of(o) for o in operands}) > 1
    one_item = len({o.item.text for o in operands}) == 1  # one item asked: named alike, as the question names it
    out = []
    for o in operands:
        parts = [o.target.ref.name if units else "", o.target.scope if scopes else "",
                 f"{_year_of(o)}年" if years and _year_of(o) else "",
                 _asked(o.item) if one_item else _item_of(o)]
        out.append("".join(parts))
    return out


def _year_of(o: Operand) -> int | None:
    return o.target.year if o.target.prior or o.fact is None else (o.fact.year or o.target.year)


def _item_of(o: Operand) -> str:
    """The item as the documents name it (its identity: a transposed table's column, not its 合计 row); a
    total, a long label or a computed figure by the question's own word."""
    if o.fact is not None:
        label = _printed_item(o.fact)
        if label and not has_any(label, "total_word") and len(label) <= 16:
            return label
    return _asked(o.item)


def _asked(item: Item) -> str:
    return item.labels[0] if item.vocab and item.labels else item.text


def _printed_item(f: Fact) -> str:
    return clean_label(identity_of(f).item)


def _ranked_parts(query: Query, catalog: Catalog, t: Target, item: Item) -> Draft | None:
    """"三公经费里哪项最多": the concept's parts (concepts.toml [concept.parts]) as one table prints them,
    each figure stated, the largest (or smallest) named."""
    from budgetqa.answer.answerer import Draft

    concept = concept_of(item)
    if concept is None or concept.parts is None:
        return None
    wanted = [item_key(w) for w in concept.parts.items]
    by_table: dict[str, dict[str, Fact]] = {}
    for f in matching(catalog, t, concept.parts):
        meta = catalog.docs.get(f.doc)
        key = item_key(identity_of(f, meta.subunits if meta else ()).item)
        by_table.setdefault(f.table, {}).setdefault(key, f)
    table = next((name for name, got in by_table.items() if all(w in got for w in wanted)), None)
    if table is None:
        return None
    parts = [by_table[table][w] for w in wanted]
    try:
        values = [in_measure(p, parts[0].measure) for p in parts]
    except ArithmeticError_:
        return None
    best, word = _extreme(values, query.relation == "least")
    year = f"{parts[0].year}年" if parts[0].year else ""
    names = [_printed_item(p) for p in parts]
    each = "，".join(f"{n}{p.value.strip()}{p.measure}" for n, p in zip(names, parts, strict=True))
    tied = [k for k in range(len(parts)) if values[k] == values[best] and k != best]
    top = "、".join(names[k] for k in (best, *tied))
    text = (f"{t.ref.name}{year}{parts[0].kind or ''}{concept.id}（{table}）分为{'、'.join(names)}："
            f"{each}；其中{top}{word}，为{parts[best].value.strip()}{parts[best].measure}。")
    return Draft("answered", text, tuple(parts), unit=t.ref.name)


def _parts_looked_up(query: Query, t: Target, item: Item, lookup: Lookup) -> Draft | None:
    """"三公经费里哪项最多" where no one table prints every part (a narrative that states them one by one, a
    table whose cells the text layer dropped): each part the concept names is an operand of its own, looked
    up and checked alone; the largest (or smallest) is named only when every part is found (a part left out
    could be the largest)."""
    concept = concept_of(item)
    if concept is None or concept.parts is None:
        return None
    parts = [(t, _part_item(w)) for w in concept.parts.items]
    operands = _operands(query, parts, lookup)
    if operands is None:
        return None
    return _reply(query, operands)


def _part_item(word: str) -> Item:
    """A concept's part as an item: the vocabulary entry one of whose labels has the part's key (so the
    citizens' and the documents' variants of its label are all tried), else the word itself."""
    key = item_key(word)
    vocab = load_vocabulary()
    for name, entry in vocab.items.items():
        labels = tuple(dict.fromkeys(norm(x) for x in (*entry.get("labels", ()), name)))
        if any(item_key(x) == key for x in labels):
            return Item(name, labels, entry.get("table", ""), vocab=True)
    return Item(word, (norm(word),))


def asks_comparison(query: Query) -> bool:
    """A question the operands answer: it asks a relation and is not a change, share or text question (those
    have their own answers), or it asks the sum of two or more figures ("A和B加起来", "A加上B一共") — each
    looked up on its own, as a one-item question would be, then added in the open."""
    if not query.items:
        return False
    if query.qtype == "sum":
        return len(query.targets) * len(query.items) >= 2
    return bool(query.relation) and query.qtype not in _OWN_ANSWER


_OWN_ANSWER = ("text", "growth", "sum", "average", "ratio")
