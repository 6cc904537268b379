"""The one set of year patterns every stage uses (index/read/years.py)."""

from __future__ import annotations

from budgetqa.index.read.years import (
    after_first_year,
    leading_year,
    without_base_years,
    without_years,
    years_in,
)


def test_years_in_skips_codes_and_figures() -> None:
    assert years_in("2080505行政运行 2024年预算 2024.50万元 1999年") == [2024, 1999]


def test_written_years_need_nian() -> None:
    assert years_in("2023年决算数 2024预算", written=True) == [2023]


def test_base_years_are_not_asked_years() -> None:
    assert years_in(without_base_years("2024年比2023年预算减少多少")) == [2024]
    assert years_in(without_base_years("2024年与2023年相比")) == [2024, 2023]  # in a question 与 may join two years
    assert years_in(without_base_years("与2023年相比减少", with_and=True)) == []


def test_without_years_keeps_points_in_time() -> None:
    assert without_years("西安市级2022年度病媒生物防制") == "西安市级病媒生物防制"
    assert without_years("2024年初资产") == "年初资产"


def test_leading_year_splits_a_column() -> None:
    assert leading_year("2024年度预算数") == (2024, "预算数")
    assert leading_year("预算数") == (None, "预算数")
    assert leading_year("2080505") == (None, "2080505")


def test_after_first_year() -> None:
    assert after_first_year("福州市医疗保障局2024年部门收支总表") == "部门收支总表"
    assert after_first_year("部门收支总表") == ""
