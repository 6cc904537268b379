"""Chunks: row serialisation, stable ids, prose splitting."""

from __future__ import annotations

from dataclasses import replace

from budgetqa.index.model import Document, Fact
from budgetqa.index.store.chunk import make_chunks, split_text

from tests.conftest import make_tiny_doc, make_tiny_facts


def test_row_chunk_names_unit_year_kind_table_code_label_column_value_measure(
        tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    chunks = make_chunks(tiny_doc, tiny_facts)
    row = next(c for c in chunks if c.metadata.get("code") == "30217")
    assert row.text == ("测试市医疗保障局 2024年 预算 | 2024年度一般公共预算基本支出经济分类情况表 | "
                        "30217 公务接待费 | 合计 5.00 万元；公用经费 5.00 万元")
    assert row.metadata == {"doc": "tiny.txt", "unit": "测试市医疗保障局", "year": 2024, "kind": "预算",
                            "layout": "seed", "chunk_type": "row",
                            "section": "九、一般公共预算基本支出经济分类情况表",
                            "table": "2024年度一般公共预算基本支出经济分类情况表", "row": "公务接待费",
                            "code": "30217", "quote": "30217\t公务接待费\t5.00", "measure": "万元",
                            "page": 4, "position": "row:1:2"}


def test_every_row_and_prose_is_chunked(tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    chunks = make_chunks(tiny_doc, tiny_facts)
    assert sum(c.chunk_type == "row" for c in chunks) == sum(len(t.rows) for t in tiny_doc.tables)
    text = [c for c in chunks if c.chunk_type == "text"]
    assert [c.metadata["section"] for c in text] == ["一、部门主要职责", "（二）公务接待费"]
    assert text[1].text.startswith("测试市医疗保障局 2024年 预算 | 第三部分 > 六、“三公”经费支出情况 > （二）公务接待费\n")
    assert all(v is not None for c in chunks for v in c.metadata.values())  # chroma rejects None


def test_ids_are_stable_and_distinct_across_documents(tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    first = make_chunks(tiny_doc, tiny_facts)
    assert [c.id for c in first] == [c.id for c in make_chunks(tiny_doc, tiny_facts)]
    assert len({c.id for c in first}) == len(first)
    other = make_tiny_doc(name="other.txt", unit="另一个单位")
    assert not {c.id for c in first} & {c.id for c in make_chunks(other, make_tiny_facts(other))}
    # same rows, other unit: texts differ, so nothing can merge by content either
    assert not {c.text for c in first} & {c.text for c in make_chunks(other, make_tiny_facts(other))}


def test_changed_value_keeps_id_changes_text(tiny_doc: Document, tiny_facts: list[Fact]) -> None:
    changed = make_tiny_doc(reception="7.00")
    old = {c.id: c.text for c in make_chunks(tiny_doc, tiny_facts)}
    new = {c.id: c.text for c in make_chunks(changed, make_tiny_facts(changed))}
    assert old.keys() == new.keys()
    assert {i for i in old if old[i] != new[i]}  # the 公务接待费 rows and the prose


def test_split_text_groups_paragraphs_under_target() -> None:
    paragraphs = [f"第{i}段，" + "预算资金用于保障运行。" * 8 for i in range(10)]
    pieces = split_text("\n\n".join(paragraphs), target=400)
    assert len(pieces) > 1
    assert all(len(p) <= 400 for p in pieces)
    assert "".join(pieces).replace("\n", "") == "".join(paragraphs)


def test_split_text_cuts_an_overlong_paragraph_at_sentence_ends() -> None:
    sentence = "主要用于保障医疗经办机构经办事务的正常开展。"
    pieces = split_text(sentence * 100)
    assert len(pieces) > 2
    assert all(p.endswith("。") and len(p) <= 800 for p in pieces)
    assert "".join(pieces) == sentence * 100


def test_short_heading_lines_make_no_chunk(tiny_doc: Document) -> None:
    doc = replace(tiny_doc, sections=(replace(tiny_doc.sections[0], text="单位概况"),), tables=())
    assert make_chunks(doc, []) == []
