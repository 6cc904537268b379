"""The citizens' chat page (Gradio): ask, read the checked answer and its sources, add documents.

Thin on purpose: answering is `Engine.ask_stream`, indexing is `index_paths`, HTML is `web_render`.
This module wires widgets to those calls, keeps each visitor's conversation in `gr.State`,
and turns failures into Chinese messages.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import inspect
import logging
import os
import shutil
import sys
import types
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from budgetqa.config import Settings, set_offline_env

# Before gradio is imported: it reads GRADIO_ANALYTICS_ENABLED at import time.
set_offline_env()

import anyio  # noqa: E402
import gradio as gr  # noqa: E402
from budgetqa.app import web_render as R  # noqa: E402
from budgetqa.app.pages import PageImages  # noqa: E402
from budgetqa.app.pipeline import Engine, Turn  # noqa: E402
from budgetqa.app.uploads import (  # noqa: E402
    PRIVATE_PREFIX,
    NoFileRoutes,
    Visitor,
    drop_upload,
    incoming_path,
    reset_uploads,
    sweep_abandoned,
    take_upload,
    trusted,
    work_path,
)
from budgetqa.app.web_answers import INTERNAL_ERROR, PageAnswers, _scope, _store, table_context  # noqa: E402,F401
from budgetqa.app.web_workers import AnswerWorkers, settle_heap, worker_count  # noqa: E402
from budgetqa.errors import NotBudgetDocument, UnreadableDocument  # noqa: E402
from budgetqa.index.store.database import DocInfo  # noqa: E402
from budgetqa.index.store.ingest import IngestReport, index_paths  # noqa: E402
from budgetqa.index.store.isolate import Limits, parse_file  # noqa: E402
from budgetqa.types import Answer  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

log = logging.getLogger(__name__)


def _settle_matplotlib() -> None:
    """Gradio wraps every event in a matplotlib backend switch that imports matplotlib on entry and on
    exit; without matplotlib installed each attempt searched the whole import path again (2 failed
    imports, ~0.3 ms, per question). Recording its absence makes those imports fail at once."""
    if "matplotlib" not in sys.modules and importlib.util.find_spec("matplotlib") is None:
        sys.modules["matplotlib"] = None  # type: ignore[assignment]  # the import system's "not installed"


_settle_matplotlib()


class _CachedSignatures(types.ModuleType):
    """`inspect` as gradio's request path sees it: `signature` of a plain function is computed once.

    Gradio reads signatures on every request: of each component's class `__init__` when a new session's
    state is built and whenever a `gr.State` is set, and of the event's function on every call (~18 % of
    the page's CPU per question, eval/load_test.py). A function's signature cannot change, so the first
    one is reused; anything else (bound methods, classes, keyword options) goes to `inspect` itself."""

    def __init__(self) -> None:
        super().__init__("inspect")
        self._signatures: weakref.WeakKeyDictionary[Any, inspect.Signature] = weakref.WeakKeyDictionary()

    def __getattr__(self, name: str) -> Any:
        return getattr(inspect, name)

    def signature(self, obj: Any, *args: Any, **kwargs: Any) -> inspect.Signature:
        if args or kwargs or not isinstance(obj, types.FunctionType):
            return inspect.signature(obj, *args, **kwargs)
        found = self._signatures.get(obj)
        if found is None:
            found = self._signatures[obj] = inspect.signature(obj)
        return found


def _settle_signatures() -> None:
    import gradio.blocks
    import gradio.helpers
    import gradio.utils

    cached = _CachedSignatures()
    for module in (gradio.blocks, gradio.helpers, gradio.utils):
        if getattr(module, "inspect", None) is inspect:
            module.inspect = cached  # type: ignore[attr-defined]


_settle_signatures()

UPLOAD_TYPES = [".pdf", ".md", ".html", ".htm", ".txt", ".csv", ".tsv"]
MAX_HISTORY = 10  # turns passed to the Engine; enough for "那差旅费呢？" chains
# With a model, answers stream through gradio's queue, this many at once (each waits on the model's
# server, not on our 2 cores). Without one, questions bypass the queue (see build_app).
ASK_CONCURRENCY = 8
MAX_THREADS = 16  # gradio's worker threads (page loads, uploads); more only contend for the GIL on 2 cores
ANSWER_THREADS = 4  # new answers computed at once (CPU-bound: more threads only wait for the GIL)
QUEUE_SIZE = 256
MAX_UPLOAD = "50mb"

# System fonts only: the default theme would otherwise reference web fonts, and offline the
# page must render with nothing fetched from a CDN.
_SANS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei",
         "system-ui", "sans-serif"]
_MONO = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "Consolas", "monospace"]

CSS = """
.bq-badge{display:inline-block;padding:2px 8px;border-radius:6px;font-weight:600;margin:2px 0 6px 0}
.bq-badge-ok{background:#e6f4ea;color:#137333;border:1px solid #137333}
.bq-badge-warn{background:#fff4e5;color:#a14d00;border:1px solid #e37400}
.bq-badge-error{background:#fce8e6;color:#a50e0e;border:1px solid #d93025}
.bq-badge-missing{background:#eef1f5;color:#3c4043;border:1px solid #9aa0a6}
mark.bq-fig{background:#fff3a3;color:inherit;font-weight:700;padding:0 2px;border-radius:3px}
mark.bq-fig-unverified{background:#ffe0cc;text-decoration:underline dashed #e37400}
.bq-sources{margin-top:8px;font-size:0.92em}
.bq-sources-title{font-weight:600;margin-bottom:4px}
details.bq-citation{border:1px solid #dadce0;border-radius:6px;padding:4px 8px;margin:4px 0}
details.bq-citation summary{cursor:pointer}
.bq-doc{font-weight:600}
.bq-row{color:#1a73e8}
.bq-citation-body{margin-top:6px}
.bq-quote code{white-space:pre-wrap}
table.bq-table{border-collapse:collapse;margin-top:6px;font-size:0.9em}
table.bq-table th,table.bq-table td{border:1px solid #dadce0;padding:2px 6px;text-align:left}
tr.bq-row-cited td{background:#fff3a3;font-weight:600}
.bq-notes,.bq-candidates{color:#5f6368;margin-top:4px}
.bq-badge-pending{background:#e8f0fe;color:#174ea6;border:1px dashed #1a73e8}
.bq-draft .bq-text{color:#5f6368;font-style:italic}
.bq-file{color:#5f6368;font-size:0.9em}
.bq-page{margin:4px 0 8px 0}
.bq-page a.bq-pdf{display:inline-block;margin-bottom:4px}
#bq-chat img.bq-page-img{width:100% !important;max-width:960px !important;max-height:none !important;height:auto;
border:1px solid #dadce0;border-radius:4px;display:block}
"""

THEME = gr.themes.Default(font=_SANS, font_mono=_MONO)

ChatMessages = list[dict[str, Any]]
ProgressFn = Callable[..., Any]


class Handlers(PageAnswers):
    """The page's event handlers; plain methods so tests call them without a browser. Answering
    (kept answers, index generations, visitors' own engines) is `PageAnswers`'."""

    def __init__(self, engine: Engine, settings: Settings, shared_uploads: bool = False) -> None:
        super().__init__(engine, settings)
        self.shared_uploads = shared_uploads
        self.workers: AnswerWorkers | None = None  # new answers in other processes (launch), else threads
        self._audit: tuple[int, str] | None = None  # (generation, the documents' self-check)

    # ---- chat --------------------------------------------------------------------------------

    def ask(self, question: str, chat: ChatMessages | None, history: Sequence[Turn] | None,
            unit_choice: str | None, year_choice: str | None,
            visitor: Visitor | None = None) -> Iterator[tuple[ChatMessages, tuple[Turn, ...], str]]:
        """Show the question at once, the model's draft as it is written, then the checked answer.

        Only the last step carries an Answer; the new turn joins this visitor's history then.
        """
        chat = list(chat or [])
        turns = tuple(history or ())
        question = question or ""
        chat.append({"role": "user", "content": R.render_question(question)})
        chat.append({"role": "assistant", "content": '<div class="bq-answer">正在查找…</div>'})
        yield list(chat), turns, ""
        unit, year = R.parse_filters(unit_choice, year_choice)
        for answer, content in self._replies(question, unit, year, turns, visitor):
            chat[-1] = {"role": "assistant", "content": content}
            if answer is not None and answer.status != "error":  # a not_found still names the unit asked about
                turns = (*turns, Turn(question.strip(), *_scope(answer, unit, year)))[-MAX_HISTORY:]
            yield list(chat), turns, ""  # a copy: gradio diffs successive outputs

    def answer(self, question: str, chat: ChatMessages | None, history: Sequence[Turn] | None,
               unit_choice: str | None, year_choice: str | None,
               visitor: Visitor | None = None) -> tuple[ChatMessages, tuple[Turn, ...], str]:
        """The checked answer in one step (no draft to stream when no model writes the sentence)."""
        steps = list(self.ask(question, chat, history, unit_choice, year_choice, visitor))
        return steps[-1]

    async def answer_async(self, question: str, chat: ChatMessages | None, history: Sequence[Turn] | None,
                           unit_choice: str | None, year_choice: str | None,
                           visitor: Visitor | None = None) -> tuple[ChatMessages, tuple[Turn, ...], str]:
        """`answer` for the page: a kept answer straight from the event loop (handing a request to a worker
        thread costs more than the answer), a new one from an answer process (`web_workers`) or, for a
        visitor's own uploads or without workers, a worker thread."""
        if not (visitor is not None and visitor.docs):
            self._fresh()
            unit, year = R.parse_filters(unit_choice, year_choice)
            turns = tuple(history or ())
            key = self._key(question or "", unit, year, turns, visitor)
            hit: tuple[Answer | None, str] | None = self._answers.peek(key)
            if hit is None and self.workers is not None:
                hit = await self.workers.answer(key, question or "", unit, year, turns, self._answers.put)
            if hit is not None:
                return self._reply(question or "", list(chat or []), turns, unit, year, *hit)
        return await anyio.to_thread.run_sync(self.answer, question, chat, history, unit_choice, year_choice,
                                              visitor, limiter=_answer_limiter())

    def _reply(self, question: str, chat: ChatMessages, turns: tuple[Turn, ...], unit: str | None,
               year: int | None, answer: Answer | None, html: str) -> tuple[ChatMessages, tuple[Turn, ...], str]:
        """The two new bubbles; the turn joins the history unless the question failed (as in `ask`)."""
        chat += [{"role": "user", "content": R.render_question(question)}, {"role": "assistant", "content": html}]
        if answer is not None and answer.status != "error":
            turns = (*turns, Turn(question.strip(), *_scope(answer, unit, year)))[-MAX_HISTORY:]
        return chat, turns, ""

    @staticmethod
    def clear() -> tuple[ChatMessages, tuple[Turn, ...], str]:
        return [], (), ""

    # ---- documents ---------------------------------------------------------------------------

    def documents(self, visitor: Visitor | None = None) -> list[Any]:
        """The shared corpus, then this visitor's own uploads."""
        mine = [_info(d, len(f)) for d, f in visitor.docs.values()] if visitor is not None else []
        try:
            with _store(self.settings) as store:
                return [*store.documents(), *mine]
        except Exception:
            log.exception("cannot list documents")
            return mine

    def upload(self, files: Sequence[str] | str | None, unit_choice: str | None, year_choice: str | None,
               visitor: Visitor | None = None, token: str | None = None,
               progress: ProgressFn | None = None) -> tuple[Any, ...]:
        """Add the uploaded files to this visitor's own corpus (or, for a trusted uploader, to the shared
        one); a bad file is reported by name and the others go on. Returns the message, the refreshed
        widgets and the visitor."""
        visitor = visitor if isinstance(visitor, Visitor) else Visitor()
        paths = [files] if isinstance(files, str) else list(files or [])
        shared = trusted(self.settings, self.shared_uploads, token)
        sweep_abandoned(self.settings)
        indexed: list[str] = []
        unchanged: list[str] = []
        failed: list[tuple[str, str]] = []
        facts = 0
        for i, src in enumerate(paths):
            name = Path(src).name
            if progress is not None:
                progress(i / len(paths), desc=f"正在读取 {name}（{i + 1}/{len(paths)}）")
            report = self._add_shared(Path(src)) if shared else self._add_private(Path(src), visitor)
            indexed += list(report.names)
            unchanged += [name] * min(report.unchanged, 1)
            failed += [*report.failed, *report.skipped]
            facts += report.facts
        if progress is not None:
            progress(1.0, desc="完成")
        if shared and indexed:
            self.engine.reload()  # the Engine caches the catalog of units and facts
            self.forget_answers()
        message = R.ingest_message(indexed, unchanged, failed, facts)
        if indexed and not shared:
            message += ("\n\n🔒 这些文件只加入您本次会话（回答中标为“您上传的文件”），不会改变其他用户看到的回答；"
                        "关闭页面后即删除。")
        if token and token.strip() and not shared:
            message += "\n\n⚠ 口令不正确或服务器未开放共享上传：文件只加入您自己的会话。"
        return (message, *self.refreshed(unit_choice, year_choice, visitor), visitor)

    def _add_private(self, src: Path, visitor: Visitor) -> IngestReport:
        """Parse (in a worker, under the limits) into the visitor's corpus; the file itself is deleted."""
        try:
            work = take_upload(self.settings, src)
        except OSError as exc:
            return IngestReport(failed=((src.name, f"无法读取上传的文件（{exc.strerror or exc}）"),))
        try:
            parsed = parse_file(work, PRIVATE_PREFIX + src.name, Limits.of(self.settings))
            if not visitor.add(parsed.doc, parsed.facts):
                return IngestReport(unchanged=1)
            return IngestReport(indexed=1, facts=len(parsed.facts), names=(parsed.doc.name,))
        except NotBudgetDocument as exc:
            return IngestReport(skipped=((src.name, exc.reason),))
        except UnreadableDocument as exc:
            return IngestReport(failed=((src.name, exc.reason),))
        except ValueError as exc:  # the visitor's document limit
            return IngestReport(failed=((src.name, str(exc)),))
        except Exception as exc:
            log.exception("reading upload %s failed", src.name)
            return IngestReport(failed=((src.name, f"读取时出错（{type(exc).__name__}）"),))
        finally:
            drop_upload(work)

    def _add_shared(self, src: Path) -> IngestReport:
        """A trusted upload: checked first, then kept under BUDGETQA_HOME/documents and indexed there."""
        try:
            work = take_upload(self.settings, src)
        except OSError as exc:
            return IngestReport(failed=((src.name, f"无法读取上传的文件（{exc.strerror or exc}）"),))
        try:
            parse_file(work, src.name, Limits.of(self.settings))  # refused files never reach documents/
            dest = self.settings.documents_path / src.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work, dest)
            return index_paths([dest], self.settings, progress=False)
        except NotBudgetDocument as exc:
            return IngestReport(skipped=((src.name, exc.reason),))
        except UnreadableDocument as exc:
            return IngestReport(failed=((src.name, exc.reason),))
        except Exception as exc:  # ingest reports bad files itself; this is a crash
            log.exception("indexing %s failed", src.name)
            return IngestReport(failed=((src.name, f"索引时出错（{type(exc).__name__}）"),))
        finally:
            drop_upload(work)

    def audit(self) -> str:
        """The documents' self-check, computed once per index generation (when a citizen opens it)."""
        generation = self._fresh()
        kept = self._audit
        if kept is not None and kept[0] == generation:
            return kept[1]
        try:
            text = R.findings_markdown(self.engine.audit_all())
        except Exception:
            log.exception("audit failed")
            return "文件自查暂时无法完成，请稍后再试。"
        self._audit = (generation, text)
        return text

    def refreshed(self, unit_choice: str | None, year_choice: str | None,
                  visitor: Visitor | None = None) -> tuple[Any, Any, Any, Any]:
        """Documents table, filters (keeping the current choice when still valid) and examples."""
        docs = self.documents(visitor)
        units, years = R.filter_choices(docs)
        return (R.document_rows(docs),
                gr.Dropdown(choices=units, value=unit_choice if unit_choice in units else R.ALL_UNITS),
                gr.Dropdown(choices=years, value=year_choice if year_choice in years else R.ALL_YEARS),
                gr.Dataset(samples=[[q] for q in R.example_questions(docs)]))


def _info(doc: Any, n_facts: int) -> DocInfo:
    """A visitor's upload as a row of the documents tab."""
    return DocInfo(doc.name, doc.sha256, doc.unit, doc.aliases, doc.year, doc.kind, doc.subunits, doc.pages,
                   doc.layout, n_facts, "")


# ---- page -----------------------------------------------------------------------------------------


def build_app(engine: Engine, settings: Settings, shared_uploads: bool = False, warm: bool = False,
              workers: AnswerWorkers | None = None) -> gr.Blocks:
    """The page; warm=True answers its examples first, so the first citizens wait for nobody's cold start;
    `workers` compute new answers in other processes."""
    h = Handlers(engine, settings, shared_uploads)
    h.workers = workers
    if warm:
        h.warm()  # before the page lists the documents: the same store, read once cold
    docs = h.documents()
    units, years = R.filter_choices(docs)
    # delete_cache: gradio's own copies of uploads nobody added are removed after an hour
    with gr.Blocks(title="预算问答 · budgetqa", analytics_enabled=False, delete_cache=(600, 3600)) as app:
        gr.Markdown("## 政府预算决算问答\n输入问题，例如某单位的公务接待费；回答给出数字、单位、年度和出处，"
                    "并标明数字是否已与原表核对。")
        turns = gr.State(())
        visitor = gr.State(None, time_to_live=4 * 3600)  # this session's own uploads (a Visitor)
        with gr.Tab("问答"):
            with gr.Row():
                unit_dd = gr.Dropdown(units, value=R.ALL_UNITS, label="单位", scale=3, elem_id="bq-unit")
                year_dd = gr.Dropdown(years, value=R.ALL_YEARS, label="年度", scale=1, elem_id="bq-year")
            chat = gr.Chatbot(label="问答", height=560, elem_id="bq-chat", buttons=["copy"],
                              feedback_options=None, sanitize_html=True,
                              placeholder="在下方输入问题，或点击示例问题。")
            with gr.Row():
                box = gr.Textbox(label="问题", show_label=False, placeholder="例如：福州市医疗保障局的公务接待费是多少",
                                 scale=8, lines=1, elem_id="bq-question", autofocus=True)
                send = gr.Button("提问", variant="primary", scale=1, elem_id="bq-send")
                clear = gr.Button("新对话", scale=1, elem_id="bq-clear")
            examples = gr.Dataset(components=[box], samples=[[q] for q in R.example_questions(docs)],
                                  label="示例问题（点击即问）", elem_id="bq-examples")
        with gr.Tab("文档", elem_id="bq-docs-tab"):
            table = gr.Dataframe(value=R.document_rows(docs), headers=R.DOC_HEADERS, interactive=False,
                                 label="已索引的文档", elem_id="bq-docs", wrap=True)
            files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, type="filepath",
                            label="上传预算/决算文档（PDF 或文本：.pdf .md .html .txt .csv .tsv）；"
                                  "只加入您本次会话，不影响其他用户",
                            elem_id="bq-upload")
            token = gr.Textbox(label="管理员口令（加入共享语料时填写）", type="password", visible=shared_uploads,
                               elem_id="bq-token")
            add = gr.Button("加入索引", variant="primary", elem_id="bq-index")
            status = gr.Markdown(elem_id="bq-upload-status")
            with gr.Accordion("文件自查（文件自身是否一致）", open=False, elem_id="bq-audit-box") as audit_box:
                audit_md = gr.Markdown(elem_id="bq-audit")
                recheck = gr.Button("重新核对", elem_id="bq-recheck")

        ask_io: dict[str, Any] = {"inputs": [box, chat, turns, unit_dd, year_dd, visitor], "outputs": [chat, turns, box],
                                  "show_progress": "minimal"}
        if settings.llm_enabled:  # the model's draft streams through the queue, a few at a time
            ask_io |= {"fn": h.ask, "concurrency_id": "ask", "concurrency_limit": ASK_CONCURRENCY}
        else:
            # The checked answer takes milliseconds: one plain request per question, no queue and no
            # event stream, whose bookkeeping costs more than the answer (eval/load_test.py).
            ask_io |= {"fn": _page_event(h, chat), "queue": False, "preprocess": False, "postprocess": False}
        box.submit(**ask_io)
        send.click(**ask_io)
        examples.click(lambda sample: sample[0], inputs=[examples], outputs=[box],
                       queue=False).then(**ask_io)
        clear.click(h.clear, outputs=[chat, turns, box], queue=False)

        def upload(files_: Any, unit_: str | None, year_: str | None, visitor_: Visitor | None, token_: str | None,
                   progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008 (gradio's idiom)
            return (*h.upload(files_, unit_, year_, visitor_, token_, progress), None, "")  # empty picker, token

        add.click(upload, inputs=[files, unit_dd, year_dd, visitor, token],
                  outputs=[status, table, unit_dd, year_dd, examples, visitor, files, token],
                  concurrency_id="ingest", concurrency_limit=1)
        # The self-check runs when a citizen opens it (once per index generation), not for every visitor.
        audit_box.expand(h.audit, outputs=[audit_md], concurrency_id="audit", concurrency_limit=1)
        recheck.click(h.audit, outputs=[audit_md], concurrency_id="audit", concurrency_limit=1)
        app.load(h.refreshed, inputs=[unit_dd, year_dd, visitor], outputs=[table, unit_dd, year_dd, examples],
                 concurrency_id="ask", concurrency_limit=ASK_CONCURRENCY)
    return app


def _page_event(h: Handlers, chatbot: gr.Chatbot) -> Callable[..., Any]:
    """The question event without a model, taking and returning the chatbot's own wire format.

    Gradio hands every input's preprocessing and every output's postprocessing to a worker thread, six
    thread hops a question that cost more than a kept answer. This event skips them: the page's chat
    comes as the chatbot sends it (validated by gradio against the chatbot's data model), the two new
    bubbles are converted by the chatbot's own `postprocess` and appended, and the history so far is
    passed back untouched. Gradio also reads the function's signature and type hints on every call,
    so the function is left unannotated."""

    async def event(question, chat, history, unit_choice, year_choice, visitor):  # type: ignore[no-untyped-def]
        reply, turns, box = await h.answer_async(_text(question), [], history, _text(unit_choice) or None,
                                                 _text(year_choice) or None, visitor)
        new = chatbot.postprocess(reply).model_dump()  # type: ignore[arg-type]  # our dicts are MessageDicts
        return [*(chat if isinstance(chat, list) else []), *new], turns, box

    return event


def _text(value: Any) -> str:
    """A text input as sent (not preprocessed): a string, or nothing."""
    return value if isinstance(value, str) else ""


@functools.cache
def _limiters() -> weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter]:
    return weakref.WeakKeyDictionary()


def _answer_limiter() -> anyio.CapacityLimiter:
    """At most ANSWER_THREADS new answers at once per event loop: more only queue for the GIL."""
    loop = asyncio.get_running_loop()
    limiter = _limiters().get(loop)
    if limiter is None:
        limiter = _limiters()[loop] = anyio.CapacityLimiter(ANSWER_THREADS)
    return limiter


def add_source_routes(server: Any, pages: PageImages) -> None:
    """/bq/page/<id>/<n>.png (the page, cited quote boxed) and /bq/pdf/<id>.pdf (the file): indexed PDFs
    only, by the id of their content, never a path from the request."""
    from urllib.parse import quote as urlquote

    from fastapi import Response

    def missing() -> Response:
        return Response("没有找到这份已索引的 PDF 或这一页", status_code=404, media_type="text/plain; charset=utf-8")

    def page_png(doc: str, page: int, q: str = "") -> Response:
        try:
            png = pages.render(doc, page, q)
        except Exception:  # a damaged file: say it is not there rather than fail the page
            log.exception("rendering %s page %s failed", doc, page)
            png = None
        if png is None:
            return missing()
        return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})

    def pdf_file(doc: str) -> Response:
        found = pages.pdf(doc)
        if found is None:
            return missing()
        data, name = found
        return Response(data, media_type="application/pdf",
                        headers={"Content-Disposition": f"inline; filename*=UTF-8''{urlquote(name)}",
                                 "Cache-Control": "private, max-age=3600"})

    server.add_api_route("/bq/page/{doc}/{page:int}.png", page_png, methods=["GET"])
    server.add_api_route("/bq/pdf/{doc}.pdf", pdf_file, methods=["GET"])


def launch_options(settings: Settings, host: str = "127.0.0.1", port: int = 7860,
                   share: bool = False) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch: offline, loopback by default, nothing served from disk (no
    /file= route at all: `NoFileRoutes`), uploads over the size limit refused at the door."""
    return {"server_name": host, "server_port": port, "share": share, "theme": THEME, "css": CSS,
            "allowed_paths": [], "blocked_paths": blocked_paths(settings),
            "max_file_size": f"{max(1, int(settings.max_file_mb))}mb",
            "app_kwargs": {"middleware": [Middleware(NoFileRoutes)]},
            "ssr_mode": False, "mcp_server": False, "pwa": False, "enable_monitoring": False,
            "show_error": False, "inbrowser": False, "footer_links": ["settings"],
            # no run history: a citizen's questions are not kept in their browser or offered on a runs page
            "run_history": False}


def blocked_paths(settings: Settings) -> list[str]:
    """Everything under the home but gradio's incoming folder (which it must read an upload from)."""
    home = settings.home
    listed = {settings.store_path, Path(f"{settings.store_path}-wal"), Path(f"{settings.store_path}-shm"),
              settings.chroma_path, settings.documents_path, work_path(settings), home / "index.lock"}
    if home.exists():
        listed |= {p for p in home.iterdir() if p.name != settings.uploads_path.name}
    return sorted(str(p) for p in listed)


def _close_with(app: gr.Blocks, workers: AnswerWorkers) -> None:
    """`app.close()` (tests, a reload) also ends the answer processes."""
    close = app.close

    def close_all(*args: Any, **kwargs: Any) -> Any:
        try:
            return close(*args, **kwargs)
        finally:
            workers.shutdown()

    app.close = close_all  # type: ignore[method-assign]


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           block: bool = True, shared_uploads: bool = False, processes: int | None = None) -> gr.Blocks:
    """Serve the page; with block=False return at once (tests stop it with app.close()). `processes`
    answer processes compute new answers (default: one per core beyond this one; 0: threads here).

    Uploads land in BUDGETQA_HOME/uploads/incoming (gradio's temp folder for this process), emptied
    here at every start so nothing a crash left behind survives."""
    from budgetqa.index.store.ingest import ensure_index

    ensure_index(settings)
    reset_uploads(settings)
    os.environ["GRADIO_TEMP_DIR"] = str(incoming_path(settings))  # read by gradio when the app is created
    engine = Engine(settings)
    workers = None
    if processes is None:
        processes = 0 if settings.llm_enabled else worker_count()  # a model's drafts stream in-process
    if processes > 0:
        workers = AnswerWorkers(settings, processes)
        workers.start()  # they warm while this process warms its own answerer (build_app)
    app = build_app(engine, settings, shared_uploads, warm=True, workers=workers)
    if workers is not None:
        workers.ready()
        _close_with(app, workers)
    settle_heap()
    # Uploads get their own concurrency group, so a slow PDF never holds up someone's question.
    app.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    app.launch(prevent_thread_lock=True, max_threads=MAX_THREADS, **launch_options(settings, host, port, share))
    add_source_routes(app.app, PageImages(settings))
    if block:
        app.block_thread()
    return app
