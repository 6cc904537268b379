"""Which unit owns a figure (index/extract/owners.py), on hand-built tables shaped like the real ones:
a table split by unit (西安 表5), a table by unit whose department and 本级 lines print one name (西安 表13
"154 西安市司法局" / "154001 西安市司法局"; 湖州 表02 told apart by their figures), a one-unit department."""

from __future__ import annotations

from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.extract.identity import identity_of
from budgetqa.index.model import Document, Fact, Row, Table


def _row(label: str, *cells: str, code: str | None = None) -> Row:
    return Row(label=label, code=code, cells=cells, page=7, quote="\t".join((code or "", label, *cells)))


def _doc(unit: str, *tables: Table, subunits: tuple[str, ...] = ()) -> Document:
    return Document(name="d.pdf", sha256="0", unit=unit, aliases=(), year=2019, kind="预算", subunits=subunits,
                    sections=(), tables=tables, pages=None, layout="pdf")


def _table(title: str, columns: tuple[str, ...], *rows: Row) -> Table:
    return Table(title=title, section="", measure="万元", columns=columns, rows=rows, page=7)


SPLIT = _table("表5 2019年部门综合预算一般公共预算支出明细表（按支出功能分类科目）", ("合计", "人员经费支出"),
               _row("合计", "3,643.37", "1,839.51"),
               _row("西安市安全生产监督管理局", "2,080.32", "972.99", code="125001"),
               _row("住房公积金", "87.86", "87.86", code="2210201"),
               _row("西安市安全生产执法监察支队", "830.27", "500.06", code="125003"),
               _row("社会保障和就业支出", "35.75", "35.75", code="208"),
               _row("住房公积金", "40.39", "40.39", code="2210201"))
UNIT = "西安市安全生产监督管理局"


def _owners(facts: list[Fact], row: str, column: str) -> list[tuple[str, str]]:
    return [(f.owner, f.value) for f in facts if f.row == row and f.column == column]


def test_rows_under_a_units_line_are_that_units() -> None:
    facts = extract_facts(_doc(UNIT, SPLIT, subunits=("西安市安全生产执法监察支队",)))
    assert _owners(facts, "住房公积金", "合计") == [("本级", "87.86"), ("西安市安全生产执法监察支队", "40.39")]
    assert _owners(facts, "合计", "合计") == [("", "3,643.37")]  # the table's total is the department's
    # the unit's own line: its total, the 本级 (its unit code under the department's name)
    assert _owners(facts, UNIT, "人员经费支出") == [("本级", "972.99")]
    assert _owners(facts, "西安市安全生产执法监察支队", "人员经费支出") == [("西安市安全生产执法监察支队", "500.06")]


def test_identity_carries_the_owner() -> None:
    facts = extract_facts(_doc(UNIT, SPLIT, subunits=("西安市安全生产执法监察支队",)))
    funds = [identity_of(f) for f in facts if f.row == "住房公积金" and f.column == "合计"]
    assert [i.subunit for i in funds] == ["本级", "西安市安全生产执法监察支队"]
    assert funds[0].item == funds[1].item == "住房公积金"  # one item, two owners: two identities
    assert funds[0] != funds[1]
    line = next(identity_of(f) for f in facts if f.row == "西安市安全生产执法监察支队" and f.column == "人员经费支出")
    assert (line.subunit, line.item, line.column) == ("西安市安全生产执法监察支队", "合计", "人员经费")


def test_department_and_own_offices_printed_under_one_name() -> None:
    by_code = _table("表13 部门综合预算一般公共预算拨款“三公”经费及会议费、培训费支出预算表", ("当年/公务接待费",),
                     _row("合计", "30,081.50"),
                     _row("西安市司法局", "30,081.50", code="154"),
                     _row("西安市司法局", "10,000.00", code="154001"),
                     _row("西安市法律援助中心", "5,000.00", code="154002"))
    by_figure = _table("表02 2026年市级部门收入预算总表", ("总计",),
                       _row("合计", "515313.35"),
                       _row("湖州市卫生健康委员会", "515313.35"),
                       _row("湖州市卫生健康委员会", "7121.29"),
                       _row("湖州市中心医院", "222455.05"))
    sifa = extract_facts(_doc("西安市司法局", by_code))
    assert [(f.code, f.owner) for f in sifa if f.row.startswith("西安市司法局")] == [("154", ""), ("154001", "本级")]
    huzhou = extract_facts(_doc("湖州市卫生健康委员会", by_figure))
    assert [(f.value, f.owner) for f in huzhou] == [("515313.35", ""), ("515313.35", ""), ("7121.29", "本级"),
                                                    ("222455.05", "湖州市中心医院")]


def test_a_one_unit_department_owns_its_own_offices_rows() -> None:
    table = _table("表10 部门综合预算专项业务经费支出表", ("项目金额",),
                   _row("合计", "27,502,600.00"),
                   _row("西安市人民政府办公厅", "27,502,600.00", code="114"),
                   _row("西安市人民政府办公厅", "27,502,600.00", code="114001"),
                   _row("文件、刊物、公报印制", "1,980,000.00"))
    facts = extract_facts(_doc("西安市人民政府办公厅", table))
    assert {f.owner for f in facts} == {""}


def test_a_table_not_split_by_unit_has_no_owners() -> None:
    table = _table("表1 收支总表", ("预算数",), _row("住房保障支出", "157.42"), _row("卫生健康支出", "30.81"))
    assert {f.owner for f in extract_facts(_doc(UNIT, table, subunits=("西安市安全生产执法监察支队",)))} == {""}


def test_units_nested_in_items_own_only_their_line() -> None:
    # a procurement table lists 科目 first and units inside them: the next 科目 line is the department's again
    table = _table("表12 政府采购预算表", ("预算金额",),
                   _row("合计", "900.00"),
                   _row("全额", "600.00", code="205"),
                   _row("西安市林木种苗工作站", "600.00", code="251012"),
                   _row("全额", "300.00", code="212"))
    facts = extract_facts(_doc("西安市自然资源和规划局", table, subunits=("西安市林木种苗工作站",)))
    assert [(f.row, f.owner) for f in facts] == [("合计", ""), ("全额", ""), ("西安市林木种苗工作站", "西安市林木种苗工作站"),
                                                 ("全额", "")]
