"""A tiny hand-made corpus for the answer-side tests: three documents, a few dozen facts, no parsing."""

from __future__ import annotations

from budgetqa.catalog import MemorySource
from budgetqa.index.model import Document, Fact, Section

FZ = "福州市医疗保障局"
FZ_DATA = "福州市医疗保障数据技术中心"
XA = "西安市医疗保障局"
FZ_FUND = "福州市医疗保障基金中心"

SANGONG = "2024年度一般公共预算“三公”经费支出预算表"
JIBEN = "2024年度一般公共预算基本支出经济分类情况表"
ZHICHU = "2024年度支出预算总表"


def _doc(name: str, unit: str, year: int, subunits: tuple[str, ...] = (), sections: tuple[Section, ...] = ()) -> Document:
    return Document(name=name, sha256="0" * 64, unit=unit, aliases=(), year=year, kind="预算", subunits=subunits,
                    sections=sections, tables=(), pages=None, layout="seed")


def _fact(doc: Document, table: str, row: str, value: str, *, code: str | None = None, column: str = "预算数",
          measure: str = "万元", section: str = "", source: str = "table", context: str = "") -> Fact:
    return Fact(doc=doc.name, unit=doc.unit, year=doc.year, kind=doc.kind, section=section or table, table=table,
                row=row, code=code, column=column if source == "table" else "", value=value, measure=measure,
                page=None, quote=f"{row}\t{value}", source=source, context=context)  # type: ignore[arg-type]


def corpus() -> MemorySource:
    duties = Section("一、部门主要职责", 2, "福州市医疗保障局的主要职责是：\n提高我市医疗保障水平，负责医疗保障基金\n管理工作。", None)
    usage = Section("二、一般公共预算拨款支出情况", 2,
                    "（十三）2210201-住房公积金 568.44 万元。主要用于在编人员公积金支出。\n"
                    "2024年收入预算比上年增加113997.97万元，主要原因是财政对城乡医疗救助的补助增加。", None)
    fz = _doc("001_fz.txt", FZ, 2024, subunits=(FZ_DATA, FZ_FUND), sections=(duties, usage))
    fz_data = _doc("000_fzdata.txt", FZ_DATA, 2024)
    xa = _doc("xian.md", XA, 2022)
    facts_fz = [
        _fact(fz, SANGONG, "合计", "5.00"),
        _fact(fz, SANGONG, "1、因公出国（境）费用", "0.00"),
        _fact(fz, SANGONG, "2、公务接待费", "5.00"),
        _fact(fz, SANGONG, "3、公务用车购置及运行费", "0.00"),
        _fact(fz, JIBEN, "办公费", "180.48", code="30201"),
        _fact(fz, JIBEN, "差旅费", "6.50", code="30211"),
        _fact(fz, JIBEN, "公务接待费", "5.00", code="30217"),
        _fact(fz, JIBEN, "会议费", "2.00", code="30215"),
        _fact(fz, ZHICHU, "合计", "7676.51", column="合计"),
        _fact(fz, ZHICHU, "合计", "7000.00", column="基本支出"),
        _fact(fz, ZHICHU, "合计", "676.51", column="项目支出"),
        _fact(fz, ZHICHU, "住房公积金", "568.44", code="2210201", column="合计"),
        _fact(fz, ZHICHU, "提租补贴", "106.79", code="2210202", column="合计"),
        _fact(fz, ZHICHU, "购房补贴", "397.96", code="2210203", column="合计"),
        _fact(fz, ZHICHU, "行政运行", "3645.93", code="2101501", column="合计"),
        _fact(fz, ZHICHU, "行政运行", "3605.93", code="2101501", column="基本支出"),
        _fact(fz, ZHICHU, "行政运行", "40.00", code="2101501", column="项目支出"),
        _fact(fz, "单位构成", FZ, "58", column="在职人数", measure="人"),
        _fact(fz, "单位构成", FZ_DATA, "39", column="在职人数", measure="人"),
        _fact(fz, "单位构成", FZ_FUND, "139", column="在职人数", measure="人"),
        _fact(fz, "", "差旅费", "7.00", section="五、一般公共预算基本支出情况", source="text",
              context="差旅费7.00万元"),
        _fact(fz, "", "公务接待费", "5.00", section="六、一般公共预算“三公”经费支出情况", source="text",
              context="2024年预算安排公务接待费5.00万元"),
        _fact(fz, "", "收入预算", "222846.31", section="一、预算收支总体情况", source="text",
              context="收入预算为222846.31万元"),
        _fact(fz, "", "收入预算增长", "104.73", measure="%", section="一、预算收支总体情况", source="text",
              context="增长104.73%"),
        _fact(fz, "", "财政拨款资金", "215169.80", section="绩效目标设置情况", source="text",
              context="共涉及财政拨款资金215169.80万元"),
        _fact(fz, "", "项目绩效目标", "13", measure="个", section="绩效目标设置情况", source="text",
              context="共设置13个项目绩效目标"),
    ]
    facts_data = [
        _fact(fz_data, JIBEN, "办公费", "21.98", code="30201"),
        _fact(fz_data, JIBEN, "基本工资", "149.76", code="30101"),
    ]
    facts_xa = [
        _fact(xa, "表1 部门综合预算收支总表", "本年收入合计", "480544221.62", column="预算数", measure="元"),
        _fact(xa, "表6 一般公共预算基本支出表", "办公费", "887100", code="30201", column="合计", measure="元"),
        _fact(xa, "", "收入", "48054.42", section="一、收支总体情况", source="text", context="收入48054.42万元"),
        _fact(xa, "表13 “三公”经费表", "公务接待费", "10000", column="2022年/合计", measure="元"),
        _fact(xa, "表13 “三公”经费表", "公务接待费", "12000", column="2021年/合计", measure="元"),
    ]
    return MemorySource([(fz, facts_fz), (fz_data, facts_data), (xa, facts_xa)])
