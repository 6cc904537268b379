"""Citizens' words for items through the understander, with and without the embedding fallback.

    BUDGETQA_HOME=… python -m budgetqa.eval.bench_items [--threshold 0.88]

Each line of eval/item_words.jsonl ("招待客人花的钱" -> 公务接待费) is asked as "福州市医疗保障局的<words>是多少"
over the indexed corpus (index the bundled corpus first). Top-1 = the first item the understander finds names
one of the right labels. Printed: top-1 with the vocabulary and the documents' labels only, then with the
nearest vocabulary phrase (item_match.PhraseMatcher) as the fallback, how many fallbacks were wrong, and the
time the fallback adds (first call, which embeds the phrases, and warm calls).
"""

from __future__ import annotations

import argparse
import time
from statistics import median

from budgetqa.catalog import Catalog, norm
from budgetqa.config import load_settings
from budgetqa.eval.bench_embed import load_cases
from budgetqa.index.store.ingest import open_store
from budgetqa.understand.item_match import PHRASE_MIN, PhraseMatcher, get_item_matcher
from budgetqa.understand.understander import Understander, load_vocabulary

UNIT = "福州市医疗保障局"


def _hit(u: Understander, words: str, labels: tuple[str, ...]) -> tuple[bool, bool]:
    """(found an item, the first item names a right label)."""
    q = u.understand(f"{UNIT}的{words}是多少")
    if not q.items or q.problem:
        return False, False
    item = q.items[0]
    want = {norm(x) for x in labels}
    return True, bool(want & {norm(x) for x in (*item.labels, item.text)})


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threshold", type=float, default=PHRASE_MIN)
    args = ap.parse_args(argv)
    settings = load_settings()
    catalog = Catalog(open_store(settings))
    cases = load_cases()
    plain = Understander(catalog)
    phrases = PhraseMatcher(get_item_matcher(settings), sorted(load_vocabulary().items), args.threshold)
    t0 = time.perf_counter()
    phrases("加载")  # the model and the phrase vectors
    first_s = time.perf_counter() - t0
    timed: list[float] = []

    def nearest(words: str) -> str | None:
        t = time.perf_counter()
        try:
            return phrases(words)
        finally:
            timed.append(time.perf_counter() - t)

    fallback = Understander(catalog, nearest=nearest)
    n = len(cases)
    top_plain = top_fb = wrong_fb = 0
    misses = []
    for c in cases:
        _, ok = _hit(plain, c.words, c.labels)
        found, ok_fb = _hit(fallback, c.words, c.labels)
        top_plain += ok
        top_fb += ok_fb
        wrong_fb += found and not ok_fb and not ok
        if not ok_fb:
            misses.append(c.words)
    print(f"item_words {n} 条（{UNIT}）：仅词表+文件标签 top-1 {top_plain}/{n} = {top_plain / n:.2f}；"
          f"加嵌入兜底（阈值 {args.threshold}）top-1 {top_fb}/{n} = {top_fb / n:.2f}，兜底给错 {wrong_fb} 条")
    if timed:
        print(f"兜底调用 {len(timed)} 次：首次（加载模型、嵌入词表短语）{first_s:.2f}s，"
              f"之后每次中位数 {median(timed) * 1000:.0f}ms，最长 {max(timed) * 1000:.0f}ms")
    print(f"仍未命中：{'；'.join(misses[:20])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
