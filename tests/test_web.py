"""The chat page without a browser: HTML rendering (web_render) and the event handlers (web.Handlers)
driven by a fake Engine, plus uploads through the real ingest into a throwaway home."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from budgetqa.app import web_render as R
from budgetqa.app.pipeline import Turn
from budgetqa.config import Settings, load_settings
from budgetqa.index.store.database import FactStore
from budgetqa.types import Answer, Citation, Value

from tests.fixtures_docs import MINQING_BUDGET

CITE = Citation(doc="001_99a0e79d6e43ffbd.txt", unit="福州市医疗保障局", year=2024, kind="预算",
                section="十、一般公共预算“三公”经费支出预算表", table="2024年度一般公共预算“三公”经费支出预算表",
                row="2、公务接待费", page=None, quote="2、公务接待费\t5.00")


def answered(verified: bool = True, text: str = "福州市医疗保障局2024年公务接待费预算为5.00万元。") -> Answer:
    return Answer(question="福州市医疗保障局的公务接待费是多少", status="answered", answer=text,
                  values=(Value(5.0, "万元", verified),), citations=(CITE,), unit="福州市医疗保障局")


# ---- rendering ----------------------------------------------------------------------------------


def test_verified_answer_marks_figure_and_shows_ok_badge() -> None:
    html = R.render_answer(answered(True))
    assert '<mark class="bq-fig">5.00万元</mark>' in html
    assert "✔ 已核对" in html and "未能核对" not in html


def test_unverified_answer_shows_warning_and_marks_figure_as_unverified() -> None:
    html = R.render_answer(answered(False))
    assert "⚠ 未能核对" in html and "✔ 已核对" not in html
    assert '<mark class="bq-fig bq-fig-unverified">5.00万元</mark>' in html


def test_answer_without_figures_is_not_called_verified() -> None:
    a = Answer(question="q", status="answered", answer="该单位没有公务用车。", citations=(CITE,))
    assert "⚠ 未能核对" in R.render_answer(a)


def test_only_reported_figures_are_highlighted_and_years_never() -> None:
    out = R.highlight_figures("2024年预算5.00万元，上年4.00万元，占比12.5%。",
                              [Value(5.0, "万元", True), Value(12.5, "%", True)])
    assert out.count("<mark") == 2
    assert "<mark class=\"bq-fig\">5.00万元</mark>" in out and "<mark class=\"bq-fig\">12.5%</mark>" in out
    assert "2024年" in out and "4.00万元" in out


def test_thousands_separator_figure_matches_value() -> None:
    out = R.highlight_figures("合计1,353.26万元", [Value(1353.26, "万元", True)])
    assert "<mark class=\"bq-fig\">1,353.26万元</mark>" in out


def test_user_and_document_text_is_escaped() -> None:
    a = Answer(question="q", status="error", answer="<script>alert(1)</script>")
    html = R.render_answer(a)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<img" not in R.render_question('<img src=x onerror="alert(1)">')


def test_rendered_html_has_no_blank_lines() -> None:
    # A blank line would end the chatbot's HTML block and expose the rest to markdown.
    a = answered(text="第一段。\n\n第二段5.00万元。")
    assert "\n" not in R.render_answer(a, [None])


def test_error_and_not_found_messages() -> None:
    err = R.render_answer(Answer(question="", status="error", answer="问题为空，请输入问题。"))
    assert "⚠ 无法回答" in err and "问题为空" in err
    nf = R.render_answer(Answer(question="q", status="not_found", answer="索引中没有该单位。",
                                candidates=("福州市医疗保障局", "福州市财政局")))
    assert "未找到" in nf and "福州市财政局" in nf and "已核对" not in nf


def test_long_question_is_shortened_in_the_echo() -> None:
    html = R.render_question("问" * 5000)
    assert "共 5000 字" in html and html.count("问") < 400


def test_citation_lists_every_field_and_the_quote() -> None:
    html = R.render_citation(CITE)
    for part in (CITE.doc, CITE.unit, "2024年", "预算", CITE.table, CITE.row, "5.00"):
        assert part in html, part
    assert html.startswith("<details") and "<summary>" in html


def test_citation_shows_page_when_known() -> None:
    c = Citation(**{**CITE.__dict__, "page": 20})
    assert "第20页" in R.render_citation(c)
    assert "页" not in R.render_citation(CITE).split("</summary>")[0]


def test_table_context_marks_the_cited_row_with_headers() -> None:
    rows = (("合计", ("5.00",)), ("1、因公出国（境）费用", ("0.00",)), ("2、公务接待费", ("5.00",)),
            ("3、公务用车购置及运行费", ("0.00",)))
    focus = R.find_focus(rows, CITE.row, CITE.quote)
    assert focus == 2
    html = R.render_table_context(R.TableContext(columns=("预算数",), rows=rows, focus=focus))
    assert "<th>项目</th><th>预算数</th>" in html
    assert '<tr class="bq-row-cited"><td>2、公务接待费</td><td>5.00</td></tr>' in html


def test_table_context_window_is_limited_around_focus() -> None:
    rows = tuple((f"行{i}", (str(i),)) for i in range(30))
    html = R.render_table_context(R.TableContext(columns=("数",), rows=rows, focus=15))
    assert html.count("<tr") == 1 + 2 * R.CONTEXT_ROWS + 1
    assert "行15" in html and "行3<" not in html and "bq-more" in html


def test_find_focus_falls_back_to_label_then_none() -> None:
    rows = (("差旅费", ("6.50",)), ("会议费", ("1.00",)))
    assert R.find_focus(rows, "会议费", "不同的引文") == 1
    assert R.find_focus(rows, "培训费", "") is None


@dataclass(frozen=True)
class Doc:
    name: str
    unit: str
    year: int | None
    kind: str | None
    pages: int | None
    n_facts: int
    subunits: tuple[str, ...] = field(default=())


DOCS = [Doc("b.txt", "福州市医疗保障局", 2024, "预算", None, 120), Doc("a.pdf", "某某区财政局", 2023, "决算", 40, 300),
        Doc("c.txt", "某某区财政局", 2024, "预算", None, 10)]


def test_filter_choices_and_parse_filters() -> None:
    units, years = R.filter_choices(DOCS)
    assert units == [R.ALL_UNITS, "某某区财政局", "福州市医疗保障局"]
    assert years == [R.ALL_YEARS, "2024", "2023"]
    assert R.parse_filters(R.ALL_UNITS, R.ALL_YEARS) == (None, None)
    assert R.parse_filters("福州市医疗保障局", "2024") == ("福州市医疗保障局", 2024)


def test_document_rows_and_examples_come_from_the_index() -> None:
    rows = R.document_rows(DOCS)
    assert [r[0] for r in rows] == ["c.txt", "a.pdf", "b.txt"]  # by unit, newest year first
    assert rows[1][1:] == ["某某区财政局", "2023", "决算", "40", "300"] and rows[0][4] == "—"
    examples = R.example_questions(DOCS)
    assert examples[0] == "某某区财政局的公务接待费是多少" and "那差旅费呢？" in examples
    assert R.example_questions([]) != []


def test_ingest_message_names_failures_in_chinese() -> None:
    msg = R.ingest_message([], [], [("cat.txt", "不是预算或决算文档")], 0)
    assert "无法加入索引" in msg and "cat.txt" in msg and "不是预算或决算文档" in msg
    assert "没有收到文件" in R.ingest_message([], [], [], 0)
    assert "已加入索引：x.txt" in R.ingest_message(["x.txt"], [], [], 12)


# ---- handlers with a fake engine ----------------------------------------------------------------


class FakeEngine:
    """Answers from a fixed table; records what the page passed; keeps the unit for follow-ups."""

    FIGURES = {"公务接待费": ("5.00", 5.0), "差旅费": ("6.50", 6.5)}

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.reloads = 0
        self.warmed = 0

    def warm(self) -> None:
        self.warmed += 1

    def reload(self) -> None:
        self.reloads += 1

    def ask(self, question: str, *, unit: str | None = None, year: int | None = None,
            history: Sequence[Turn] = (), qid: str | None = None) -> Answer:
        with self.lock:
            self.calls.append({"q": question, "unit": unit, "year": year, "history": list(history)})
        q = question.strip()
        if not q:
            return Answer(question=question, status="error", answer="问题为空，请输入要查询的问题。")
        if len(q) > 1000:
            return Answer(question=question, status="error", answer="问题太长（超过1000字），请精简后再问。")
        if "爆炸" in q:
            raise RuntimeError("boom")
        item = next((k for k in self.FIGURES if k in q), None)
        who = "福州市医疗保障局" if "医疗保障" in q else (history[-1].unit if history else unit)
        if item is None or who is None:
            return Answer(question=question, status="not_found", answer="没有找到相关数据。")
        printed, value = self.FIGURES[item]
        cite = Citation(**{**CITE.__dict__, "row": item, "quote": f"{item}\t{printed}"})
        return Answer(question=question, status="answered", answer=f"{who}{item}为{printed}万元。",
                      values=(Value(value, "万元", True),), citations=(cite,), unit=who)

    def ask_stream(self, question: str, **kw: Any) -> Iterator[str | Answer]:
        yield self.ask(question, **kw)  # as the real Engine without an LLM


class StreamingEngine(FakeEngine):
    """A model that first writes a wrong figure, then the checked answer that replaced it."""

    def __init__(self, chunks: Sequence[str], final: Answer | Exception) -> None:
        super().__init__()
        self.chunks, self.final = chunks, final

    def ask_stream(self, question: str, **kw: Any) -> Iterator[str | Answer]:
        self.calls.append({"q": question, **kw})
        yield from self.chunks
        if isinstance(self.final, Exception):
            raise self.final
        yield self.final


def _handlers(tmp_path: Path) -> tuple[Any, FakeEngine]:
    from budgetqa.app.web import Handlers

    engine = FakeEngine()
    # dense=False: uploads go through the real reader, extractor and store, without vectors.
    return Handlers(engine, Settings(home=tmp_path / "home", dense=False)), engine  # type: ignore[arg-type]


def _run(gen: Any) -> list[Any]:
    return list(gen)


def test_ask_shows_question_then_answer_and_records_turn(tmp_path: Path) -> None:
    h, engine = _handlers(tmp_path)
    steps = _run(h.ask("福州市医疗保障局的公务接待费是多少", [], (), R.ALL_UNITS, R.ALL_YEARS))
    assert "正在查找" in steps[0][0][-1]["content"]
    chat, turns, box = steps[-1]
    assert box == "" and [m["role"] for m in chat] == ["user", "assistant"]
    assert "5.00万元</mark>" in chat[1]["content"] and "✔ 已核对" in chat[1]["content"]
    assert turns == (Turn("福州市医疗保障局的公务接待费是多少", "福州市医疗保障局", 2024),)
    assert engine.calls[0]["unit"] is None and engine.calls[0]["year"] is None


def test_streamed_draft_is_marked_unchecked_then_replaced_by_the_checked_answer(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers

    engine = StreamingEngine(["福州", "市医疗保障局…50.00万元"], answered(True))
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    steps = _run(h.ask("福州市医疗保障局的公务接待费是多少", [], (), None, None))
    bubbles = [s[0][-1]["content"] for s in steps]
    assert len(steps) == 4 and "正在查找" in bubbles[0]
    assert "正在核对数字…" in bubbles[1] and "福州" in bubbles[1] and "50.00" not in bubbles[1]
    assert "正在核对数字…" in bubbles[2] and "福州市医疗保障局…50.00万元" in bubbles[2]
    assert all("已核对" not in b and "<mark" not in b for b in bubbles[1:3])
    assert all(s[1] == () for s in steps[:-1])  # no turn recorded for a draft
    final, turns = bubbles[-1], steps[-1][1]
    assert "✔ 已核对" in final and '<mark class="bq-fig">5.00万元</mark>' in final
    assert "50.00" not in final and "正在核对数字" not in final and "bq-draft" not in final
    assert turns == (Turn("福州市医疗保障局的公务接待费是多少", "福州市医疗保障局", 2024),)
    assert [m["role"] for m in steps[-1][0]] == ["user", "assistant"]


def test_streamed_draft_is_escaped_and_has_no_blank_lines(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers

    engine = StreamingEngine(["<script>alert(1)</script>", "\n\n第二段"], answered(True))
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    draft = _run(h.ask("公务接待费", [], (), None, None))[2][0][-1]["content"]
    assert "<script>" not in draft and "&lt;script&gt;" in draft and "\n" not in draft


def test_a_crash_mid_stream_replaces_the_draft_with_a_message(tmp_path: Path) -> None:
    from budgetqa.app.web import Handlers

    engine = StreamingEngine(["福州市医疗保障局…50.00万元"], RuntimeError("boom"))
    h = Handlers(engine, Settings(home=tmp_path / "home", dense=False))  # type: ignore[arg-type]
    chat, turns, _ = _run(h.ask("福州市医疗保障局的公务接待费是多少", [], (), None, None))[-1]
    final = chat[-1]["content"]
    assert "内部错误" in final and "50.00" not in final and "boom" not in final and turns == ()


def test_without_a_model_the_answer_comes_in_one_step(tmp_path: Path) -> None:
    h, _ = _handlers(tmp_path)
    steps = _run(h.ask("福州市医疗保障局的公务接待费是多少", [], (), None, None))
    assert len(steps) == 2 and "✔ 已核对" in steps[1][0][-1]["content"]
    assert not any("正在核对数字" in s[0][-1]["content"] for s in steps)


def test_follow_up_passes_history_and_keeps_the_unit(tmp_path: Path) -> None:
    h, engine = _handlers(tmp_path)
    chat, turns, _ = _run(h.ask("福州市医疗保障局的公务接待费是多少", [], (), None, None))[-1]
    chat, turns, _ = _run(h.ask("那差旅费呢？", chat, turns, None, None))[-1]
    assert engine.calls[1]["history"] == [Turn("福州市医疗保障局的公务接待费是多少", "福州市医疗保障局", 2024)]
    assert "6.50万元" in chat[-1]["content"] and len(chat) == 4 and len(turns) == 2


def test_filters_reach_the_engine(tmp_path: Path) -> None:
    h, engine = _handlers(tmp_path)
    _run(h.ask("公务接待费是多少", [], (), "福州市医疗保障局", "2024"))
    assert engine.calls[0]["unit"] == "福州市医疗保障局" and engine.calls[0]["year"] == 2024


def test_two_sessions_do_not_share_history(tmp_path: Path) -> None:
    h, engine = _handlers(tmp_path)
    _, turns_a, _ = _run(h.ask("福州市医疗保障局的公务接待费是多少", [], (), None, None))[-1]
    _run(h.ask("那差旅费呢？", [], (), None, None))  # a second visitor with a fresh state
    assert engine.calls[1]["history"] == [] and len(turns_a) == 1


def test_not_found_keeps_the_unit_for_the_next_turn(tmp_path: Path) -> None:
    h, engine = _handlers(tmp_path)
    _, turns, _ = _run(h.ask("福州市医疗保障局的培训费是多少", [], (), None, None))[-1]
    assert turns == (Turn("福州市医疗保障局的培训费是多少", None, None),)
    _, turns, _ = _run(h.ask("培训费是多少", [], (), "福州市医疗保障局", "2024"))[-1]
    assert turns[-1].unit == "福州市医疗保障局" and turns[-1].year == 2024


@pytest.mark.parametrize(("question", "expected"), [("", "问题为空"), ("   ", "问题为空"), ("问" * 5000, "问题太长")])
def test_bad_questions_get_clear_messages_and_no_turn(tmp_path: Path, question: str, expected: str) -> None:
    h, _ = _handlers(tmp_path)
    chat, turns, _ = _run(h.ask(question, [], (), None, None))[-1]
    assert expected in chat[-1]["content"] and "⚠" in chat[-1]["content"] and turns == ()


def test_engine_crash_becomes_a_message_not_a_traceback(tmp_path: Path) -> None:
    h, _ = _handlers(tmp_path)
    chat, turns, _ = _run(h.ask("爆炸的公务接待费", [], (), None, None))[-1]
    assert "内部错误" in chat[-1]["content"] and "boom" not in chat[-1]["content"] and turns == ()


def test_clear_resets_the_session() -> None:
    from budgetqa.app.web import Handlers

    assert Handlers.clear() == ([], (), "")


def test_scope_prefers_answered_unit_then_citations_then_filters() -> None:
    from budgetqa.app.web import _scope

    assert _scope(answered(), None, None) == ("福州市医疗保障局", 2024)
    bare = Answer(question="q", status="answered", answer="x", citations=(CITE,))
    assert _scope(bare, "别的单位", 2023) == ("福州市医疗保障局", 2024)
    assert _scope(Answer(question="q", status="answered", answer="x"), "某局", 2023) == ("某局", 2023)


def test_launch_options_are_offline_and_narrow(tmp_path: Path) -> None:
    from budgetqa.app.web import THEME, launch_options

    opts = launch_options(Settings(home=tmp_path))
    assert opts["share"] is False and opts["server_name"] == "127.0.0.1"
    assert opts["allowed_paths"] == [] and str(tmp_path / "facts.sqlite3") in opts["blocked_paths"]
    assert str(tmp_path / "uploads" / "work") in opts["blocked_paths"]
    assert opts["max_file_size"] == "20mb" and opts["app_kwargs"]["middleware"]
    fonts = [f for f in (*THEME._font, *THEME._font_mono) if not isinstance(f, str)]
    assert all(type(f).__name__ == "Font" for f in fonts), "theme must not reference web fonts"


def test_build_app_has_separate_concurrency_groups(tmp_path: Path) -> None:
    from budgetqa.app.web import build_app

    engine = FakeEngine()
    app = build_app(engine, load_settings(home=tmp_path / "home"))  # type: ignore[arg-type]
    groups = {fn.concurrency_id: fn.concurrency_limit for fn in app.fns.values() if fn.concurrency_id in ("ask", "ingest")}
    assert groups["ingest"] == 1 and groups["ask"] >= 2
    assert app.analytics_enabled is False


def test_page_html_strings_contain_no_cdn_urls() -> None:
    from budgetqa.app.web import CSS

    assert not re.search(r"https?://", CSS)


def test_table_context_picks_the_same_titled_table_holding_the_row() -> None:
    from budgetqa.app.web import table_context
    from budgetqa.index.model import Row, Table

    def table(labels: list[str]) -> Table:
        rows = tuple(Row(lab, None, ("1.00",), None, f"{lab}\t1.00") for lab in labels)
        return Table(CITE.table, CITE.section, "万元", ("预算数",), rows, None)

    ctx = table_context([table(["合计"]), table(["合计", "2、公务接待费"])], CITE)
    assert ctx is not None and ctx.focus == 1 and ctx.columns == ("预算数",)
    assert table_context([], CITE) is None
    only = table_context([table(["合计"])], CITE)
    assert only is not None and only.focus is None


# ---- uploads through the real ingest --------------------------------------------------------------



def _write(folder: Path, name: str, text: str | bytes) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


class Progress:
    def __init__(self) -> None:
        self.steps: list[tuple[float, str]] = []

    def __call__(self, fraction: float, desc: str = "") -> None:
        self.steps.append((fraction, desc))


def test_upload_joins_the_visitors_own_corpus_and_refreshes_filters(tmp_path: Path) -> None:
    from budgetqa.app.uploads import PRIVATE_PREFIX

    h, engine = _handlers(tmp_path)
    src = _write(tmp_path / "gradio-tmp", "minqing_2025.md", MINQING_BUDGET)
    progress = Progress()
    message, rows, unit_dd, year_dd, examples, visitor = h.upload([src], "某个已删除的单位", "2025", None, None, progress)
    name = PRIVATE_PREFIX + "minqing_2025.md"
    assert f"已加入索引：{name}" in message and "只加入您本次会话" in message and "无法" not in message
    assert [r[:4] for r in rows] == [[name, "闽清县档案馆", "2025", "预算"]]
    assert "闽清县档案馆" in [c[0] for c in unit_dd.choices] and unit_dd.value == R.ALL_UNITS
    assert year_dd.value == "2025"
    assert examples.raw_samples[0] == ["闽清县档案馆的公务接待费是多少"]
    assert engine.reloads == 0 and progress.steps[0][0] == 0.0 and progress.steps[-1][0] == 1.0
    assert not Path(src).exists()  # moved out of gradio's folder ...
    assert not any((tmp_path / "home" / "uploads").rglob("*.md"))  # ... and deleted once read
    assert h.documents() == [] and not FactStore(h.settings.store_path).documents()  # the shared corpus is untouched
    again = h.upload([_write(tmp_path / "gradio-tmp", "minqing_2025.md", MINQING_BUDGET)], None, None, visitor)[0]
    assert "内容未变" in again


def test_upload_of_a_non_document_is_refused_and_deleted(tmp_path: Path) -> None:
    h, engine = _handlers(tmp_path)
    good = _write(tmp_path / "in", "minqing_2025.md", MINQING_BUDGET)
    visitor = h.upload([good], None, None)[-1]
    bad = [_write(tmp_path / "in", "shopping.txt", "购物清单\n牛奶\n鸡蛋\n"),
           _write(tmp_path / "in", "scan.pdf", b"%PDF-1.4 not really a pdf")]
    message, rows, *_ = h.upload(bad, None, None, visitor)
    assert message.count("⚠ 无法加入索引") == 2 and "shopping.txt" in message and "scan.pdf" in message
    assert [r[0] for r in rows] == ["您上传的文件/minqing_2025.md"]
    assert not any((tmp_path / "home" / "uploads").rglob("*.*"))  # refused files are not kept anywhere
    assert engine.reloads == 0


def test_upload_of_a_pdf_without_text_layer_explains_why(tmp_path: Path) -> None:
    import pymupdf

    h, engine = _handlers(tmp_path)
    scan = tmp_path / "in" / "scan.pdf"
    scan.parent.mkdir(parents=True)
    pdf = pymupdf.open()
    pdf.new_page().draw_rect(pymupdf.Rect(50, 50, 300, 300), fill=(0.5, 0.5, 0.5))  # an image-like page
    pdf.save(scan)
    message = h.upload([str(scan)], None, None)[0]
    assert "无法加入索引：scan.pdf" in message and "文字层" in message, message
    assert engine.reloads == 0


def test_upload_with_no_file_says_so(tmp_path: Path) -> None:
    h, _ = _handlers(tmp_path)
    assert "没有收到文件" in h.upload(None, None, None)[0]


def test_answer_shows_the_cited_row_in_its_table(tmp_path: Path) -> None:
    h, _ = _handlers(tmp_path)
    visitor = h.upload([_write(tmp_path / "in", "minqing_2025.md", MINQING_BUDGET)], None, None)[-1]
    cite = Citation(doc="您上传的文件/minqing_2025.md", unit="闽清县档案馆", year=2025, kind="预算", section="",
                    table="2025年度一般公共预算“三公”经费支出预算表", row="2、公务接待费", page=None,
                    quote="2、公务接待费\t3.20")
    narrative = Citation(**{**cite.__dict__, "table": "", "row": "公务接待费"})
    ctx, missing, text = h._contexts([cite, Citation(**{**cite.__dict__, "doc": "missing.md"}), narrative], visitor)
    assert ctx is not None and ctx.columns == ("预算数",) and ctx.rows[ctx.focus] == ("2、公务接待费", ("3.20",))
    assert missing is None and text is None


# ---- the real Engine (bundled corpus, BM25 only) with and without a fake chat model ---------------

LLM_Q = "福州市医疗保障局的公务接待费是多少"


@pytest.fixture(scope="module")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from budgetqa.index.store.ingest import ensure_index

    settings = Settings(home=tmp_path_factory.mktemp("web-engine"), dense=False)
    ensure_index(settings)  # once for the module: the bundled corpus into a throwaway home
    return settings


def _real(settings: Settings, *replies: str) -> Any:
    from budgetqa.app.pipeline import Engine
    from budgetqa.app.web import Handlers
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    model = FakeListChatModel(responses=list(replies)) if replies else None
    return Handlers(Engine(settings, chat_model=model), settings)


@pytest.mark.slow
def test_real_engine_without_a_model_answers_in_one_step(corpus_settings: Settings) -> None:
    steps = _run(_real(corpus_settings).ask(LLM_Q, [], (), None, None))
    final = steps[-1][0][-1]["content"]
    assert len(steps) == 2 and "✔ 已核对" in final and "5.00万元</mark>" in final and "正在核对数字" not in final
    assert "bq-row-cited" in final  # the cited row shown in its table, from the store


@pytest.mark.slow
def test_real_engine_a_wrong_model_figure_never_reaches_the_page_as_checked(corpus_settings: Settings) -> None:
    from budgetqa.check.llm import NOTE_UNVERIFIED

    steps = _run(_real(corpus_settings, "福州市医疗保障局2024年公务接待费预算为50.00万元。").ask(LLM_Q, [], (), None, None))
    drafts = [s[0][-1]["content"] for s in steps[1:-1]]
    assert drafts and all("正在核对数字" in d and "已核对" not in d for d in drafts)
    assert "50.00万元" in drafts[-1]  # it was streamed, as a draft …
    final = steps[-1][0][-1]["content"]
    assert "50.00" not in final and "正在核对数字" not in final  # … and replaced
    assert "✔ 已核对" in final and '<mark class="bq-fig">5.00万元</mark>' in final and NOTE_UNVERIFIED in final
    assert steps[-1][1][-1].unit == "福州市医疗保障局"


@pytest.mark.slow
def test_real_engine_a_right_model_answer_is_shown_checked(corpus_settings: Settings) -> None:
    reply = "福州市医疗保障局2024年公务接待费预算为5.00万元。"
    steps = _run(_real(corpus_settings, reply).ask(LLM_Q, [], (), None, None))
    assert len(steps) > 3 and all("正在核对数字" in s[0][-1]["content"] for s in steps[1:-1])
    final = steps[-1][0][-1]["content"]
    assert reply.replace("5.00万元", '<mark class="bq-fig">5.00万元</mark>') in final and "✔ 已核对" in final
