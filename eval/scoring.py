"""Gold-set loading and scoring rules, kept identical to ../shared/score.py.

The judge scores answers with score.py, so every rule here (number regex, 元/万元 conversion and
tolerances, the not-found phrases, citation by document stem or unit) is copied from it on purpose
and works on floats like it does; tests/test_eval.py checks both give the same verdicts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TYPES = ("lookup", "arith", "compare", "text", "unanswerable")

NUM = re.compile(r'(-?\d[\d,，]*(?:\.\d+)?)\s*(亿元|万元|元|%|％|人次|人|批次|批|个|次|辆|件)?')
CURRENCY = {'亿元': 10000.0, '万元': 1.0, '元': 0.0001}
NOT_FOUND = re.compile(r'未找到|没有找到|找不到|无法回答|无法找到|未提供|没有相关|不包含|未包含|没有.*(数据|信息|资料)|暂无|not found', re.I)


@dataclass(frozen=True)
class GoldItem:
    id: str
    type: str
    q: str
    values: tuple[tuple[float, str], ...] = ()
    must: tuple[str, ...] = ()
    doc: str | None = None
    unit: str | None = None

    def expected_text(self) -> str:
        if self.type == "unanswerable":
            return "（应答：未找到）"
        parts = [f"{v:g}{u}" for v, u in self.values] + [f"含“{s}”" for s in self.must]
        return "；".join(parts)


@dataclass(frozen=True)
class InvalidLine:
    line: int
    id: str | None
    reason: str


def load_gold(path: Path) -> tuple[list[GoldItem], list[InvalidLine]]:
    """Parse a gold JSONL file; a bad line becomes an InvalidLine and loading goes on."""
    items: list[GoldItem] = []
    invalid: list[InvalidLine] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = parse_gold(json.loads(line))
        except json.JSONDecodeError as exc:
            invalid.append(InvalidLine(number, None, f"不是合法的 JSON：{exc.msg}"))
            continue
        except GoldError as exc:
            invalid.append(InvalidLine(number, exc.qid, str(exc)))
            continue
        if item.id in seen:
            invalid.append(InvalidLine(number, item.id, "id 重复"))
            continue
        seen.add(item.id)
        items.append(item)
    return items, invalid


class GoldError(ValueError):
    def __init__(self, qid: str | None, reason: str) -> None:
        super().__init__(reason)
        self.qid = qid


def parse_gold(obj: Any) -> GoldItem:
    if not isinstance(obj, dict):
        raise GoldError(None, "应是 JSON 对象")
    qid = obj.get("id")
    if not isinstance(qid, str) or not qid:
        raise GoldError(None, "缺少字符串 id")
    kind = obj.get("type")
    if kind not in TYPES:
        raise GoldError(qid, f"未知题型 {kind!r}（应为 {'、'.join(TYPES)}）")
    q = obj.get("q")
    if not isinstance(q, str) or not q.strip():
        raise GoldError(qid, "缺少问题 q")
    values = _values(qid, obj.get("values", []))
    must = obj.get("must", [])
    if not isinstance(must, list) or not all(isinstance(s, str) and s for s in must):
        raise GoldError(qid, "must 应是字符串列表")
    if kind != "unanswerable" and not values and not must:
        raise GoldError(qid, f"{kind} 题缺少 values 或 must")
    doc, unit = obj.get("doc"), obj.get("unit")
    if doc is not None and not isinstance(doc, str) or unit is not None and not isinstance(unit, str):
        raise GoldError(qid, "doc 与 unit 应是字符串")
    return GoldItem(qid, kind, q, values, tuple(must), doc, unit)


def _values(qid: str, raw: Any) -> tuple[tuple[float, str], ...]:
    if not isinstance(raw, list):
        raise GoldError(qid, "values 应是 [数值, 计量单位] 的列表")
    out = []
    for pair in raw:
        ok = (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], (int, float))
              and not isinstance(pair[0], bool) and isinstance(pair[1], str))
        if not ok:
            raise GoldError(qid, f"values 中的 {pair!r} 应是 [数值, 计量单位]")
        out.append((float(pair[0]), pair[1]))
    return tuple(out)


def numbers(text: str) -> list[tuple[float, str]]:
    out = []
    for m in NUM.finditer(text or ''):
        raw = m.group(1).replace(',', '').replace('，', '')
        try:
            v = float(raw)
        except ValueError:
            continue
        out.append((v, m.group(2) or ''))
    return out


def has_value(text: str, value: float, unit: str) -> bool:
    """score.py's rule: the figure appears in the text with a compatible unit of measure."""
    for v, u in numbers(text):
        if unit in CURRENCY:
            want = value * CURRENCY[unit]
            if u in CURRENCY:
                if abs(v * CURRENCY[u] - want) <= max(0.006 * CURRENCY[unit], abs(want) * 1e-5):
                    return True
            elif u == '' and abs(v - value) <= 0.006 and (unit in text):
                return True
        elif unit == '%':
            if u in ('%', '％') and abs(v - value) <= 0.011:
                return True
        elif abs(v - value) < 1e-9 and (u == '' or u[0] == unit[0]):
            return True
    return False


def is_correct(item: GoldItem, answer: dict[str, Any]) -> bool:
    text = answer.get('answer') or ''
    status = answer.get('status', '')
    if item.type == 'unanswerable':
        return status == 'not_found' or (status != 'answered' and bool(NOT_FOUND.search(text)))
    good = status != 'not_found'
    for v, u in item.values:
        good = good and has_value(text, v, u)
    for s in item.must:
        good = good and s in text
    return good


def is_cited(item: GoldItem, answer: dict[str, Any]) -> bool | None:
    """None when the gold item names no document (not counted)."""
    if item.doc is None:
        return None
    docs = ' '.join(json.dumps(c, ensure_ascii=False) for c in (answer.get('citations') or []))
    stem = item.doc if '-' in item.doc else item.doc + '_'
    return stem in docs or (item.unit or '\0') in docs
