"""Documents added through the web page, kept where they cannot change anyone else's answers.

A citizen's upload is parsed (in a worker, under the per-document limits) into that visitor's own
`Visitor` corpus: answered alongside the shared corpus for that session only, cited as
"您上传的文件/<name>", gone when the session ends. Only a trusted uploader (the operator started
`budgetqa serve --shared-uploads` and the visitor typed BUDGETQA_UPLOAD_TOKEN) adds to the shared
corpus, through the same `index_paths` as the command line.

Files in flight live under BUDGETQA_HOME/uploads (gradio's incoming folder and our working copies),
are deleted as soon as they are parsed or refused, swept when abandoned, and emptied at every start;
no URL serves them (`NoFileRoutes`).
"""

from __future__ import annotations

import hmac
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from budgetqa.catalog import MemorySource
from budgetqa.config import Settings
from budgetqa.index.model import Document, Fact

log = logging.getLogger(__name__)

PRIVATE_PREFIX = "您上传的文件/"
MAX_PRIVATE_DOCS = 10  # per visitor: each is held in memory for the session
ABANDONED_AFTER = 3600.0  # seconds an upload may wait in the picker before it is swept


def incoming_path(settings: Settings) -> Path:
    """Gradio's upload folder (GRADIO_TEMP_DIR) while the page runs."""
    return settings.uploads_path / "incoming"


def work_path(settings: Settings) -> Path:
    return settings.uploads_path / "work"


def reset_uploads(settings: Settings) -> None:
    """At start: whatever a previous run (or crash) left in flight is dropped."""
    shutil.rmtree(settings.uploads_path, ignore_errors=True)
    incoming_path(settings).mkdir(parents=True, exist_ok=True)
    work_path(settings).mkdir(parents=True, exist_ok=True)


def sweep_abandoned(settings: Settings, older_than: float = ABANDONED_AFTER) -> int:
    """Delete uploads nobody turned into a document (picked, never added) after `older_than` seconds."""
    cutoff = time.time() - older_than
    removed = 0
    for root in (incoming_path(settings), work_path(settings)):
        if not root.exists():
            continue
        for entry in root.iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                    removed += 1
            except OSError:
                continue
    return removed


def take_upload(settings: Settings, src: Path) -> Path:
    """Move an upload out of gradio's folder into a private working folder (same file system under the
    home: a rename); the caller deletes its folder with `drop_upload` when done."""
    folder = work_path(settings) / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / src.name
    shutil.move(str(src), dest)
    parent = src.parent
    if parent != incoming_path(settings) and parent.is_relative_to(incoming_path(settings)):
        shutil.rmtree(parent, ignore_errors=True)  # gradio's per-file hash folder
    return dest


def drop_upload(path: Path) -> None:
    shutil.rmtree(path.parent, ignore_errors=True)


def trusted(settings: Settings, shared_uploads: bool, token: str | None) -> bool:
    """A trusted uploader: the operator enabled shared uploads, set a token, and the visitor typed it."""
    if not shared_uploads or not settings.upload_token or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), settings.upload_token.encode())


class LayeredSource:
    """The shared fact store with one visitor's documents on top (a `catalog.FactSource`)."""

    def __init__(self, shared: Any, private: MemorySource) -> None:
        self.shared = shared
        self.private = private

    def documents(self) -> list[Any]:
        return [*self.shared.documents(), *self.private.documents()]

    def facts(self, doc: str | None = None, unit: str | None = None) -> list[Fact]:
        if doc is not None and doc.startswith(PRIVATE_PREFIX):
            return self.private.facts(doc, unit)
        return [*self.shared.facts(doc, unit), *([] if doc else self.private.facts(None, unit))]

    def sections(self, doc: str | None = None) -> list[Any]:
        if doc is not None and doc.startswith(PRIVATE_PREFIX):
            return list(self.private.sections(doc))
        return [*self.shared.sections(doc), *([] if doc else self.private.sections(None))]


class Visitor:
    """One page session's own documents and the Engine that answers over the shared corpus plus them.

    Lives in gradio's per-session State (created on the session's first upload): nobody else's
    questions ever see it."""

    def __init__(self) -> None:
        self.docs: dict[str, tuple[Document, list[Fact]]] = {}
        self.engine: Any = None  # budgetqa.app.pipeline.Engine over LayeredSource, built on first question
        self.generation = -1  # the shared store's generation the engine was built on
        self.lock = threading.Lock()

    def add(self, doc: Document, facts: list[Fact]) -> bool:
        """Keep the document; False when it was already there with the same content."""
        old = self.docs.get(doc.name)
        if old is not None and old[0].sha256 == doc.sha256:
            return False
        if old is None and len(self.docs) >= MAX_PRIVATE_DOCS:
            raise ValueError(f"每个会话最多上传 {MAX_PRIVATE_DOCS} 个文件，请开始新会话或联系管理员加入共享语料")
        self.docs[doc.name] = (doc, facts)
        self.engine = None  # rebuilt with the new document on the next question
        return True

    def documents(self) -> list[Document]:
        return [d for d, _ in self.docs.values()]

    def tables(self, name: str) -> Sequence[Any]:
        entry = self.docs.get(name)
        return entry[0].tables if entry else ()

    def engine_for(self, settings: Settings, shared: Any, generation: int) -> Any:
        """The engine over the shared store plus these documents, rebuilt when the store changed."""
        from budgetqa.app.pipeline import Engine

        with self.lock:
            if self.engine is None or generation != self.generation:
                private = MemorySource([(d, f) for d, f in self.docs.values()])
                self.engine = Engine(settings, source=LayeredSource(shared, private))
                self.generation = generation
            return self.engine


class NoFileRoutes:
    """ASGI middleware: gradio's /file= routes answer 403, so no upload (ours or gradio's cache) is
    ever served back by URL. The page itself needs none of them."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and "/file=" in scope.get("path", ""):
            await send({"type": "http.response.start", "status": 403,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
            await send({"type": "http.response.body", "body": "不提供文件下载".encode()})
            return
        await self.app(scope, receive, send)
