"""Figures the document prints that the question could also compute: a share ("占59.01%").

"基本支出占比多少" is answered with the percentage the document prints beside the figure; computing
X ÷ a total is only the fallback, because the total the document divided by is not always the one a
reader would pick (本年收入合计 against 收入总计).
"""

from __future__ import annotations

from dataclasses import dataclass

from budgetqa.catalog import Catalog, norm
from budgetqa.index.model import Fact
from budgetqa.understand.understander import Item, Target

SHARE_WORD = "占"


@dataclass(frozen=True)
class Share:
    part: Fact | None  # the figure the share is of, when the sentence prints it
    share: Fact  # the printed percentage
    whole: str  # what it is a share of, as the document words it ("" = the sentence's total)


def printed_share(catalog: Catalog, target: Target, part: Item, whole: Item | None) -> Share | None:
    """The percentage printed for the item ("其他收入144万元，占5.02%"), of the whole the question names if it
    names one (in the share's label or its sentence), else of the sentence's total."""
    labels = [x for x in dict.fromkeys((*part.labels, norm(part.text))) if len(x) >= 2]
    wholes = [x for x in ((*whole.labels, norm(whole.text)) if whole else ()) if len(x) >= 2]
    best: tuple[int, Fact] | None = None
    for d in target.docs:
        for f in catalog.facts.get(d, []):
            if f.source != "text" or f.measure != "%" or f.number is None:
                continue
            row = norm(f.row)
            head, _, tail = row.partition(SHARE_WORD)
            rank = _rank(head, labels)
            if not tail and not row.endswith(SHARE_WORD) or rank is None:
                continue
            if wholes and not any(w in (tail or norm(f.quote)) for w in wholes):
                continue
            if best is None or rank < best[0]:
                best = (rank, f)
    if best is None:
        return None
    share = best[1]
    return Share(_part_of(catalog, share), share, share.row.partition(SHARE_WORD)[2])


def _rank(head: str, labels: list[str]) -> int | None:
    """How well the words before 占 name the item: its label (by the label's rank), else ending in it after
    a qualifier the sentence puts in front ("本年其他收入占" for 其他收入), after every exact label."""
    if head in labels:
        return labels.index(head)
    ends = [i for i, lab in enumerate(labels) if len(lab) >= 3 and head.endswith(lab)]
    return len(labels) + ends[0] if ends else None


def _part_of(catalog: Catalog, share: Fact) -> Fact | None:
    """The money figure the share follows in its sentence."""
    head = norm(share.row).partition(SHARE_WORD)[0]
    same = [f for f in catalog.facts.get(share.doc, []) if f.source == "text" and f.quote == share.quote
            and norm(f.row) == head and f.yuan is not None]
    return same[-1] if same else None
