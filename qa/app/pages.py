"""A cited PDF page as a picture with the cited row or sentence marked: what a citizen checks a figure against.

Presentation stage: reads the fact store's document list and the indexed PDF files, never the network.
Only files the store indexed are served, looked up by the first 16 hex digits of their sha256 (never by
a path from the request), and only while the file on disk still has those bytes. Pictures are rendered
on first request and cached under BUDGETQA_HOME/pages.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budgetqa.config import Settings
from budgetqa.index.store.database import DocInfo, FactStore

log = logging.getLogger(__name__)

ZOOM = 1.6  # 72 dpi * 1.6: a printed table stays legible at a chat bubble's width
MAX_QUOTE = 600  # characters of a quote looked up on the page
_ID = re.compile(r"^[0-9a-f]{16}$")
_NUMBER = re.compile(r"^[-+]?[\d,，.．%％]+$")


@dataclass(frozen=True)
class SourceDoc:
    """An indexed PDF that can be shown: its id for URLs, its name, and the file on disk."""

    id: str
    name: str
    path: Path
    pages: int | None


def doc_id(sha256: str) -> str:
    return sha256[:16]


def image_url(doc: str, page: int, quote: str) -> str:
    """Where the web page fetches the picture; `doc` is the source id."""
    from urllib.parse import quote as urlquote

    return f"/bq/page/{doc}/{page}.png?q={urlquote(quote[:MAX_QUOTE])}"


def pdf_url(doc: str, page: int | None) -> str:
    """The PDF itself, opened at the page (browsers' viewers read #page=N)."""
    return f"/bq/pdf/{doc}.pdf" + (f"#page={page}" if page else "")


class PageImages:
    """Looks up indexed PDFs and renders their pages, highlighting a quote; thread-safe."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = settings.home / "pages"
        self._checked: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> sha256
        self._lock = threading.Lock()

    # ---- lookup ---------------------------------------------------------------------------------

    def sources(self) -> dict[str, SourceDoc]:
        """Indexed documents whose PDF is on disk, by document name."""
        with _store(self.settings) as store:
            docs = store.documents()
        return {d.name: s for d in docs if (s := _source(d)) is not None}

    def find(self, ident: str) -> tuple[SourceDoc, DocInfo] | None:
        """The indexed PDF with this id, if its file still holds the indexed bytes."""
        if not _ID.match(ident):
            return None
        with _store(self.settings) as store:
            info = next((d for d in store.documents() if doc_id(d.sha256) == ident), None)
        src = _source(info) if info is not None else None
        if src is None or info is None or self._sha(src.path) != info.sha256:
            return None
        return src, info

    def _sha(self, path: Path) -> str | None:
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_mtime_ns, st.st_size)
        with self._lock:
            known = self._checked.get(key)
        if known is None:
            known = hashlib.sha256(path.read_bytes()).hexdigest()
            with self._lock:
                self._checked[key] = known
        return known

    def quote_is_cited(self, name: str, page: int, quote: str) -> bool:
        """Only quotes the store holds for that page get a picture: the cache never fills with requests'
        made-up text."""
        if not quote:
            return True
        with _store(self.settings) as store:
            if any(f.page == page and f.quote == quote for f in store.facts(doc=name)):
                return True
            return any(quote in s.text or quote == s.title for s in store.sections(doc=name))

    # ---- pictures -------------------------------------------------------------------------------

    def render(self, ident: str, page: int, quote: str = "") -> bytes | None:
        """PNG of the page with the quote marked; None when the document, page or quote is unknown."""
        found = self.find(ident)
        if found is None:
            return None
        src, info = found
        quote = quote[:MAX_QUOTE]
        if not self.quote_is_cited(info.name, page, quote):
            return None
        key = hashlib.sha1(quote.encode()).hexdigest()[:12]
        cached = self.cache / ident / f"p{page}-{key}.png"
        if cached.is_file():
            return cached.read_bytes()
        png = render_page(src.path, page, quote)
        if png is None:
            return None
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{threading.get_ident()}.tmp")
        tmp.write_bytes(png)
        tmp.replace(cached)  # atomic: a parallel request never reads half a file
        return png

    def pdf(self, ident: str) -> tuple[bytes, str] | None:
        found = self.find(ident)
        if found is None:
            return None
        src, info = found
        return src.path.read_bytes(), info.name


def _source(info: DocInfo) -> SourceDoc | None:
    path = Path(info.source) if info.source else None
    if path is None or info.layout != "pdf" or not path.is_file():
        return None
    return SourceDoc(doc_id(info.sha256), info.name, path, info.pages)


def render_page(path: Path, page: int, quote: str) -> bytes | None:
    import pymupdf

    with pymupdf.open(path) as pdf:
        if not 1 <= page <= pdf.page_count:
            return None
        p = pdf[page - 1]
        for rect in mark_boxes(p, quote):
            shape = p.new_shape()
            shape.draw_rect(rect + (-3, -2, 3, 2))
            shape.finish(color=(0.85, 0.1, 0.1), fill=(1.0, 0.85, 0.0), fill_opacity=0.35, width=1.6)
            shape.commit()
        pix = p.get_pixmap(matrix=pymupdf.Matrix(ZOOM, ZOOM), alpha=False)
        return bytes(pix.tobytes("png"))


def mark_boxes(page: Any, quote: str) -> list[Any]:
    """Boxes around the quote on the page: a table row's line (label and figures on one line), or the
    sentence's pieces. Empty when nothing is found: the page is still shown, unmarked.

    Matching runs on the page's characters as extracted (not `search_for`, which some PDFs' fonts
    send to the wrong place), with spacing removed: PDFs print "2026 年度" and "98.53 万元"."""
    parts = [p.strip() for p in re.split(r"\t|\s{2,}", quote) if p.strip()]
    if not parts:
        return []
    chars = _Chars(page)
    if len(parts) == 1 and len(parts[0]) > 24:
        return chars.sentence(parts[0])
    return _row_boxes(chars, parts) or chars.sentence("".join(parts))


def _row_boxes(chars: _Chars, parts: Sequence[str]) -> list[Any]:
    """The printed line holding most of the row's cells, anchored on its label (else its figures)."""
    labels = [p for p in parts if not _NUMBER.match(p)]
    anchors = [r for label in labels[:2] for r in chars.find(label)]
    if not anchors:
        anchors = [r for p in parts for r in chars.find(p)]
    found = [r for p in dict.fromkeys(parts) for r in chars.find(p)]
    best: list[Any] = []
    for anchor in anchors:
        line = [anchor] + [r for r in found if _same_line(anchor, r) and r != anchor]
        if len(line) > len(best):
            best = line
    if not best:
        return []
    box = best[0]
    for r in best[1:]:
        box = box | r
    return [box]


class _Chars:
    """The page's printed characters without spaces, each with its line number and box."""

    def __init__(self, page: Any) -> None:
        chars: list[str] = []
        self.boxes: list[tuple[int, tuple[float, float, float, float]]] = []
        self.starts: list[bool] = []  # a word starts here: after a space, a new line or a wide gap
        line_no = 0
        for block in page.get_text("rawdict").get("blocks", []):
            for line in block.get("lines", []):
                line_no += 1
                gap = True
                for span in line.get("spans", []):
                    for ch in span.get("chars", []):
                        if not ch["c"].strip():
                            gap = True
                            continue
                        box = tuple(ch["bbox"])
                        if self.boxes and not gap:
                            prev = self.boxes[-1][1]
                            gap = box[0] - prev[2] > 0.5 * (box[3] - box[1])
                        chars.append(ch["c"])
                        self.boxes.append((line_no, box))
                        self.starts.append(gap)
                        gap = False
        self.text = "".join(chars)

    def find(self, text: str) -> list[Any]:
        """A box for each place the text is printed on one line; a figure must not be part of a longer one."""
        want = re.sub(r"\s+", "", text)
        out = []
        i = self.text.find(want) if want else -1
        while i >= 0:
            end = i + len(want)
            whole = not _NUMBER.match(want) or (self.starts[i] and (end == len(self.text) or self.starts[end]))
            lines = {ln for ln, _ in self.boxes[i:end]}
            if whole and len(lines) == 1:
                out.append(self._box(i, end))
            i = self.text.find(want, i + 1)
        return out

    def sentence(self, sentence: str) -> list[Any]:
        """A sentence wraps across lines: one box per printed line it covers."""
        import pymupdf

        want = re.sub(r"\s+", "", sentence)
        start = self.text.find(want)
        end = start + len(want)
        if start < 0:  # the quote was cut or joined differently: its first and last words bound it
            head, tail = want[:16], want[-16:]
            start = self.text.find(head)
            tail_at = self.text.find(tail, max(start, 0))
            if start < 0 or tail_at < 0 or tail_at + len(tail) - start > 3 * len(want):
                return []
            end = tail_at + len(tail)
        lines: dict[int, Any] = {}
        for line, box in self.boxes[start:end]:
            rect = pymupdf.Rect(box)
            lines[line] = lines[line] | rect if line in lines else rect
        return list(lines.values())

    def _box(self, start: int, end: int) -> Any:
        import pymupdf

        box = pymupdf.Rect(self.boxes[start][1])
        for _, b in self.boxes[start + 1:end]:
            box = box | pymupdf.Rect(b)
        return box


def _same_line(a: Any, b: Any) -> bool:
    overlap = min(a.y1, b.y1) - max(a.y0, b.y0)
    return overlap > 0.5 * min(a.height, b.height)


class _store:  # noqa: N801 - a context manager used like a function
    def __init__(self, settings: Settings) -> None:
        from budgetqa.index.store.ingest import open_store

        self.store = open_store(settings)

    def __enter__(self) -> FactStore:
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store.close()
