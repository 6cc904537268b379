"""The cited page as a picture: the row or sentence boxed, only indexed PDFs served, pictures cached."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from budgetqa.app.pages import PageImages, doc_id, image_url, mark_boxes, pdf_url
from budgetqa.config import Settings
from budgetqa.index.store.ingest import index_paths
from budgetqa.types import Answer, Citation, doc_title

from tests import pdfs

FONT = pdfs.FONT
ROWS = [("项目", "预算数", "上年数"), ("合计", "12.30", "11.00"), ("2、公务接待费", "3.20", "3.00"),
        ("3、公务用车运行费", "9.10", "8.00")]
SENTENCE = ("2026年本部门一般公共预算机关运行经费预算支出98.53万元，与上年相比减少1.15万元，"
            "主要原因是厉行节约，减少行政运行费用支出。")


def _budget_pdf() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    pdfs.text(page, 72, 60, "闽清县档案馆2026年部门预算", size=12)
    pdfs.text(page, 72, 90, "一般公共预算“三公”经费支出预算表", size=11)
    pdfs.text(page, 400, 110, "单位：万元")
    pdfs.rows(page, ROWS, top=140)
    page = doc.new_page()
    page.insert_text((72, 60), "十二、机关运行经费支出预算情况说明", fontname=FONT, fontsize=11)
    page.insert_textbox(pymupdf.Rect(72, 80, 300, 200), SENTENCE, fontname=FONT, fontsize=10)  # wraps
    data = doc.tobytes()
    doc.close()
    return data


@pytest.fixture()
def pdf_page() -> object:
    import pymupdf

    return pymupdf.open(stream=_budget_pdf(), filetype="pdf")


def test_a_row_is_boxed_from_its_label_to_its_last_figure(pdf_page: object) -> None:
    page = pdf_page[0]  # type: ignore[index]
    (box,) = mark_boxes(page, "2、公务接待费\t3.20\t3.00")
    label = page.search_for("公务接待费")[0]
    assert box.x0 <= label.x0 and box.x1 >= 330 + 90 - 5  # label to the last column
    assert label.y0 - 3 <= box.y0 and box.y1 <= label.y1 + 3  # one printed line, not the table
    (total,) = mark_boxes(page, "合计\t12.30\t11.00")
    assert total.y1 <= box.y0  # another row, another line


def test_a_wrapped_sentence_is_boxed_line_by_line(pdf_page: object) -> None:
    boxes = mark_boxes(pdf_page[1], SENTENCE[:60])  # type: ignore[index]
    assert len(boxes) >= 2 and boxes[0].y0 < boxes[1].y0


def test_a_quote_not_on_the_page_marks_nothing(pdf_page: object) -> None:
    assert mark_boxes(pdf_page[0], "99.99\t88.88") == []  # type: ignore[index]
    assert mark_boxes(pdf_page[0], "") == []  # type: ignore[index]


@pytest.fixture()
def indexed_pdf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    from budgetqa.config import load_settings

    src = tmp_path / "docs" / "minqing.pdf"
    src.parent.mkdir()
    src.write_bytes(_budget_pdf())
    monkeypatch.setenv("BUDGETQA_HOME", str(tmp_path / "home"))
    settings = load_settings()
    report = index_paths([src], settings, progress=False, dense=False)
    assert report.indexed == 1, report.failed
    return settings, src


def test_page_picture_for_an_indexed_pdf_with_the_cited_row(indexed_pdf: tuple[Settings, Path]) -> None:
    settings, src = indexed_pdf
    images = PageImages(settings)
    (source,) = images.sources().values()
    assert source.id == doc_id(hashlib.sha256(src.read_bytes()).hexdigest()) and source.path == src.resolve()
    from budgetqa.index.store.database import FactStore

    store = FactStore(settings.store_path)
    fact = next(f for f in store.facts() if f.row.endswith("公务接待费") and f.page == 1)
    (info,) = store.documents()
    store.close()
    assert info.title == "闽清县档案馆2026年部门预算"
    png = images.render(source.id, 1, fact.quote)
    assert png is not None and png.startswith(b"\x89PNG")
    assert list((settings.home / "pages" / source.id).glob("p1-*.png")), "cached under BUDGETQA_HOME"
    assert images.render(source.id, 1, fact.quote) == png


def test_only_indexed_unchanged_pdfs_and_cited_quotes_are_served(indexed_pdf: tuple[Settings, Path]) -> None:
    settings, src = indexed_pdf
    images = PageImages(settings)
    (source,) = images.sources().values()
    assert images.render(source.id, 1, "made-up text to fill the cache") is None
    assert images.render(source.id, 99, "") is None
    assert images.render("../../etc/passwd", 1, "") is None and images.pdf("0" * 16) is None
    assert images.pdf(source.id) == (src.read_bytes(), "minqing.pdf")
    src.write_bytes(src.read_bytes() + b"\n%changed")  # the file on disk is no longer what was indexed
    assert images.pdf(source.id) is None and images.render(source.id, 1, "") is None


def test_urls_name_the_id_and_page() -> None:
    assert image_url("0123456789abcdef", 3, "2、公务接待费\t5.00").startswith("/bq/page/0123456789abcdef/3.png?q=")
    assert pdf_url("0123456789abcdef", 3) == "/bq/pdf/0123456789abcdef.pdf#page=3"


def test_citation_json_leads_with_the_documents_title() -> None:
    c = Citation(doc="001.txt", unit="福州市医疗保障局", year=2024, kind="预算", section="", table="t", row="r",
                 page=None, quote="q", title="福州市医疗保障局2024年部门预算")
    out = Answer("q", "answered", "a", citations=(c,)).to_json()["citations"][0]
    assert list(out)[0] == "title" and out["title"] == "福州市医疗保障局2024年部门预算" and out["doc"] == "001.txt"
    bare = Citation(doc="x.txt", unit="某局", year=2023, kind="决算", section="", table="", row="", page=None, quote="")
    assert doc_title(bare) == "某局2023年决算"


def test_cli_text_names_title_first_then_the_file_path_and_page() -> None:
    from budgetqa.app.cli import _answer_text

    c = Citation(doc="minqing.pdf", unit="闽清县档案馆", year=2026, kind="预算", section="", table="三公表",
                 row="2、公务接待费", page=1, quote="2、公务接待费\t3.20", title="闽清县档案馆2026年部门预算")
    text = _answer_text(Answer("q", "answered", "a", citations=(c,)), {"minqing.pdf": "/data/minqing.pdf"})
    first, second = text.splitlines()[1:3]
    assert first.strip().startswith("[1] 闽清县档案馆2026年部门预算 · 三公表 · 2、公务接待费 · 第 1 页")
    assert "/data/minqing.pdf" in second and "第 1 页" in second


def test_web_source_shows_title_first_and_the_page_picture_when_opened() -> None:
    from budgetqa.app import web_render as R

    c = Citation(doc="minqing.pdf", unit="闽清县档案馆", year=2026, kind="预算", section="", table="三公表",
                 row="2、公务接待费", page=1, quote="2、公务接待费\t3.20", title="闽清县档案馆2026年部门预算")
    link = R.SourceLink(image_url("0123456789abcdef", 1, c.quote), pdf_url("0123456789abcdef", 1))
    html = R.render_citation(c, None, link)
    summary = html[html.index("<summary>"):html.index("</summary>")]
    assert summary.index("闽清县档案馆2026年部门预算") < summary.index("三公表") < summary.index("minqing.pdf")
    assert 'loading="lazy"' in html and "/bq/page/0123456789abcdef/1.png?q=" in html
    assert 'href="/bq/pdf/0123456789abcdef.pdf#page=1"' in html and "打开原文件 PDF（第1页）" in html
    assert "<img" not in R.render_citation(c, None, None)  # a text source: the quote, no picture
