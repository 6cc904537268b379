"""Tables read by their drawn cells: rows between rules, spilled header glyphs, 绩效目标表 forms; and the
question / answer side of the same figures: bracketed labels said reordered, items printed across."""

from __future__ import annotations

from functools import cache

from budgetqa.answer.phrase import item_across
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.model import Fact
from budgetqa.index.read.layout import Chunk
from budgetqa.index.read.pdf import _cells
from budgetqa.index.read.readers import read_document
from budgetqa.index.read.ruled_rows import PdfLine, join_ruled_rows
from budgetqa.understand.label_forms import reordered_forms, reordered_labels

from tests.paths import SHARED

UNIT = 4.0  # points per layout position


def _line(y: float, *cells: tuple[int, int, str, str, int, int]) -> PdfLine:
    cs = [Chunk(a, b, text, kind, lo, hi) for a, b, text, kind, lo, hi in cells]
    return PdfLine(" ".join(c.text for c in cs), cs, y, 8.0)


# a row band from y=100 to y=130 across x 0..400, and the next one down to y=145
RULES = [(100.0, 0.0, 400.0), (130.0, 0.0, 400.0), (145.0, 0.0, 400.0)]


def test_a_label_wrapped_around_its_centred_figure_is_one_row() -> None:
    lines = [
        _line(110, (1, 20, "其中：专项资金列入部门", "text", 0, 25)),
        _line(118, (80, 90, "182.88", "value", 50, 100)),
        _line(126, (1, 8, "预算的项目", "text", 0, 25)),
        _line(141, (1, 10, "(2)政府性基金收入", "text", 0, 25)),
    ]
    out = join_ruled_rows(lines, RULES, UNIT)
    assert [[c.text for c in ln.cells] for ln in out] == [["其中：专项资金列入部门预算的项目", "182.88"],
                                                          ["(2)政府性基金收入"]]


def test_lines_split_by_a_rule_stay_two_rows() -> None:
    lines = [_line(126, (1, 8, "上年结转", "text", 0, 25), (80, 90, "11.61", "value", 50, 100)),
             _line(141, (1, 8, "收入总计", "text", 0, 25), (80, 90, "3,695.91", "value", 50, 100))]
    assert len(join_ruled_rows(lines, RULES, UNIT)) == 2


def test_lines_without_rules_around_them_are_not_joined() -> None:
    """A table ruled only by vertical lines: nothing says two lines are one row."""
    lines = [_line(110, (1, 8, "一、部门预算", "text", 0, 25)), _line(118, (1, 8, "1、财政拨款", "text", 0, 25))]
    assert len(join_ruled_rows(lines, [], UNIT)) == 2
    assert len(join_ruled_rows(lines, [(20.0, 0.0, 400.0)], UNIT)) == 2


def _glyphs(text: str, x0: float, width: float = 8.5) -> list[tuple[float, float, float, float, str, float]]:
    return [(x0 + k * width, 100.0, x0 + (k + 1) * width, 100.0, ch, 8.5) for k, ch in enumerate(text)]


def test_a_header_glyph_spilling_over_a_border_opens_the_next_cell() -> None:
    """"预算数支出经济分类科目": 支 is drawn over 数, across the border at 438.2, and clipped in print."""
    row = _glyphs("预算数", 411.1) + _glyphs("支出经济", 433.5)
    cells = _cells(row, 4.26, [438.2])
    assert [c.text for c in cells] == ["预算数", "支出经济"]


def test_one_glyph_past_a_border_stays_with_its_label() -> None:
    """"(3)对个人和家庭的补助": 助 crosses the border into the figure cell and ends the label."""
    row = _glyphs("补助", 100.0)
    cells = _cells(row, 4.26, [110.0])
    assert [c.text for c in cells] == ["补助"]


def test_reordered_forms_of_a_bracketed_label() -> None:
    assert reordered_forms("资本性支出(基本建设)") == ("基本建设资本性支出", "基本建设的资本性支出", "资本性支出基本建设")
    assert reordered_forms("因公出国(境)费") == ("因公出国境费",)
    assert reordered_forms("机关资本性支出(一)") == ("机关资本性支出一",)
    assert reordered_forms("资金总额(万元)") == ()  # a measure, not a qualifier
    assert reordered_forms("工资福利支出") == ()


def test_a_form_two_labels_share_names_neither() -> None:
    labels = ["经费(结转)", "结转经费", "资本性支出(基本建设)"]
    forms = dict(reordered_labels(labels))
    assert "结转经费" not in forms  # printed as such: the printed label wins
    assert forms["基本建设资本性支出"] == "资本性支出(基本建设)"


def _row_fact(row: str, column: str) -> Fact:
    return Fact(doc="d.pdf", unit="西安市财政局", year=2026, kind="预算", section="",
                table="表13 部门综合预算一般公共预算拨款“三公”经费及会议费、培训费支出预算表", row=row, code=None,
                column=column, value="96,000.00", measure="元", page=43, quote="", source="table")


def test_a_sub_units_row_is_said_with_the_item_printed_across() -> None:
    unit = "西安市政府债务管理中心"
    assert item_across(_row_fact(unit, "当年/会议费"), unit, unit) == "会议费"
    assert item_across(_row_fact(unit, "上年/会议费"), unit, unit) == "上年会议费"
    assert item_across(_row_fact(unit, "当年/一般公共预算拨款安排的“三公”经费预算/小计"), unit, unit) == "“三公”经费"
    assert item_across(_row_fact("会议费", "当年"), unit, "会议费") is None  # the row is the item


@cache
def _facts(name: str) -> tuple[Fact, ...]:
    return tuple(extract_facts(read_document(SHARED / "corpus-more" / name)))


def test_a_performance_form_gives_one_grid_per_project() -> None:
    """西安司法局 表14-10: 项目名称 / 资金金额 lines, then 三级指标 | 指标值 rows, the measure in brackets."""
    facts = [f for f in _facts("020_西安_2026年西安市司法局部门预算.pdf") if "国家统一法律职业资格考试" in f.table]
    got = {(f.row, f.value, f.measure) for f in facts}
    assert ("资金总额（万元）", "360.77", "万元") in got
    assert ("考务费", "23.9", "万元") in got
    assert ("客观题报考人数", "16000", "人") in got
    assert all(f.page == 59 for f in facts)


def test_enumeration_labels_are_matched_with_any_separator() -> None:
    from budgetqa.understand.label_forms import enumeration_forms, reordered_labels

    forms = enumeration_forms("考试机位、场地租赁费(万元)")
    assert {"考试机位和场地租赁费", "考试机位及场地租赁费", "考试机位与场地租赁费", "考试机位场地租赁费"} <= set(forms)
    assert "文件、刊物和公报印制" in enumeration_forms("文件、刊物、公报印制")
    assert "公务用车购置和运行维护费" in enumeration_forms("公务用车购置及运行维护费")
    assert enumeration_forms("办公费") == () and enumeration_forms("1、办公费") == ()
    # a form another label prints as such names only that label
    pairs = dict(reordered_labels(["社会保障和就业支出", "社会保障就业支出"]))
    assert "社会保障就业支出" not in pairs
