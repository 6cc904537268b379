"""The evaluation report: Markdown, a self-contained HTML page (inline SVG charts, no scripts) and
answers.jsonl (the scored answer objects, re-scorable with score.py)."""

from __future__ import annotations

import time
from html import escape
from pathlib import Path

from budgetqa.eval.harness import Summary, percentile, write_answers

_TYPE_NAMES = {"lookup": "查数", "arith": "计算", "compare": "比较", "text": "文字", "unanswerable": "无答案"}


def write_report(summary: Summary, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md = folder / "eval-report.md"
    page = folder / "eval-report.html"
    md.write_text(markdown(summary), encoding="utf-8")
    page.write_text(html_page(summary), encoding="utf-8")
    return [md, page, write_answers(summary.results, folder / "answers.jsonl")]


def _headline(summary: Summary) -> list[tuple[str, str]]:
    cited, cite_total = summary.citations()
    verified, figures = summary.figures_verified()
    lat = summary.latencies_ms()
    return [
        ("准确率", f"{summary.correct}/{summary.total} = {summary.accuracy:.3f}"),
        ("引用命中正确文件", f"{cited}/{cite_total}" + (f" = {cited / cite_total:.3f}" if cite_total else "")),
        ("经核对的数字", f"{verified}/{figures}" + (f" = {verified / figures:.3f}" if figures else "")),
        ("延迟 p50 / p95", f"{percentile(lat, 50):.0f} ms / {percentile(lat, 95):.0f} ms"),
        ("无效的标准答案行", str(len(summary.invalid))),
    ]


def markdown(summary: Summary) -> str:
    out = ["# budgetqa 评测报告", "", f"- 标准答案：`{summary.gold}`",
           f"- 时间：{time.strftime('%Y-%m-%d %H:%M:%S')}", "", "| 指标 | 结果 |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in _headline(summary)]
    out += ["", "## 按题型", "", "| 题型 | 正确 | 总数 | 准确率 |", "|---|---|---|---|"]
    out += [f"| {k}（{_TYPE_NAMES.get(k, k)}） | {c} | {n} | {c / n:.3f} |"
            for k, (c, n) in summary.by_type().items()]
    if summary.baseline:
        out += ["", "## 检索召回率 @5：朴素 RAG 对比本系统", "", "| 系统 | 命中 | 题数 | recall@5 | 回答准确率 |",
                "|---|---|---|---|---|"]
        out += [f"| {r.system} | {r.hits} | {r.total} | {r.recall:.3f} | "
                f"{'' if r.accuracy is None else f'{r.accuracy:.3f}'} |" for r in summary.baseline]
    if summary.invalid:
        out += ["", "## 无效的标准答案行", ""]
        out += [f"- 第 {b.line} 行 {b.id or ''}：{b.reason}" for b in summary.invalid]
    failures = summary.failures()
    out += ["", f"## 错题（{len(failures)}）", ""]
    if failures:
        out += ["| id | 题型 | 问题 | 期望 | 回答 |", "|---|---|---|---|---|"]
        out += [f"| {r.item.id} | {r.item.type} | {_cell(r.item.q)} | {_cell(r.item.expected_text())} | "
                f"{_cell(str(r.answer.get('status')) + '：' + str(r.answer.get('answer') or ''))} |"
                for r in failures]
    else:
        out.append("无。")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:300]


def html_page(summary: Summary) -> str:
    head = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in _headline(summary))
    bars = accuracy_svg({f"{k}（{_TYPE_NAMES.get(k, k)}）": (c, n) for k, (c, n) in summary.by_type().items()})
    hist = histogram_svg(summary.latencies_ms())
    base = "".join(f"<tr><td>{escape(r.system)}</td><td>{r.hits}/{r.total}</td><td>{r.recall:.3f}</td>"
                   f"<td>{'' if r.accuracy is None else f'{r.accuracy:.3f}'}</td></tr>" for r in summary.baseline)
    invalid = "".join(f"<li>第 {b.line} 行 {escape(b.id or '')}：{escape(b.reason)}</li>" for b in summary.invalid)
    fails = "".join(
        f"<tr><td>{escape(r.item.id)}</td><td>{escape(r.item.type)}</td><td>{escape(r.item.q)}</td>"
        f"<td>{escape(r.item.expected_text())}</td><td>{escape(str(r.answer.get('status')))}："
        f"{escape(str(r.answer.get('answer') or ''))}</td></tr>" for r in summary.failures())
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>budgetqa 评测报告</title>
<style>
body{{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em;max-width:1100px;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}
th{{background:#f4f4f4}}svg text{{font-size:12px;font-family:inherit}}
</style></head><body>
<h1>budgetqa 评测报告</h1>
<p>标准答案：<code>{escape(summary.gold)}</code>，时间：{time.strftime('%Y-%m-%d %H:%M:%S')}</p>
<table>{head}</table>
<h2>按题型的准确率</h2>{bars}
<h2>延迟分布</h2>{hist}
{f'<h2>检索召回率 @5：朴素 RAG 对比本系统</h2><table><tr><th>系统</th><th>命中</th><th>recall@5</th><th>回答准确率</th></tr>{base}</table>' if base else ''}
{f'<h2>无效的标准答案行</h2><ul>{invalid}</ul>' if invalid else ''}
<h2>错题（{len(summary.failures())}）</h2>
<table><tr><th>id</th><th>题型</th><th>问题</th><th>期望</th><th>回答</th></tr>{fails}</table>
</body></html>
"""


def accuracy_svg(rows: dict[str, tuple[int, int]]) -> str:
    """Horizontal bars, one per question type, length = accuracy."""
    width, label_w, bar_h = 600, 180, 24
    height = bar_h * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 120}" height="{height}" role="img" '
             f'aria-label="按题型的准确率">']
    for i, (name, (ok, n)) in enumerate(rows.items()):
        y = 5 + i * bar_h
        share = ok / n if n else 0.0
        parts.append(f'<text x="0" y="{y + 16}">{escape(name)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{width - label_w}" height="{bar_h - 6}" fill="#eee"/>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{(width - label_w) * share:.1f}" '
                     f'height="{bar_h - 6}" fill="#3b7dd8"/>'
                     f'<text x="{width + 6}" y="{y + 16}">{ok}/{n} = {share:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(latencies_ms: list[float], bins: int = 12) -> str:
    if not latencies_ms:
        return "<p>没有延迟数据。</p>"
    # The last bin takes everything above p99, so one slow outlier does not squash the rest.
    low, high = min(latencies_ms), percentile(latencies_ms, 99)
    step = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in latencies_ms:
        counts[max(0, min(bins - 1, int((value - low) / step)))] += 1
    width, height, pad = 600, 180, 30
    col = (width - pad) / bins
    top = max(counts)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img" '
             f'aria-label="延迟分布">']
    for i, count in enumerate(counts):
        h = (height - 20) * count / top
        x = pad + i * col
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{col - 2:.1f}" height="{h:.1f}" fill="#e0892b">'
                     f'<title>{low + i * step:.0f}–{low + (i + 1) * step:.0f} ms：{count}</title></rect>')
        if count:
            parts.append(f'<text x="{x + col / 2 - 4:.1f}" y="{height - h - 4:.1f}">{count}</text>')
    parts.append(f'<text x="{pad}" y="{height + 16}">{low:.0f} ms</text>'
                 f'<text x="{width - 90}" y="{height + 16}">≥{high - step:.0f} ms</text>'
                 f'<text x="{width / 2 - 40:.0f}" y="{height + 34}">每题延迟（毫秒）</text></svg>')
    return "".join(parts)
