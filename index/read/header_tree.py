"""Multi-level table headers from cells listed level by level (raw PDF text order).

PyMuPDF lists a header row by row: 预算数 决算数 / 合计 因公出国（境）费 公务用车购置及运行费 … /
小计 公务用车购置费 …. A level starts at a 合计/小计 cell; its blocks (each opening with 合计/小计)
hang under the parent cells of the level above whose wording they share most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import combinations

TOTALS = ("合计", "小计")


@dataclass
class Node:
    name: str
    children: list[Node] = field(default_factory=list)


def leaf_names(names: list[str], width: int) -> list[str] | None:
    levels = _levels(names)
    if len(levels) < 2:
        return None
    roots = [Node(n) for n in levels[0]]
    parents = roots
    for level in levels[1:]:
        nodes = [Node(n) for n in level]
        if not _attach(parents, _blocks(nodes)):
            return None
        parents = nodes
    leaves = [path for r in roots for path in _paths(r, ())]
    return ["/".join(p) for p in leaves] if len(leaves) == width else None


def _levels(names: list[str]) -> list[list[str]]:
    """A total cell opens the next level, unless it starts a repeat of the level's first block
    (预算数 and 决算数 each get the same 合计 … block)."""
    levels: list[list[str]] = [[]]
    for i, n in enumerate(names):
        level = levels[-1]
        if n in TOTALS and level:
            first = _first_block(level)
            repeat = n in level and first[0] in TOTALS and names[i : i + len(first)] == first
            if not repeat:
                levels.append([])
        levels[-1].append(n)
    return levels


def _first_block(level: list[str]) -> list[str]:
    out = level[:1]
    for n in level[1:]:
        if n in TOTALS:
            break
        out.append(n)
    return out


def _blocks(nodes: list[Node]) -> list[list[Node]]:
    blocks: list[list[Node]] = []
    for n in nodes:
        if n.name in TOTALS or not blocks:
            blocks.append([])
        blocks[-1].append(n)
    return blocks


def _attach(parents: list[Node], blocks: list[list[Node]]) -> bool:
    candidates = [p for p in parents if p.name not in TOTALS]
    start = 0
    for block in blocks:
        words = set("".join(n.name for n in block))
        scored = [(len(set(p.name) & words), -k) for k, p in enumerate(candidates[start:], start)]
        if not scored:
            return False
        _, neg = max(scored)
        candidates[-neg].children.extend(block)
        start = -neg + 1
    return True


def _paths(node: Node, prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    here = (*prefix, node.name)
    if not node.children:
        return [here]
    return [p for c in node.children for p in _paths(c, here)]


def sum_rules(names: list[str], leaves: list[str]) -> list[tuple[int, list[int]]]:
    """(total column, columns it adds up): a 小计/合计 leaf sums its sibling subtrees."""
    rules: list[tuple[int, list[int]]] = []
    for i, leaf in enumerate(leaves):
        parts = leaf.split("/")
        if parts[-1] not in TOTALS and not (i == 0 and len(parts) == 1 and "合计" in leaf):
            continue
        prefix = "/".join(parts[:-1])
        members: list[int] = []
        seen: set[str] = set()
        for j, other in enumerate(leaves):
            if j == i or not other.startswith(prefix):
                continue
            rest = other[len(prefix):].strip("/").split("/")
            if len(rest) == 1 or rest[-1] in TOTALS:
                members.append(j)
                seen.add(rest[0])
        if members:
            rules.append((i, members))
    return rules


def place(values: list[str], names: list[str], leaves: list[str], width: int) -> list[str]:
    """Put a row's figures into columns. PyMuPDF drops empty cells, so a short row is placed
    where the header's 小计/合计 sums hold, when exactly one placement makes them all hold.
    Otherwise only the first figure (the row's total column) is kept: a figure in the wrong
    column is worse than a missing one, and the row's quote still shows every figure."""
    if len(values) >= width or not values:
        return values + [""] * (width - len(values))
    rules = sum_rules(names, leaves)
    if rules and width - len(values) <= 3 and all(_dec(v) is not None for v in values):
        good = [cells for gaps in combinations(range(width), width - len(values))
                if all(_holds(cells := _fill(values, gaps, width), t, parts) for t, parts in rules)]
        if len(good) == 1:
            return good[0]
    return values[:1] + [""] * (width - 1)


def _fill(values: list[str], gaps: tuple[int, ...], width: int) -> list[str]:
    it = iter(values)
    return ["" if k in gaps else next(it) for k in range(width)]


def _holds(cells: list[str], total: int, parts: list[int]) -> bool:
    t = _dec(cells[total]) or Decimal(0)
    s = sum((_dec(cells[p]) or Decimal(0) for p in parts), Decimal(0))
    return abs(t - s) <= Decimal("0.011") * max(1, len(parts))


def _dec(s: str) -> Decimal | None:
    try:
        return Decimal(s.replace(",", "").rstrip("%")) if s else None
    except InvalidOperation:
        return None
