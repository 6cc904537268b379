"""The lexical index: BM25 over jieba words + CJK bigrams, kept on disk in the store and read on demand.

Budget questions are lexical ("公务接待费", "30217"), so this is the main search signal. Each chunk is
tokenised once, when its document is indexed: jieba words (search mode) plus the character bigrams of
every CJK run, with the document's own row labels added to jieba's dictionary so "一般公共预算拨款"
stays one token. The tokens live in the store next to the chunk, and in a full-text index of postings
(SQLite FTS5 / a PostgreSQL table), so adding or replacing a document touches only its own rows and
no whole-corpus file exists.

A search filtered to a unit or a document (every search the answerer makes) ranks just those chunks:
BM25 (rank_bm25's formula and idf floor) over the candidate set, with the query tokenised with the
candidates' own row labels. The scores then depend only on that unit's documents, never on how
many others are indexed, so an answer does not change as the corpus grows. An unfiltered search
ranks through the full-text index (its own BM25, k1 = 1.2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
from array import array
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from budgetqa.index.store.chunk import Chunk

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

TOKENIZER_VERSION = 5  # stored with the tokens: a change re-tokenises on the next `budgetqa index`
# jieba frequency for budget terms: high enough that a label stays whole in precise mode (search
# mode still adds its parts); suggest_freq() would be exact but costs a cut per term
TERM_FREQ = 100_000
_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORDISH = re.compile(r"\w")
_SPACE = re.compile(r"\s")  # what str.isspace() calls a space
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_LABEL_PREFIX = re.compile(r"^[\s\d０-９一二三四五六七八九十百]*[、.．)）]\s*|^[（(][一二三四五六七八九十\d]+[)）]\s*")
_TERM = re.compile(r"^[\u3400-\u9fff（）()“”、]{2,16}$")
# Question words that match prose everywhere ("安排了多少") and never the item asked about.
STOPWORDS = frozenset(["的", "了", "是", "吗", "呢", "啊", "呀", "吧", "么", "和", "与", "及", "或", "在", "有", "为", "对", "把", "被", "给", "我", "你", "他", "请", "问", "请问", "一下", "多少", "是多少", "有多少", "多少钱", "几", "什么", "哪些", "哪个", "怎么", "怎样", "如何", "安排", "安排了", "花", "花了", "用了", "钱", "金额", "数额", "情况", "加起来", "一共", "总共", "分别", "告诉", "查", "查询", "查一下", "这个", "那个", "这", "那", "其中", "共", "合起来"])
FILTER_KEYS = ("doc", "unit", "year", "kind", "chunk_type")
SCOPE_KEYS = ("doc", "unit")  # a filter on one of these is ranked over its candidates alone
CACHE_SIZE = 32  # filtered candidate sets (and their tokenizers) kept per process

# ---------------------------------------------------------------------------------------------
# tokenizer


class Tokenizer:
    """A private jieba instance (the global one is shared with other code) plus CJK bigrams."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        import jieba

        self._jieba, self._stock = _fresh_jieba()
        self._han, self._skip = jieba.re_han_default, jieba.re_skip_default  # how jieba.cut splits a text
        self._lock = threading.RLock()  # jieba's add_word and cut share mutable state
        self.vocabulary: set[str] = set()
        self.add_vocabulary(vocabulary)

    def add_vocabulary(self, terms: Iterable[str]) -> None:
        new = sorted({t for t in terms if t not in self.vocabulary})
        with self._lock:
            for term in new:
                self._stock.fill(self._jieba.FREQ, term)  # its prefixes keep their stock frequencies
                self._jieba.add_word(term, freq=TERM_FREQ)
        self.vocabulary.update(new)

    @contextmanager
    def terms_added(self, terms: Iterable[str]) -> Iterator[None]:
        """Within the block, `terms` are dictionary words too; afterwards the dictionary is exactly
        as before. Cheaper than a private jieba per document or per unit (a dictionary copy is
        ~0.2 s on a busy core) and it keeps one document's words out of another's tokens."""
        with self._lock:
            freq = self._jieba.FREQ
            saved: dict[str, int | None] = {}
            for term in terms:
                if term in self.vocabulary:
                    continue
                self._stock.fill(freq, term)  # saved and restored as the stock dictionary has them
                for i in range(1, len(term) + 1):
                    saved.setdefault(term[:i], freq.get(term[:i]))
            total = self._jieba.total
            for term in terms:
                if term not in self.vocabulary:
                    self._jieba.add_word(term, freq=TERM_FREQ)
            try:
                yield
            finally:
                for key, value in saved.items():
                    if value is None:
                        freq.pop(key, None)
                    else:
                        freq[key] = value
                self._jieba.total = total

    def content(self, text: str, drop: Iterable[str] = ()) -> str:
        """The text without question words (and without the `drop` phrases, e.g. a unit already
        applied as a filter): what the embedding model should read of a question."""
        for phrase in drop:
            text = text.replace(phrase, " ")
        with self._lock:
            self._stock.fill(self._jieba.FREQ, text)
            words = list(self._jieba.cut(text, HMM=False))
        kept = "".join(w if _WORDISH.search(w) and w not in STOPWORDS else " " for w in words)
        return " ".join(kept.split()) or text.strip()

    def cut(self, text: str, memo: dict[str, list[str]] | None = None) -> list[str]:
        """jieba's precise cut without HMM (what `jieba.cut(text, HMM=False)` yields), each run of
        word characters cut alone as jieba does; with `memo`, a run met before is not cut again. A
        document's chunks repeat their unit, table title and column path hundreds of times, so its
        tokens cost a third of the time. The memo is only valid while the dictionary is unchanged."""
        out: list[str] = []
        with self._lock:
            for block in self._han.split(text):
                if not block:
                    continue
                if not self._han.match(block):  # spaces and punctuation, as jieba yields them
                    for piece in self._skip.split(block):
                        out.extend([piece] if self._skip.match(piece) else piece)
                    continue
                words = memo.get(block) if memo is not None else None
                if words is None:
                    self._stock.fill(self._jieba.FREQ, block)
                    words = list(self._jieba.cut(block, HMM=False))
                    if memo is not None:
                        memo[block] = words
                out.extend(words)
        return out

    def __call__(self, text: str, memo: dict[str, list[str]] | None = None) -> list[str]:
        words = [w.strip() for w in self.cut(text.lower(), memo)]
        freq = self._jieba.FREQ
        tokens: list[str] = []
        for w in words:
            if not w or w in STOPWORDS or not _WORDISH.search(w) or w.isdigit():
                continue
            # jieba's search mode, inlined: the dictionary 2- and 3-grams of a long word, then the word
            if len(w) > 2:
                key = "\0" + w  # a word's grams, kept beside the runs' cuts (no run holds a NUL)
                grams = memo.get(key) if memo is not None else None
                if grams is None:
                    grams = [g for n in (2, 3) if len(w) > n
                             for g in (w[i:i + n] for i in range(len(w) - n + 1)) if freq.get(g)]
                    if memo is not None:
                        memo[key] = grams
                tokens.extend(grams)
            tokens.append(w)
        # numbers whole ("5.00", "30217", "1,353.26" -> "1353.26"): jieba splits them at the dot
        tokens.extend(n.replace(",", "") for n in _NUMBER.findall(text))
        # bigrams inside each run of kept words: "公务接待费" and "接待费" share "接待", "待费"
        run = ""
        for w in [*words, " "]:
            if w and w not in STOPWORDS and _CJK_RUN.fullmatch(w):
                run += w
                continue
            tokens.extend(run[i:i + 2] for i in range(len(run) - 1))
            run = ""
        return [t for t in tokens if not _SPACE.search(t)]


_stock: StockDictionary | None = None
_base_lock = threading.Lock()
_cache_dir: Path | None = None
DICTIONARY_CACHE = "jieba-dictionary"  # a folder under the home: trie.marisa, freq.bin, meta.json


def use_cache_dir(folder: Path | None) -> None:
    """Where the stock dictionary is kept (the store's home; set when a store is opened)."""
    global _cache_dir
    _cache_dir = folder


class StockDictionary:
    """jieba's prefix dictionary (every word and word prefix -> frequency, 500,000 entries) as a
    memory-mapped MARISA trie plus the frequencies by key id. Opening it takes milliseconds where
    loading the entries into a dict took 0.3 s idle and over a second on a busy machine (the
    indexer's largest fixed cost). A tokenizer's dict holds only the entries its texts reach
    (`fill`): jieba looks up nothing but substrings of the text it cuts, so the cut is the same."""

    def __init__(self, trie: Any, freqs: array, total: int, longest: int) -> None:
        self.trie, self.freqs, self.total, self.longest = trie, freqs, total, longest

    def fill(self, freq: dict[str, int], text: str) -> None:
        """Put into `freq` every dictionary entry that is a substring of `text` (those already there
        are kept: a tokenizer's added words win)."""
        prefixes, freqs, n = self.trie.iter_prefixes_with_ids, self.freqs, self.longest
        for k in range(len(text)):
            for word, i in prefixes(text[k:k + n]):
                if word not in freq:
                    freq[word] = freqs[i]


def _fresh_jieba() -> tuple[Any, StockDictionary]:
    """A jieba tokenizer whose dictionary is filled from the stock one as texts come (`fill`)."""
    import jieba

    global _stock
    with _base_lock:
        if _stock is None:
            jieba.setLogLevel(logging.WARNING)
            _stock = _stock_dictionary(jieba)
        fresh = jieba.Tokenizer()
        fresh.FREQ, fresh.total = {}, _stock.total
        fresh.initialized = True
    return fresh, _stock


def _stock_dictionary(jieba: Any) -> StockDictionary:
    """The stock dictionary from its folder under the home when it matches this jieba, else built
    from jieba's own (its marshal cache in the temp folder, or the dictionary text) and saved there:
    a fresh temp folder (CI, a container) no longer means rebuilding it from the text (3-4 s)."""
    import marisa_trie

    stamp = _dictionary_stamp(jieba)
    folder = _cache_dir / DICTIONARY_CACHE if _cache_dir is not None else None
    if folder is not None and (folder / "meta.json").is_file():
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta["stamp"] == list(stamp):
                trie = marisa_trie.Trie()
                trie.mmap(str(folder / "trie.marisa"))
                freqs = array("q")
                freqs.frombytes((folder / "freq.bin").read_bytes())
                if len(freqs) == len(trie):
                    return StockDictionary(trie, freqs, int(meta["total"]), int(meta["longest"]))
        except (OSError, ValueError, KeyError, TypeError, RuntimeError):
            pass
        log.warning("分词词典缓存无法读取，重新生成：%s", folder)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    trie = marisa_trie.Trie(tokenizer.FREQ.keys())
    freqs = array("q", bytes(8 * len(trie)))
    for word, i in trie.iteritems():
        freqs[i] = tokenizer.FREQ[word]
    longest = max(map(len, tokenizer.FREQ), default=1)
    if folder is not None:
        _save_dictionary(folder, trie, freqs, {"stamp": list(stamp), "total": tokenizer.total, "longest": longest})
    return StockDictionary(trie, freqs, tokenizer.total, longest)


def _save_dictionary(folder: Path, trie: Any, freqs: array, meta: dict[str, Any]) -> None:
    """Written to a temporary folder renamed into place: a reader sees the old folder or the whole new one."""
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        trie.save(str(tmp / "trie.marisa"))
        (tmp / "freq.bin").write_bytes(freqs.tobytes())
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        if folder.exists():
            old = folder.with_name(f".{folder.name}.old.{os.getpid()}")
            folder.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(folder)
    except OSError as exc:
        log.warning("分词词典缓存无法写入 %s：%s", folder, exc)
        shutil.rmtree(tmp, ignore_errors=True)


def _dictionary_stamp(jieba: Any) -> tuple[str, str]:
    """What the cached dictionary was built from: jieba's version and its dictionary file."""
    source = Path(jieba.__file__).with_name("dict.txt")
    # its content, not its mtime: every install of jieba (a new virtualenv, a CI image) stamps the file
    # anew, and a mismatch costs the next indexer 3-4 s rebuilding the dictionary from the text
    return (str(getattr(jieba, "__version__", "")), hashlib.sha1(source.read_bytes()).hexdigest())


def budget_terms(chunks: Iterable[Chunk]) -> set[str]:
    """Dictionary words from the indexed tables' row labels ("2、公务接待费" -> "公务接待费")."""
    terms = set()
    for chunk in chunks:
        label = _LABEL_PREFIX.sub("", str(chunk.metadata.get("row", ""))).strip()
        if _TERM.match(label):
            terms.add(label)
    return terms


def tokenize_document(chunks: Sequence[Chunk]) -> tuple[list[list[str]], list[str]]:
    """Each chunk's tokens, and the document's own terms, tokenised with just those terms added:
    a document's tokens never depend on which other documents were indexed before it."""
    terms = sorted(budget_terms(chunks))
    tokenizer = shared_tokenizer()
    with tokenizer.terms_added(terms):
        memo: dict[str, list[str]] = {}  # this document's dictionary: its repeated runs are cut once
        return [tokenizer(c.text, memo) for c in chunks], terms


_shared: Tokenizer | None = None
_shared_lock = threading.Lock()


def shared_tokenizer() -> Tokenizer:
    """One stock-dictionary tokenizer per process (documents and scopes add their terms for a call)."""
    global _shared
    with _shared_lock:  # a second caller waits for the first one's load instead of loading again
        if _shared is None:
            _shared = Tokenizer()
        return _shared


def preload_tokenizer() -> None:
    """Load the shared tokenizer in a background thread (idempotent): the indexer starts it as a file
    goes to its parse worker, so on two cores the dictionary load and the parse overlap."""
    if _shared is None:
        threading.Thread(target=shared_tokenizer, name="tokenizer-preload", daemon=True).start()


# ---------------------------------------------------------------------------------------------
# BM25


class BM25:
    """Okapi BM25 with rank_bm25's formula and idf floor, over an inverted index (fast on many docs)."""

    def __init__(self, corpus: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75,
                 epsilon: float = 0.25) -> None:
        import numpy as np  # here, not at the top: an indexer never ranks, and numpy costs 0.2 s to import

        self.k1, self.b = k1, b
        self.n_docs = len(corpus)
        self.doc_len = np.array([len(d) for d in corpus], dtype=np.float64)
        self.avgdl = float(self.doc_len.mean()) if self.n_docs else 0.0
        postings: dict[str, dict[int, int]] = defaultdict(dict)
        for i, doc in enumerate(corpus):
            for token in doc:
                postings[token][i] = postings[token].get(i, 0) + 1
        self._postings = {t: (np.fromiter(p.keys(), dtype=np.int64), np.fromiter(p.values(), dtype=np.float64))
                          for t, p in postings.items()}
        idf = {t: math.log(self.n_docs - len(p) + 0.5) - math.log(len(p) + 0.5) for t, p in postings.items()}
        floor = epsilon * (sum(idf.values()) / len(idf)) if idf else 0.0
        self.idf = {t: (v if v >= 0 else floor) for t, v in idf.items()}
        self._norm = self.k1 * (1 - self.b + self.b * self.doc_len / self.avgdl) if self.n_docs else self.doc_len

    def df(self, token: str) -> int:
        posting = self._postings.get(token)
        return 0 if posting is None else len(posting[0])

    def get_scores(self, query: Sequence[str]) -> np.ndarray:
        import numpy as np

        scores = np.zeros(self.n_docs)
        for token in query:
            posting = self._postings.get(token)
            if posting is None:
                continue
            idx, tf = posting
            scores[idx] += self.idf[token] * tf * (self.k1 + 1) / (tf + self._norm[idx])
        return scores


@dataclass(frozen=True)
class Scored:
    chunk: Chunk
    score: float


class LexicalStore(Protocol):
    """What the lexical index reads from a fact store (SQLite or PostgreSQL)."""

    @property
    def generation(self) -> int: ...

    def lexical_candidates(self, filters: dict[str, Any]) -> list[tuple[Chunk, list[str]]]: ...

    def lexical_terms(self, filters: dict[str, Any]) -> set[str]: ...

    def lexical_match(self, tokens: Sequence[str], k: int, filters: dict[str, Any]) -> list[tuple[Chunk, float]]: ...

    def chunk(self, chunk_id: str) -> Chunk | None: ...


@dataclass
class _Scope:
    """The chunks of one filtered search, ranked among themselves."""

    chunks: list[Chunk]
    bm25: BM25
    terms: tuple[str, ...]  # the candidates' row labels: dictionary words while the query is cut


class _ById:
    """`index.by_id.get(id)`: a chunk read from the store (the dense side resolves ids through it)."""

    def __init__(self, store: LexicalStore) -> None:
        self._store = store

    def get(self, chunk_id: str) -> Chunk | None:
        return self._store.chunk(chunk_id)


class LexicalIndex:
    """BM25 search over the store's chunks; holds only a bounded cache of recently searched scopes."""

    def __init__(self, store: LexicalStore) -> None:
        self.store = store
        self.generation = store.generation
        self.tokenizer = shared_tokenizer()  # stock dictionary: unfiltered queries and the dense side's rewrite
        self.by_id = _ById(store)
        self._scopes: OrderedDict[tuple[tuple[str, Any], ...], _Scope] = OrderedDict()
        self._lock = threading.Lock()

    def search(self, query: str, k: int, filters: dict[str, Any] | None = None) -> list[Scored]:
        given = {key: v for key, v in (filters or {}).items() if v is not None}
        unknown = set(given) - set(FILTER_KEYS)
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)}")
        if k <= 0:
            return []
        if any(key in given for key in SCOPE_KEYS):
            return self._scoped(query, k, given)
        return [Scored(c, s) for c, s in self.store.lexical_match(self.tokenizer(query), k, given)]

    def _scoped(self, query: str, k: int, filters: dict[str, Any]) -> list[Scored]:
        import numpy as np

        scope = self._scope(filters)
        if not scope.chunks:
            return []
        with self.tokenizer.terms_added(scope.terms):
            tokens = _informative(self.tokenizer(query), scope.bm25)
        scores = scope.bm25.get_scores(tokens)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: (-scores[i], i))
        return [Scored(scope.chunks[i], float(scores[i])) for i in ranked if scores[i] > 0]

    def _scope(self, filters: dict[str, Any]) -> _Scope:
        key = tuple(sorted(filters.items()))
        with self._lock:
            scope = self._scopes.get(key)
            if scope is not None:
                self._scopes.move_to_end(key)
                return scope
        pairs = self.store.lexical_candidates(filters)
        terms = self.store.lexical_terms({k: v for k, v in filters.items() if k != "chunk_type"})
        scope = _Scope([c for c, _ in pairs], BM25([t for _, t in pairs]), tuple(sorted(terms)))
        with self._lock:
            self._scopes[key] = scope
            while len(self._scopes) > CACHE_SIZE:
                self._scopes.popitem(last=False)
        return scope


def _informative(tokens: list[str], bm25: BM25) -> list[str]:
    """Drop tokens found in nearly every candidate: under a unit filter the unit's own name (in
    every chunk's head) would otherwise rank the shortest chunks first."""
    if bm25.n_docs < 10:
        return tokens
    return [t for t in tokens if bm25.df(t) < 0.8 * bm25.n_docs]


def load_lexical(store: LexicalStore) -> LexicalIndex:
    """The lexical index over `store` (nothing is read until a search)."""
    return LexicalIndex(store)
