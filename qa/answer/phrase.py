"""The item a figure is said under, when its row names the unit rather than the item.

A table of units (西安 表13: one row per unit, 上年 / 当年 / 增减 groups across, 会议费 and 培训费 under
each) prints a sub-unit's figures on the row that names it: row "西安市政府债务管理中心", column
"当年/会议费". The answer reads unit, year, table, item: "西安市政府债务管理中心2026年…中，会议费预算为…",
never the column path after the unit's name. The fact identity (budgetqa.index.extract.identity) already
reads such rows across; this says its item and column role in words.
"""

from __future__ import annotations

from budgetqa.catalog import norm
from budgetqa.index.extract.identity import identity_of
from budgetqa.index.extract.owners import OWN_LEVEL
from budgetqa.index.model import Fact

# column roles said around the item: last year's figure and the change are not the year's own
_BEFORE = {"上年": "上年"}
_AFTER = {"增减": "比上年增减"}


def item_across(f: Fact, unit: str, label: str) -> str | None:
    """The item of a figure whose row (`label`, as shown) names the unit asked, its parent or its 本级;
    None when the row is the item."""
    own = {norm(unit), norm(f.unit)}
    key = norm(label)
    # the line of the unit owning the figure, its name maybe cut short in its cell ("中共西安市委")
    owned = bool(f.owner) and bool(key) and (key in norm(f.owner) or (f.owner == OWN_LEVEL and norm(f.unit).startswith(key)))
    home = key in ("本级", norm(f.unit) + "本级") or (owned and f.owner == OWN_LEVEL)  # the department's own line
    if f.source != "table" or not f.column or not (key in own or home or owned):
        return None
    ident = identity_of(f, (label,))
    if ident.subunit is None and key != norm(f.unit):
        return None
    item = ident.item
    if not item or norm(item) == key:
        return None
    return ("本级" if home else "") + _BEFORE.get(ident.column, "") + item + _AFTER.get(ident.column, "")
