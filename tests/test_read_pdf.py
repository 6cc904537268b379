"""PDF reader: tables from character positions, clear errors for PDFs without text."""

from __future__ import annotations

from pathlib import Path

import pytest
from budgetqa.errors import UnreadableDocument
from budgetqa.index.read.blocks import Grid, Paragraph
from budgetqa.index.read.pdf import read_pdf

from tests import pdfs
from tests.paths import EXTRA

FONT = pdfs.FONT


def _pdf_with_table() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    pdfs.text(page, 72, 60, "一、收入支出决算总体情况说明")
    pdfs.text(page, 72, 80, "本年收入合计30.00万元，比上年增加2.00万元。")
    pdfs.text(page, 200, 110, "支出决算表", size=12)
    pdfs.text(page, 420, 130, "单位：万元")
    table = [("科目编码", "科目名称", "合计", "基本支出", "项目支出"),
             ("", "合计", "30.00", "10.00", "20.00"),
             ("201", "一般公共服务支出", "30.00", "10.00", "20.00"),
             ("20101", "人大事务", "5.00", "", "5.00")]
    pdfs.rows(page, table, top=160, labels=(72, 130), step=80)
    pdfs.text(page, 72, 250, "注：本表反映支出情况。")
    data = doc.tobytes()
    doc.close()
    return data


def test_table_and_prose_from_a_pdf() -> None:
    blocks, pages, layout = read_pdf("t.pdf", _pdf_with_table())
    assert (pages, layout) == (1, "pdf")
    (grid,) = [b for b in blocks if isinstance(b, Grid)]
    assert grid.rows[0][-3:] == ("合计", "基本支出", "项目支出")
    assert ("201", "一般公共服务支出", "30.00", "10.00", "20.00") in grid.rows
    assert ("20101", "人大事务", "5.00", "", "5.00") in grid.rows
    assert grid.page == 1
    texts = [b.text for b in blocks if isinstance(b, Paragraph)]
    assert "支出决算表" in texts and "单位：万元" in texts
    assert any("本年收入合计30.00万元" in t for t in texts)


def test_pdf_without_text_layer_is_refused() -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(50, 50, 300, 300), color=(0, 0, 0), fill=(0.5, 0.5, 0.5))
    data = doc.tobytes()
    doc.close()
    with pytest.raises(UnreadableDocument) as err:
        read_pdf("scan.pdf", data)
    assert "没有文字层" in err.value.reason and err.value.name == "scan.pdf"


def test_corrupt_pdf_is_refused() -> None:
    with pytest.raises(UnreadableDocument) as err:
        read_pdf("bad.pdf", b"%PDF-1.7\nthis is not a pdf at all")
    assert "PDF" in err.value.reason


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(EXTRA.glob("*.pdf")), ids=lambda p: p.stem)
def test_every_known_pdf_parses(path: Path) -> None:
    blocks, pages, _ = read_pdf(path.name, path.read_bytes())
    grids = [b for b in blocks if isinstance(b, Grid)]
    assert pages and pages > 20
    assert len(grids) >= 5
    assert all(b.page is not None for b in blocks)


@pytest.mark.slow
def test_foshan_pdf_rows() -> None:
    path = EXTRA / "foshan-rail-transit-bureau-2019-final-accounts.pdf"
    blocks, _, _ = read_pdf(path.name, path.read_bytes())
    rows = [r for b in blocks if isinstance(b, Grid) for r in b.rows]
    assert ("208", "社会保障和就业支出", "76.23", "76.23", "0.00", "0.00", "0.00", "0.00", "0.00") in rows
    assert ("一、一般公共预算财政拨款收入", "1", "1668.14", "一、一般公共服务支出", "27", "0.00") in rows
    assert ("30302", "退休费", "0.00", "30217", "公务接待费", "0.16") in rows  # 人员经费 | 公用经费 side by side
