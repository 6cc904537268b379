"""Intake of real-world files: the type read from the bytes, the unit from the document's own captions,
narrative-only disclosures accepted, and every refusal naming the file and the reason."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from budgetqa.errors import NoTextLayer, UnreadableDocument
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.read.meta import DISCLOSURE_PHRASES, KIND_WORDS, ORG_ENDS, UNIT_FIELDS
from budgetqa.index.read.readers import read_document, sniff

FONT = "china-s"

SCHOOL_BUDGET = "\n".join([
    "上海市2026年市级单位预算",
    "预算单位：上海科技大学附属学校",
    "目录",
    "一、单位主要职能",
    "学校主要承担义务教育阶段的教育教学工作。",
    "二、收支预算总表",
    "单位：万元",
    "项目\t预算数",
    "一、一般公共预算拨款收入\t3,210.50",
    "收入总计\t3,210.50",
])

BEIJING_NARRATIVE = "\n".join([
    "北京市信访办公室部门2026 年度部门预算信息公开",
    "一、部门基本情况",
    "北京市信访办公室主要负责全市信访工作的组织协调。",
    "二、收支预算情况的总体说明",
    "2026年收入预算4,321.09万元，其中财政拨款收入4,300.00万元。",
    "2026年支出预算4,321.09万元，其中基本支出3,100.00万元，项目支出1,221.09万元。",
    "三、“三公”经费预算情况说明",
    "2026年“三公”经费财政拨款预算12.50万元，其中公务接待费2.30万元。",
])

XIAN_NARRATIVE = "\n".join([
    "西安市审计局（汇总）",
    "2026年部门预算公开说明",
    "第一部分：部门概况",
    "三、预算单位构成",
    "本部门预算包括二级预算单位：西安市计算机审计信息中心。",
    "第二部分：部门预算收支情况说明",
    "五、收支预算总体情况说明",
    "2026年收入预算总额5,260.00万元，支出预算总额5,260.00万元。",
])


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _pdf(lines: list[str]) -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    for k, line in enumerate(lines):
        page.insert_text((72, 72 + 18 * k), line, fontname=FONT, fontsize=10)
    data = doc.tobytes()
    doc.close()
    return data


def _reason(path: Path) -> str:
    with pytest.raises(UnreadableDocument) as err:
        read_document(path)
    assert err.value.name == path.name
    return err.value.reason


# ---- file type by content ----------------------------------------------------------------------


def test_html_page_saved_as_pdf_is_refused_with_the_reason(tmp_path: Path) -> None:
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>2026年部门预算</title></head>"
            "<body><p>北京市财政局2026年部门预算 请点击下载附件</p></body></html>")
    reason = _reason(_write(tmp_path, "2026年北京市财政局部门预算.pdf", page))
    assert "HTML 网页" in reason and "不是 PDF" in reason and "下载" in reason


def test_picture_or_word_named_pdf_is_refused_naming_what_it_is(tmp_path: Path) -> None:
    import pymupdf

    png = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 8, 8), False).tobytes("png")
    assert "PNG 图片" in _reason(_write(tmp_path, "scan.pdf", png))
    docx = b"PK\x03\x04" + b"\x00" * 26 + b"word/document.xml" + b"\x00" * 200
    assert "不是 PDF" in _reason(_write(tmp_path, "budget.pdf", docx))


def test_pdf_saved_as_txt_is_read_as_a_pdf(tmp_path: Path) -> None:
    data = _pdf(["上海科技大学附属学校2026年单位预算", "预算单位：上海科技大学附属学校",
                 "2026年收入预算3,210.50万元。"])
    doc = read_document(_write(tmp_path, "budget.txt", data))
    assert doc.layout == "pdf" and doc.unit == "上海科技大学附属学校"


def test_sniff_tells_text_html_and_pdf_apart() -> None:
    assert sniff(b"%PDF-1.7\n...").kind == "pdf"
    assert sniff("\ufeff<html><body>x</body></html>".encode()).kind == "html"
    assert sniff("项目\t预算数\n合计\t5.00\n".encode()).kind == "text"
    assert sniff("# 2024年部门预算\n| a | b |".encode("gb18030")).kind == "text"


def test_scanned_pdf_says_how_to_get_a_text_pdf(tmp_path: Path) -> None:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.draw_rect(pymupdf.Rect(50, 50, 300, 200), fill=(0.2, 0.2, 0.2))  # a picture, no text
    path = _write(tmp_path, "scan.pdf", doc.tobytes())
    with pytest.raises(NoTextLayer) as err:  # its own class: an OCR step can take these later
        read_document(path)
    reason = err.value.reason
    assert "扫描件" in reason and "没有文字层" in reason and "OCR" in reason and "复制文字" in reason


# ---- the unit and the title from the document's own words --------------------------------------


def test_unit_budget_names_its_unit_from_its_budget_unit_line(tmp_path: Path) -> None:
    doc = read_document(_write(tmp_path, "001_上海_教育委员会_2026年部门预算.txt", SCHOOL_BUDGET))
    assert doc.unit == "上海科技大学附属学校"
    assert doc.title == "上海科技大学附属学校2026年单位预算"
    assert doc.source == str((tmp_path / "001_上海_教育委员会_2026年部门预算.txt").resolve())


def test_a_sub_unit_named_in_a_sentence_does_not_become_the_unit(tmp_path: Path) -> None:
    doc = read_document(_write(tmp_path, "shenji.txt", XIAN_NARRATIVE))
    assert doc.unit == "西安市审计局" and doc.year == 2026 and doc.kind == "预算"
    assert doc.title == "西安市审计局2026年部门预算"


def test_narrative_only_disclosure_is_accepted_and_its_figures_become_facts(tmp_path: Path) -> None:
    doc = read_document(_write(tmp_path, "信访局_2026年部门预算.txt", BEIJING_NARRATIVE))
    assert doc.unit == "北京市信访办公室" and doc.year == 2026 and not doc.tables
    assert doc.title == "北京市信访办公室2026年部门预算"
    values = {(f.value, f.measure) for f in extract_facts(doc)}
    assert {("4,321.09", "万元"), ("2.30", "万元"), ("12.50", "万元")} <= values


@pytest.mark.parametrize(("text", "why"), [
    ("济南市审计局政府信息公开申请表\n申请人姓名\n工作单位\n联系电话", "济南市审计局政府信息公开申请表"),
    ("长沙市财政项目支出绩效评价报告\n评价项目单位：长沙市人民政府国有资产监督管理委员会\n项目预算13,237万元",
     "长沙市财政项目支出绩效评价报告"),
])
def test_a_file_that_never_calls_itself_a_disclosure_is_refused_with_its_opening(tmp_path: Path, text: str,
                                                                                  why: str) -> None:
    reason = _reason(_write(tmp_path, "2026年部门预算.txt", text))
    assert "不是预算/决算公开文件" in reason and why[:20] in reason


@pytest.mark.parametrize(("head", "title"), [
    ("西安市气象局 2022 年部门综合预算", "西安市气象局2022年部门综合预算"),
    ("2026 年度\n无锡市交通运输局（本级）\n单位预算公开", "无锡市交通运输局2026年单位预算"),
    ("福建省医疗保障基金中心2023年度部门决算", "福建省医疗保障基金中心2023年部门决算"),
])
def test_title_keeps_the_kind_as_printed(tmp_path: Path, head: str, title: str) -> None:
    body = "\n一、收支总表\n单位：万元\n项目\t金额\n合计\t1.00\n"
    assert read_document(_write(tmp_path, "d.txt", head + body)).title == title


def test_lexicon_is_complete_and_consistent() -> None:
    data = tomllib.loads((Path(__file__).resolve().parent.parent / "index" / "read" / "meta.toml").read_text("utf-8"))
    assert set(data) == {"org_ends", "unit_fields", "disclosure_phrases", "kind_words"}
    assert ORG_ENDS and UNIT_FIELDS and DISCLOSURE_PHRASES and KIND_WORDS
    assert {"校", "局", "中心", "委员会"} <= set(ORG_ENDS)
    assert {"预算单位", "编制单位", "部门"} <= set(UNIT_FIELDS)
    assert all(("预算" in p or "决算" in p or "收支" in p) for p in DISCLOSURE_PHRASES)
    assert all(w.endswith(("预算", "决算")) for w in KIND_WORDS)
