"""The chat page's kept answers, its raw question event, the lazy self-check and the load test's page
model (no server, no browser)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from budgetqa.app import web_render as R
from budgetqa.app.pipeline import Turn, follow_up_context
from budgetqa.app.web_cache import AnswerCache, StoreWatch
from budgetqa.config import Settings, load_settings
from budgetqa.eval import load_test as L

from tests.test_web import FakeEngine

Q = "福州市医疗保障局的公务接待费是多少"


def test_answer_cache_waits_for_a_key_being_computed_and_drops_the_oldest() -> None:
    cache: AnswerCache[str] = AnswerCache(2)
    assert cache.claim("a") == (None, True)
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(cache.claim("a")))
    waiter.start()
    time.sleep(0.05)
    assert not got  # waiting for the first caller …
    cache.put("a", "A")
    cache.release("a")
    waiter.join(5)
    assert got == [("A", False)]  # … and given its value, not told to compute it again
    cache.put("b", "B")
    cache.put("c", "C")
    assert cache.peek("a") is None and cache.peek("c") == "C" and len(cache) == 2
    assert cache.claim("x", wait=0.01) == (None, True)
    assert cache.claim("x", wait=0.01) == (None, False)  # the first caller never finished: compute, unclaimed


def test_store_watch_reads_the_store_again_only_when_its_files_change(tmp_path: Path) -> None:
    db = tmp_path / "facts.sqlite3"
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return len(reads)

    watch = StoreWatch(db, read)
    assert watch.generation() == 1 and watch.generation() == 1 and len(reads) == 1
    db.write_bytes(b"x")
    assert watch.generation() == 2
    Path(f"{db}-wal").write_bytes(b"yy")
    assert watch.generation() == 3 and watch.generation() == 3


def test_the_key_of_a_follow_up_is_the_last_turns_unit_and_year() -> None:
    a = Turn("甲局的差旅费", "甲局", 2024)
    assert follow_up_context(()) == (None, None)
    assert follow_up_context((Turn("乙局的会议费", "乙局", 2023), a)) == follow_up_context((a,)) == ("甲局", 2024)


@pytest.mark.slow
def test_an_answer_depends_on_no_more_of_the_history_than_its_key(indexed_settings: Settings) -> None:
    """The page keeps one answer for conversations that end alike: the engine must agree."""
    from budgetqa.app.pipeline import Engine

    engine = Engine(indexed_settings)
    last = Turn("福州市医疗保障局的公务接待费是多少", "福州市医疗保障局", 2024)
    earlier = Turn("闽清县档案馆的差旅费是多少", "闽清县档案馆", 2023)
    for q in ("那差旅费呢？", Q, "会议费是多少"):
        short = engine.ask(q, history=(last,))
        long = engine.ask(q, history=(earlier, last))
        assert (short.status, short.answer, short.citations) == (long.status, long.answer, long.citations)


def _page(tmp_path: Path) -> tuple[Any, FakeEngine, Any]:
    from budgetqa.app.web import build_app

    engine = FakeEngine()
    app = build_app(engine, load_settings(home=tmp_path / "home"))  # type: ignore[arg-type]
    fn = next(f for f in app.fns.values() if f.name == "event")
    return app, engine, fn


def test_the_question_event_speaks_the_chatbots_wire_format_and_keeps_answers(tmp_path: Path) -> None:
    app, engine, fn = _page(tmp_path)
    assert fn.queue is False and fn.preprocess is False and fn.postprocess is False
    chatbot = fn.outputs[0]
    chat, turns, box = asyncio.run(fn.fn(Q, [], (), R.ALL_UNITS, R.ALL_YEARS, None))
    shown = chatbot.preprocess(chatbot.data_model.model_validate(chat))  # what the page shows
    assert box == "" and [m["role"] for m in shown] == ["user", "assistant"]
    assert "5.00万元</mark>" in str(shown[1]["content"]) and turns[-1].unit == "福州市医疗保障局"
    again, turns, _ = asyncio.run(fn.fn("那差旅费呢？", chat, turns, R.ALL_UNITS, R.ALL_YEARS, None))
    assert again[:2] == chat and len(again) == 4 and "6.50万元" in str(again[-1])  # the chat so far, kept as sent
    asyncio.run(fn.fn(Q, [], (), R.ALL_UNITS, R.ALL_YEARS, None))
    assert len(engine.calls) == 2  # the repeated question was answered from what was kept
    odd, _, _ = asyncio.run(fn.fn(["not", "text"], "not a chat", (), 7, None, None))  # a crafted request
    assert len(odd) == 2 and "bq-error" in str(odd[-1])


def test_the_self_check_runs_when_opened_once_per_index_generation(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers

    class Audited(FakeEngine):
        audits = 0

        def audit_all(self) -> dict[str, list[Any]]:
            self.audits += 1
            return {"a.txt": []}

    engine = Audited()
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    assert "核对了 1 个文件" in h.audit() and "核对了 1 个文件" in h.audit() and engine.audits == 1
    app, _, _ = _page(tmp_path)
    loads = [f for f in app.fns.values() if any(t[1] == "load" for t in f.targets)]
    assert loads and all(f.name != "audit" for f in loads)  # a page load never runs it
    assert any(t[1] == "expand" for f in app.fns.values() if f.name == "audit" for t in f.targets)


def test_the_load_test_sends_the_chat_back_and_judges_the_last_answer() -> None:
    fn = L.Endpoint("/gradio_api", 3, 7, False, ("textbox", "chatbot", "state", "dropdown"), ("chatbot", "state", "textbox"))
    reply = [{"role": "user", "content": [{"type": "text", "text": "q"}]},
             {"role": "assistant", "content": [{"type": "text", "text": "5.00万元"}]}]
    assert L._payload_data(fn, "q2", reply) == ["q2", reply, None, None]
    assert L._chat_of(fn, [reply, None, ""]) == reply
    assert L._chat_of(fn, [[["append", [0], "x"]], None, ""]) is None  # a streamed diff is not a chat
    assert L._right(" ".join(L._strings(reply[-1:])), L.Question("q", ((5.0, "万元"),)))
    assert not L._right(" ".join(L._strings(reply[-1:])), L.Question("q", ((6.5, "万元"),)))


def test_a_warm_page_has_answered_its_examples_before_the_first_citizen(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers

    class Audited(FakeEngine):
        def audit_all(self) -> dict[str, list[Any]]:
            return {}

    engine = Audited()
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    h.warm()  # no documents: the page's stand-in example
    assert [c["q"] for c in engine.calls] == R.example_questions([])
    asked = len(engine.calls)
    h.answer(R.example_questions([])[0], [], (), None, None)
    assert len(engine.calls) == asked  # the clicked example comes from what the warm-up kept


def test_an_answer_process_is_asked_once_for_a_question_asked_twice_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from budgetqa.app import web_workers as W
    from budgetqa.app.web import Handlers
    from budgetqa.types import Answer

    asked: list[str] = []

    def answer(question: str, unit: Any, year: Any, turns: Any) -> tuple[Answer, str]:
        asked.append(question)
        time.sleep(0.2)  # still being answered when the second citizen asks
        return Answer(question=question, status="answered", answer="5.00万元", unit="福州市医疗保障局"), "<b>5.00万元</b>"

    monkeypatch.setattr(W, "_answer", answer)
    workers = W.AnswerWorkers.__new__(W.AnswerWorkers)  # the pool's logic over a thread instead of a process
    workers.processes, workers._pool, workers._pending, workers._pings = 1, ThreadPoolExecutor(1), {}, []
    workers.broken = False
    engine = FakeEngine()
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    h.workers = workers

    async def two_citizens() -> list[Any]:
        return list(await asyncio.gather(*(h.answer_async(Q, [], (), None, None) for _ in range(2))))

    first, second = asyncio.run(two_citizens())
    assert asked == [Q] and first == second and first[0][-1]["content"] == "<b>5.00万元</b>"
    assert first[1][-1].unit == "福州市医疗保障局"  # the turn joins the history as on the in-process path
    asyncio.run(h.answer_async(Q, [], (), None, None))
    assert asked == [Q] and not engine.calls  # kept in the page's process; its own engine never ran
    workers._pool.shutdown()


@pytest.mark.slow
def test_a_warmed_answer_process_answers_as_the_page_itself_would(indexed_home: Path) -> None:
    from budgetqa.app.pipeline import Engine
    from budgetqa.app.web import Handlers
    from budgetqa.app.web_workers import AnswerWorkers

    settings = load_settings(home=indexed_home, dense=False)
    workers = AnswerWorkers(settings, 1)
    workers.start()
    try:
        workers.ready()
        h = Handlers(Engine(settings), settings)
        h.workers = workers
        chat, turns, _ = asyncio.run(h.answer_async(Q, [], (), None, None))
        assert h.engine._ready is None  # the page's own engine never loaded: the process answered
        local, local_turns, _ = Handlers(Engine(settings), settings).answer(Q, [], (), None, None)
        assert "5.00" in chat[-1]["content"] and (chat, turns) == (local, local_turns)
    finally:
        workers.shutdown()


def test_the_page_answers_itself_when_its_answer_processes_cannot(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers
    from budgetqa.app.web_workers import AnswerWorkers

    workers = AnswerWorkers.__new__(AnswerWorkers)
    workers.broken, workers._pending = True, {}  # a worker failed to start or died
    engine = FakeEngine()
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    h.workers = workers
    chat, _, _ = asyncio.run(h.answer_async(Q, [], (), None, None))
    assert "5.00万元" in chat[-1]["content"] and len(engine.calls) == 1


def test_store_watch_without_files_reads_the_generation_at_every_check() -> None:
    """A database server's store (BUDGETQA_DATABASE_URL) has no local file to stat."""
    reads: list[int] = []

    def read() -> int:
        reads.append(1)
        return len(reads)

    watch = StoreWatch(None, read)
    assert [watch.generation() for _ in range(3)] == [1, 2, 3]


def test_the_page_notices_a_postgres_index_change_with_no_file_changing(tmp_path: Path) -> None:
    """Another machine's `budgetqa index` into the shared database: the page's next question reloads."""
    from budgetqa.app.web import Handlers
    from budgetqa.index.store.ingest import open_store

    from tests.conftest import make_tiny_doc, make_tiny_facts, postgres_schema, postgres_url
    from tests.test_web import FakeEngine

    with postgres_schema(postgres_url()) as url:
        settings = Settings(home=tmp_path / "home", dense=False, database_url=url)
        engine = FakeEngine()
        h = Handlers(engine, settings)  # type: ignore[arg-type]
        before = h._fresh()
        writer = open_store(settings)
        doc = make_tiny_doc()
        writer.replace_document(doc, make_tiny_facts(doc))
        writer.close()
        assert h._fresh() == before + 1 and engine.reloads == 1
        assert h._fresh() == before + 1 and engine.reloads == 1  # unchanged: no reload


def test_a_warmed_engine_has_its_phrase_matcher_ready_before_the_first_question(
        indexed_home: Path, tmp_path: Path) -> None:
    """A fresh server's first wave must not wait for the model and the vocabulary's vectors (a new home
    embeds them: ~1-2 s on the worker every first question queued behind)."""
    import shutil

    from budgetqa.app.pipeline import Engine, _LazyPhraseMatcher
    from budgetqa.understand.item_match import label_text

    home = tmp_path / "home"
    shutil.copytree(indexed_home, home)
    engine = Engine(load_settings(home=home, dense=True))
    engine.warm()
    nearest = engine._load()[1].nearest
    assert isinstance(nearest, _LazyPhraseMatcher) and nearest._matcher is not None
    phrases = nearest._matcher.phrases
    assert phrases and nearest._matcher.matcher.cache.missing([label_text(p) for p in phrases]) == []
    assert (home / "item-vectors.sqlite3").exists()  # kept for the next start

    plain = Engine(load_settings(home=home, dense=False))
    plain.warm()
    assert plain._load()[1].nearest is None  # embeddings off: nothing to load


def test_the_page_warms_its_engine_before_answering_its_examples(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers

    class Audited(FakeEngine):
        def audit_all(self) -> dict[str, list[Any]]:
            assert self.warmed == 1  # the phrase matcher first: an example may need it
            return {}

    engine = Audited()
    Handlers(engine, Settings(home=tmp_path / "home", dense=False)).warm()  # type: ignore[arg-type]
    assert engine.warmed == 1 and engine.calls


def test_gradio_reads_each_functions_signature_once_and_gets_the_same_answer() -> None:
    import inspect

    import gradio.blocks
    import gradio.helpers
    from budgetqa.app import web

    seen = gradio.helpers.inspect
    assert isinstance(seen, web._CachedSignatures) and gradio.blocks.inspect is seen

    def event(question, chat=None, *, visitor=None):  # type: ignore[no-untyped-def]
        return question

    class Widget:
        def __init__(self, value: int = 1) -> None:
            self.value = value

        def method(self, x: int) -> int:
            return x

    first = seen.signature(event)
    assert first == inspect.signature(event) and seen.signature(event) is first
    assert seen.signature(Widget.__init__) == inspect.signature(Widget.__init__)
    assert seen.signature(Widget().method) == inspect.signature(Widget().method)  # bound: not kept, still right
    assert seen.signature(Widget) == inspect.signature(Widget)
    assert seen.isclass is inspect.isclass and seen.Parameter is inspect.Parameter  # the rest is inspect's


def test_the_load_test_reports_the_first_wave_apart() -> None:
    results = [L.Result(True, 1.0 + k, position=0) for k in range(3)]
    results += [L.Result(True, 0.1, position=k) for k in range(1, 10) for _ in range(3)]
    text = L.report(results, 10.0)
    assert "questions: 30, right: 30" in text
    assert "first questions p50 2.000 s" in text and "later questions p50 0.100 s" in text
