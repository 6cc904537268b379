"""TSV/CSV renderings -> blocks; the format sniffers must not claim raw or layout PDF text."""

from __future__ import annotations

from pathlib import Path

import pytest
from budgetqa.index.read.blocks import Grid, Heading, Paragraph
from budgetqa.index.read.text import looks_csv, looks_tsv, read_csv_text, read_tsv_text

from tests.paths import EXTRA

SEEDS = Path(__file__).resolve().parent.parent / "index" / "corpus"

RAW = "\n".join(["科目编码", "科目名称", "合计", "208", "社会保障和就业支出", "1,073.43", "210", "卫生健康支出"] * 5)
LAYOUT = "\n".join([
    "科目编码      科目名称                      合计        基本支出      项目支出",
    "208           社会保障和就业支出            1,073.43    1,073.43",
    "210           卫生健康支出                  2,940.05    2,106.66      833.39",
] * 5)
TSV = "# 一、收支总表\n单位：万元\n科目编码\t科目名称\t合计\n合计\t\t902.40\n208\t社会保障和就业支出\t137.70\n210\t卫生\t1.00\n"
CSV = 'title\n项目,,预算数\n一、财政拨款收入,,"189,767,551"\n合计,,"1,000"\n二、事业收入,,\n'


def test_sniffers_accept_their_format() -> None:
    assert looks_tsv(TSV) and not looks_csv(TSV)
    assert looks_csv(CSV) and not looks_tsv(CSV)


@pytest.mark.parametrize("text", [RAW, LAYOUT, "第一部分\n一、主要职责\n本单位预算1,234.00万元，增长5%。\n"])
def test_sniffers_reject_pdf_text(text: str) -> None:
    assert not looks_tsv(text)
    assert not looks_csv(text)


def test_tsv_blocks_headings_paragraphs_grid() -> None:
    blocks, pages, layout = read_tsv_text(TSV)
    assert layout == "tsv" and pages is None
    assert blocks[0] == Heading("一、收支总表", 1, None)
    assert isinstance(blocks[1], Paragraph) and blocks[1].text == "单位：万元"
    grid = blocks[2]
    assert isinstance(grid, Grid)
    assert grid.rows[1] == ("合计", "", "902.40")
    assert grid.quote(2) == "208\t社会保障和就业支出\t137.70"


def test_csv_keeps_quoted_thousands_separators() -> None:
    blocks, _, layout = read_csv_text(CSV)
    grid = next(b for b in blocks if isinstance(b, Grid))
    assert layout == "csv"
    assert grid.rows[1] == ("一、财政拨款收入", "", "189,767,551")


def test_page_headers_and_footers_dropped_and_table_spans_pages() -> None:
    pages = []
    for n in range(1, 5):
        pages.append(f"===== 第{n}页 =====\n某某局2025 年度部门预算公开\n")
    text = (pages[0] + "第一部分\n" + pages[1] + "科目编码\t科目名称\t合计\n201\t一般\t1.00\n- 2 -\n"
            + pages[2] + "20101\t行政运行\t1.00\n- 3 -\n" + pages[3] + "注：完\n")
    blocks, n_pages, _ = read_tsv_text(text)
    texts = [b.text for b in blocks if not isinstance(b, Grid)]
    assert "某某局2025 年度部门预算公开" not in texts and "- 2 -" not in texts
    grids = [b for b in blocks if isinstance(b, Grid)]
    assert len(grids) == 1 and len(grids[0].rows) == 3
    assert grids[0].page_of(2) == 3 and n_pages == 4


def test_caption_lines_inside_tsv_are_not_table_rows() -> None:
    text = "公开02表\t\t\t\n收入总表\t\t\t\n部门：某局\t\t\t单位：万元\n项目\t合计\t其他\n合计\t1.00\t\n"
    blocks, _, _ = read_tsv_text(text)
    assert [b.text for b in blocks[:3] if isinstance(b, Paragraph)] == ["公开02表", "收入总表", "部门：某局  单位：万元"]
    assert isinstance(blocks[3], Grid) and blocks[3].rows[0][0] == "项目"


@pytest.mark.parametrize("name", ["000_01543403f5824e7e.txt", "001_99a0e79d6e43ffbd.txt", "003_1d07f92e8e5daf27.txt"])
def test_tsv_seeds_sniffed(name: str) -> None:
    assert looks_tsv((SEEDS / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["002_62b2df7a6071b29f.txt", "004_cac2b92dd79aafa7.txt"])
def test_raw_seeds_not_claimed(name: str) -> None:
    text = (SEEDS / name).read_text(encoding="utf-8")
    assert not looks_tsv(text) and not looks_csv(text)


@pytest.mark.parametrize(("name", "tsv", "csv"), [
    ("wuxi-petition-bureau-2025-budget.txt", True, False),
    ("shanghai-putuo-wanli-subdistrict-2025-budget.txt", False, True),
    ("changsha-public-security-bureau-2025-budget.txt", False, False),
    ("foshan-rail-transit-bureau-2019-final-accounts.txt", False, False),
    ("xian-health-commission-2022-final-accounts.txt", False, False),
])
def test_extra_renderings_sniffed(name: str, tsv: bool, csv: bool) -> None:
    path = EXTRA / name
    if not path.is_file():
        pytest.skip("corpus-extra not present")
    text = path.read_text(encoding="utf-8")
    assert (looks_tsv(text), looks_csv(text)) == (tsv, csv)


def test_csv_narrative_figure_with_thousands_separator_stays_prose() -> None:
    text = CSV + "收入预算18,976.76万元\n"
    blocks, _, _ = read_csv_text(text)
    assert isinstance(blocks[-1], Paragraph) and blocks[-1].text == "收入预算18,976.76万元"
