"""Landscape tables printed rotated 90° (issue 14, case 9): a page whose text runs up or down gives the
same facts as the upright page. The fixture is made from a known PDF with PyMuPDF: its 表1 and “三公”
table pages placed rotated on portrait pages, beside the unrotated cover pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.read.readers import read_document

from tests.paths import EXTRA

SOURCE = EXTRA / "xian-medical-security-bureau-2022-budget.pdf"
PAGES = [0, 1, 2, 28, 44]  # cover and contents (unit, year) + 表1 收支总表 + 表13 “三公”经费表
ROTATED = {28, 44}

pytestmark = pytest.mark.skipif(not SOURCE.exists(), reason=f"needs {SOURCE}")


def _build(path: Path, rotate: int | None, attribute: bool = False) -> Path:
    import pymupdf

    src = pymupdf.open(SOURCE)
    out = pymupdf.open()
    for p in PAGES:
        if p in ROTATED and rotate is not None and not attribute:
            # the content itself turned: text lines run vertically (line dir (0, ±1))
            r = src[p].rect
            page = out.new_page(width=r.height, height=r.width)
            page.show_pdf_page(page.rect, src, p, rotate=rotate)
        else:
            out.insert_pdf(src, from_page=p, to_page=p)
            if p in ROTATED and attribute:
                out[-1].set_rotation(90)  # the page's /Rotate entry
    out.save(path)
    return path


def _facts(path: Path) -> set[tuple[object, ...]]:
    doc = read_document(path)
    return {(f.unit, f.year, f.table, f.row, f.code, f.column, f.value, f.measure, f.page)
            for f in extract_facts(doc) if f.page in (4, 5)}


@pytest.fixture(scope="module")
def upright(tmp_path_factory: pytest.TempPathFactory) -> set[tuple[object, ...]]:
    return _facts(_build(tmp_path_factory.mktemp("rot") / "upright.pdf", None))


def test_the_upright_pages_have_the_golden_figures(upright: set[tuple[object, ...]]) -> None:
    assert len(upright) > 250
    reception = {(f[3], f[6]) for f in upright if str(f[5]).endswith("2021年/一般公共预算拨款安排的“三公”经费预/算/公务接待费")}
    assert ("西安市医疗保障局本级", "10000") in reception  # 表13, the unit's own 公务接待费 row (code 1xx001 under 1xx)
    assert any(str(f[2]).startswith("表1 ") for f in upright)


@pytest.mark.parametrize("rotate", [90, 270])
def test_a_table_printed_rotated_gives_the_same_facts(tmp_path: Path, rotate: int,
                                                      upright: set[tuple[object, ...]]) -> None:
    assert _facts(_build(tmp_path / f"turned{rotate}.pdf", rotate)) == upright


def test_a_page_with_a_rotate_entry_gives_the_same_facts(tmp_path: Path, upright: set[tuple[object, ...]]) -> None:
    assert _facts(_build(tmp_path / "attr.pdf", 90, attribute=True)) == upright
