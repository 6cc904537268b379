"""Arithmetic over facts: sums, differences, ratios, growth and averages, with the formula shown.

All in Decimal. Money facts are brought to one measure (the first input's) before computing, so a
table in 元 and a narrative in 万元 can be combined; the checker recomputes every result from the
same facts, so a printed result is only trusted when it follows from its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from budgetqa.index.model import MONEY_FACTORS, Fact

Op = Literal["sum", "difference", "ratio", "growth", "average", "per", "times"]
TWO = Decimal("0.01")


@dataclass(frozen=True)
class Derived:
    """A computed figure: the operation and the facts it was computed from. With `terms`, the operation
    applies to the terms' values (an operand that is itself computed: last year's figure from a change, a
    concept's sum of parts); `inputs` then holds all their facts, for citations."""

    op: Op
    inputs: tuple[Fact, ...]
    value: Decimal
    measure: str
    formula: str
    terms: tuple[Derived, ...] = ()


class ArithmeticError_(ValueError):
    """Inputs that cannot be combined (no number, different measures, division by zero)."""


def in_measure(fact: Fact, measure: str) -> Decimal:
    """The fact's value in `measure` (元/万元/亿元 converted; other measures must be equal)."""
    n = fact.number
    if n is None:
        if fact.source == "table" and fact.value.strip() in ("", "-", "—"):
            return Decimal(0)  # budget tables print zero as blank
        raise ArithmeticError_(f"“{fact.row}”没有数值")
    if fact.measure == measure:
        return n
    if fact.measure in MONEY_FACTORS and measure in MONEY_FACTORS:
        return n * MONEY_FACTORS[fact.measure] / MONEY_FACTORS[measure]
    raise ArithmeticError_(f"“{fact.row}”的计量单位（{fact.measure}）与{measure}不同，不能直接计算")


def compute(op: Op, inputs: Sequence[Fact], measure: str | None = None) -> Derived:
    if not inputs:
        raise ArithmeticError_("没有可计算的数值")
    m = measure or inputs[0].measure
    if op == "per":  # an amount per counted thing: 资金 ÷ 项目个数
        return _per(inputs, m)
    value, out_m, formula = _apply(op, [in_measure(f, m) for f in inputs], m)
    return Derived(op, tuple(inputs), round2(value), out_m, formula)


def of_fact(f: Fact) -> Derived:
    """A printed figure as a term of a computation (its value as printed)."""
    return Derived("sum", (f,), in_measure(f, f.measure), f.measure, "")


def combine(op: Op, terms: Sequence[Derived]) -> Derived:
    """The operation over terms, each a printed figure (`of_fact`) or itself computed; the checker recomputes
    every term from its own facts (`recompute`), so a computed operand is trusted only as far as they are."""
    if not terms or op == "per":
        raise ArithmeticError_("没有可计算的数值")
    m = terms[0].measure
    xs = [_term_in(recompute(t), m) for t in terms]
    value, out_m, formula = _apply(op, xs, m)
    inputs = tuple(dict.fromkeys(f for t in terms for f in t.inputs))
    return Derived(op, inputs, round2(value), out_m, formula, tuple(terms))


def recompute(d: Derived) -> Derived:
    """The computation again from its facts, never from the stated value."""
    if d.terms:
        return combine(d.op, d.terms)
    if d.op == "sum" and len(d.inputs) == 1 and not d.formula:
        return of_fact(d.inputs[0])
    return compute(d.op, d.inputs)


def _term_in(t: Derived, measure: str) -> Decimal:
    if t.measure == measure:
        return t.value
    if t.measure in MONEY_FACTORS and measure in MONEY_FACTORS:
        return t.value * MONEY_FACTORS[t.measure] / MONEY_FACTORS[measure]
    raise ArithmeticError_(f"计量单位（{t.measure}）与{measure}不同，不能直接计算")


def _apply(op: Op, xs: Sequence[Decimal], m: str) -> tuple[Decimal, str, str]:
    """The operation over values in measure m: (value, its measure, the formula shown)."""
    shown = [f"{_fmt(x, m)}{m}" for x in xs]
    if op == "sum":
        value, out_m = sum(xs, Decimal(0)), m
        formula = " + ".join(shown) + f" = {_fmt(value, out_m)}{out_m}"
    elif op == "average":
        value, out_m = sum(xs, Decimal(0)) / len(xs), m
        formula = f"({' + '.join(shown)}) ÷ {len(xs)} = {_fmt(value)}{out_m}"
    elif len(xs) != 2:
        raise ArithmeticError_("需要恰好两个数值")
    elif op == "difference":
        value, out_m = xs[0] - xs[1], m
        formula = f"{shown[0]} - {shown[1]} = {_fmt(value, out_m)}{out_m}"
    elif op == "ratio":
        if xs[1] == 0:
            raise ArithmeticError_("分母为零，无法计算占比")
        value, out_m = xs[0] / xs[1] * 100, "%"
        formula = f"{shown[0]} ÷ {shown[1]} × 100 = {_fmt(value)}%"
    elif op == "times":  # "A是B的几倍": a multiple, not a share
        if xs[1] == 0:
            raise ArithmeticError_("作比较的数为零，无法计算倍数")
        value, out_m = xs[0] / xs[1], "倍"
        formula = f"{shown[0]} ÷ {shown[1]} = {_fmt(value)}倍"
    else:  # growth of xs[0] (later) over xs[1] (earlier)
        if xs[1] == 0:
            raise ArithmeticError_("上一期为零，无法计算增长率")
        value, out_m = (xs[0] - xs[1]) / xs[1] * 100, "%"
        formula = f"({shown[0]} - {shown[1]}) ÷ {shown[1]} × 100 = {_fmt(value)}%"
    return value, out_m, formula


def _per(inputs: Sequence[Fact], m: str) -> Derived:
    if len(inputs) != 2 or not inputs[1].number:
        raise ArithmeticError_("需要一个金额和一个不为零的个数")
    amount, count = in_measure(inputs[0], m), inputs[1].number
    value = amount / count
    formula = f"{_fmt(amount)}{m} ÷ {count.normalize():f}{inputs[1].measure} = {_fmt(value)}{m}"
    return Derived("per", tuple(inputs), round2(value), m, formula)


def round2(x: Decimal) -> Decimal:
    return x.quantize(TWO, rounding=ROUND_HALF_UP)


def _fmt(x: Decimal, measure: str = "") -> str:
    if measure and measure not in MONEY_FACTORS and measure != "%" and x == x.to_integral_value():
        return f"{x.to_integral_value():f}"  # 320人, not 320.00人
    return f"{round2(x):f}"


def fmt(x: Decimal, measure: str = "") -> str:
    """A computed figure as printed in answers: two decimals (counts as integers), no separators."""
    return _fmt(x, measure)
