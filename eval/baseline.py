"""`budgetqa eval --baseline naive`: the RAG a user might build instead, for comparison.

The naive pipeline: raw document text cut into fixed 500-character chunks
(RecursiveCharacterTextSplitter, no overlap), dense retrieval only with the same packaged
embedding model, an in-memory vector store, top 5. We measure retrieval recall@5 for it and for
our engine: a question counts when the top-5 texts hold every gold figure (in 元 or 万元 form, as
the tables print either) and every 'must' string. Arithmetic questions and unanswerable ones have
no figure to find in the source, so they are left out of recall.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from budgetqa.eval.scoring import GoldItem

if TYPE_CHECKING:
    from budgetqa.config import Settings
    from budgetqa.eval.harness import ItemResult

K = 5
CHUNK_SIZE = 500
RECALL_TYPES = ("lookup", "compare", "text")
_NUMBER = re.compile(r"-?\d[\d,，]*(?:\.\d+)?")
_WAN = 10_000.0


@dataclass(frozen=True)
class RecallResult:
    system: str
    hits: int
    total: int
    accuracy: float | None = None  # answer accuracy, for systems that answer

    @property
    def recall(self) -> float:
        return self.hits / self.total if self.total else 0.0


# ---------------------------------------------------------------- figure matching
def _numbers(text: str) -> list[float]:
    out = []
    for m in _NUMBER.finditer(text.replace(" ", "")):
        try:
            out.append(float(m.group().replace(",", "").replace("，", "")))
        except ValueError:
            continue
    return out


def figure_in(text: str, value: float, measure: str, nums: list[float] | None = None) -> bool:
    """True when `text` prints the figure, as printed or converted between 元 and 万元."""
    nums = _numbers(text) if nums is None else nums
    if measure == "万元":
        # A 元 table prints the exact amount; it rounds to the 万元 figure at 2 decimals.
        return any(abs(x - value) <= 0.005 or abs(x / _WAN - value) <= 0.00501 for x in nums)
    if measure == "亿元":
        return any(abs(x - value) <= 0.005 or abs(x / _WAN - value * _WAN) <= 0.00501 for x in nums)
    if measure == "元":
        return any(abs(x - value) <= 0.005 or abs(x * _WAN - value) <= 50.0 for x in nums)
    return any(abs(x - value) <= 0.005 for x in nums)


def item_found(item: GoldItem, texts: Sequence[str]) -> bool:
    joined = "\n".join(texts)
    nums = _numbers(joined)
    return (all(figure_in(joined, v, u, nums) for v, u in item.values)
            and all(s in joined for s in item.must))


def recall_items(items: Iterable[GoldItem]) -> list[GoldItem]:
    return [i for i in items if i.type in RECALL_TYPES and (i.values or i.must)]


# ---------------------------------------------------------------- the naive pipeline
def raw_text(path: Path) -> str:
    """The text a user's loader would give: PDF text layer, HTML visible text, else the file."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        import fitz  # PyMuPDF

        with fitz.open(path) as pdf:
            return "\n".join(page.get_text() for page in pdf)
    data = path.read_text(encoding="utf-8", errors="replace")
    if suffix in (".html", ".htm"):
        from bs4 import BeautifulSoup

        return BeautifulSoup(data, "lxml").get_text("\n")
    return data


class NaiveRAG:
    """Fixed-size chunks, dense-only retrieval, in-memory store."""

    def __init__(self, paths: Sequence[Path]) -> None:
        from budgetqa.index.store.embeddings import get_embeddings
        from langchain_core.vectorstores import InMemoryVectorStore
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=0)
        self.store = InMemoryVectorStore(get_embeddings())
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for path in paths:
            for chunk in splitter.split_text(raw_text(path)):
                texts.append(chunk)
                metas.append({"doc": path.name})
        self.store.add_texts(texts, metadatas=metas)
        self.chunks = len(texts)

    def search(self, question: str, k: int = K) -> list[str]:
        return [d.page_content for d in self.store.similarity_search(question, k=k)]


def corpus_files(corpus: Sequence[Path]) -> list[Path]:
    """The files given (folders expanded like `budgetqa index` does), else the bundled corpus."""
    from budgetqa.index.store.ingest import default_corpus, expand

    files, _skipped, _missing = expand(list(corpus) or default_corpus())
    return files


def covered(item: GoldItem, files: Sequence[Path]) -> bool:
    """Whether the item's gold document is among the files (score.py's stem rule); True when unnamed."""
    if item.doc is None:
        return True
    stem = item.doc if "-" in item.doc else item.doc + "_"
    return any(f.name.startswith(stem) for f in files)


# ---------------------------------------------------------------- our side
def hit_text(hit: Any) -> str:
    """Text of one retrieval hit, whatever shape the retriever returns."""
    if isinstance(hit, str):
        return hit
    if isinstance(hit, tuple) and hit:
        return hit_text(hit[0])
    for attr in ("page_content", "text", "quote"):
        value = getattr(hit, attr, None)
        if isinstance(value, str):
            return value
    return str(hit)


def citation_texts(answer: dict[str, Any]) -> list[str]:
    return [" ".join(str(c.get(k) or "") for k in ("section", "table", "row", "quote"))
            for c in answer.get("citations") or []][:K]


def ours_search(settings: Settings) -> Callable[[str], list[str]]:
    from budgetqa.answer.retrieve import HybridRetriever
    from budgetqa.index.store.database import FactStore

    retriever = HybridRetriever(settings, FactStore(settings.store_path))
    return lambda q: [hit_text(h) for h in retriever.search(q, k=K)]


def compare_retrieval(items: Sequence[GoldItem], settings: Settings, results: Sequence[ItemResult],
                      corpus: Sequence[Path] = (), echo: Callable[[str], None] = print) -> list[RecallResult]:
    """Recall@5 of our engine and of the naive RAG over the same files and the same questions."""
    paths = corpus_files(corpus)
    targets = [i for i in recall_items(items) if covered(i, paths)]
    by_id = {r.item.id: r for r in results}
    accuracy = sum(r.correct for r in results) / len(results) if results else 0.0
    out = [RecallResult("budgetqa (citations)",
                        sum(item_found(i, citation_texts(by_id[i.id].answer)) for i in targets if i.id in by_id),
                        len(targets), accuracy)]
    try:
        search = ours_search(settings)
        out.append(RecallResult("budgetqa (HybridRetriever top-5)",
                                sum(item_found(i, search(i.q)) for i in targets), len(targets)))
    except ImportError as exc:
        echo(f"跳过本系统检索器召回率：{exc}")
    echo(f"朴素 RAG：{len(paths)} 个文件，按 {CHUNK_SIZE} 字切块，仅向量检索 top-{K}")
    naive = NaiveRAG(paths)
    out.append(RecallResult(f"naive RAG ({naive.chunks} chunks)",
                            sum(item_found(i, naive.search(i.q)) for i in targets), len(targets)))
    return out
