"""The `budgetqa` command line: argument handling and printing only (CONTRACT.md "Commands").

Heavy modules (torch, chroma, langchain) are imported inside the commands so `budgetqa --help`
stays fast. Every BudgetQAError goes through one funnel (`_Group.invoke`) and comes out as a
Chinese message with exit status 1, never a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click
from budgetqa.config import Settings, load_settings, set_offline_env, settings_help
from budgetqa.errors import BudgetQAError
from budgetqa.types import doc_title
from budgetqa.understand.normalize import scrub

if TYPE_CHECKING:
    from budgetqa.app.pipeline import Engine
    from budgetqa.types import Answer, Check

_VERDICTS = {"supported": "与文件相符", "contradicted": "与文件不符", "unverifiable": "无法核对"}


class _Group(click.Group):
    """The one error funnel: library errors become ClickException with their Chinese message."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BudgetQAError as exc:
            raise click.ClickException(str(exc)) from exc


def _env_epilog() -> str:
    lines = ["\b", "环境变量："]
    lines += [f"  {env:<24}{help_}" for env, help_ in settings_help()]
    return "\n".join(lines)


@click.group(cls=_Group, epilog=_env_epilog())
@click.version_option(package_name="budgetqa")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="索引目录，覆盖环境变量 BUDGETQA_HOME")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """预算公开文件问答：每个数字都与原表核对，并给出出处。"""
    set_offline_env()
    ctx.obj = {"home": home}


def main() -> None:
    cli(prog_name="budgetqa")


def _settings(ctx: click.Context) -> Settings:
    return load_settings(home=(ctx.obj or {}).get("home"))


def _engine(settings: Settings) -> Engine:
    """A ready engine; a fresh install first indexes the bundled corpus (CONTRACT.md)."""
    from budgetqa.app.pipeline import Engine
    from budgetqa.index.store.ingest import ensure_index

    if not settings.store_path.exists():
        click.echo(f"首次使用：正在把自带语料索引到 {settings.home} …", err=True)
    ensure_index(settings, progress=sys.stderr.isatty())
    return Engine(settings)


def _emit(obj: dict[str, Any]) -> None:
    # Flushed per line so a batch streams to a pipe as it goes.
    _echo(json.dumps(obj, ensure_ascii=False))
    sys.stdout.flush()


def _echo(text: str) -> None:
    """Print whatever the text holds: a lone surrogate or a terminal that cannot show Chinese must not
    end a batch. Unprintable characters become U+FFFD; on a non-UTF-8 stdout JSON falls back to \\u escapes."""
    text = scrub(text)
    try:
        click.echo(text)
    except UnicodeEncodeError:
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        click.echo(text.encode(encoding, "backslashreplace").decode(encoding))


# ---------------------------------------------------------------- index
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--quiet", "-q", is_flag=True, help="不显示进度")
@click.pass_context
def index(ctx: click.Context, paths: tuple[Path, ...], quiet: bool) -> None:
    """解析并索引文件或文件夹（PDF、md、html、txt、csv、tsv）；不给 PATH 时索引自带语料。

    重复索引未改动的文件不做任何事；改动过的文件替换旧条目。同名文件按来源区分，各自保留。
    不是预算文件的（README、.docx 等）列为“跳过”；只有真正失败的文件使退出码为 1。
    """
    from budgetqa.index.store.ingest import default_corpus, index_paths

    settings = _settings(ctx)
    targets = list(paths) if paths else list(default_corpus())
    report = index_paths(targets, settings, progress=not quiet)
    click.echo(f"索引完成：新增或更新 {report.indexed} 个文件，未改动 {report.unchanged} 个，"
               f"跳过 {len(report.skipped)} 个，失败 {len(report.failed)} 个；共 {report.facts} 条数字事实，"
               f"用时 {report.seconds:.1f} 秒。索引目录：{settings.home}")
    for name, reason in report.skipped:
        click.echo(f"跳过：{name}：{reason}", err=True)
    for name, reason in report.failed:
        click.echo(f"失败：{name}：{reason}", err=True)
    if report.failed:
        ctx.exit(1)


# ---------------------------------------------------------------- ask
@cli.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 答案对象")
@click.option("--batch", type=click.File("r", encoding="utf-8", errors="replace"), default=None,
              help="JSONL 文件（每行含 id 与 q 或 question）；- 表示标准输入")
@click.option("--unit", default=None, help="限定单位（全称或简称）")
@click.option("--year", type=int, default=None, help="限定年度")
@click.pass_context
def ask(ctx: click.Context, question: str | None, as_json: bool, batch: IO[str] | None,
        unit: str | None, year: int | None) -> None:
    """回答一个问题，例如：budgetqa ask "福州市医疗保障局的公务接待费是多少"。"""
    if (question is None) == (batch is None):
        raise click.UsageError("请给出一个问题，或用 --batch 指定问题文件（二者取一）。")
    engine = _engine(_settings(ctx))
    if batch is not None:
        for qid, text, error in _jsonl_items(batch, ("q", "question")):
            if error:
                answer_json = _error_answer(qid, text, error)
            else:
                answer_json = _safe_ask(engine, text, qid, unit, year)
            if as_json:
                _emit(answer_json)
            else:
                _echo(f"[{qid}] {answer_json['answer']}")
        return
    assert question is not None
    answer = engine.ask(question, unit=unit, year=year)
    if as_json:
        _emit(answer.to_json())
    else:
        _echo(_answer_text(answer, _source_files(_settings(ctx))))
    if answer.status == "error":
        ctx.exit(1)


def _source_files(settings: Settings) -> dict[str, str]:
    """Document name -> the file's path as indexed, for the reader to open it; {} without a store."""
    if not settings.store_path.exists():
        return {}
    try:
        from budgetqa.index.store.database import FactStore

        store = FactStore(settings.store_path)
        try:
            return {d.name: d.source for d in store.documents() if d.source}
        finally:
            store.close()
    except BudgetQAError:
        return {}


def _jsonl_items(stream: IO[str], keys: tuple[str, ...]) -> Iterator[tuple[str, str, str]]:
    """(id, text, error) for every non-blank line; error is "" for a good line. Text and id come out
    scrubbed of lone surrogates (a JSON "\\ud800" escape), so nothing later fails to encode them."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        fallback = f"line{number}"
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "嵌套过深"
            yield fallback, "", f"第 {number} 行不是合法的 JSON：{msg}"
            continue
        if not isinstance(obj, dict):
            yield fallback, "", f"第 {number} 行应是 JSON 对象"
            continue
        raw_id = obj.get("id")
        qid = scrub(str(raw_id)) if raw_id not in (None, "") else fallback
        text = scrub(next((obj[k] for k in keys if isinstance(obj.get(k), str)), ""))
        if not text.strip():
            yield qid, "", f"第 {number} 行缺少 {' 或 '.join(keys)} 字段"
            continue
        yield qid, text, ""


def _safe_ask(engine: Engine, text: str, qid: str, unit: str | None, year: int | None) -> dict[str, Any]:
    try:
        return engine.ask(text, unit=unit, year=year, qid=qid).to_json()
    except BudgetQAError as exc:
        return _error_answer(qid, text, str(exc))
    except Exception as exc:  # noqa: BLE001 — one broken question must not stop a batch
        return _error_answer(qid, text, f"内部错误：{type(exc).__name__}: {exc}")


def _error_answer(qid: str, question: str, message: str) -> dict[str, Any]:
    return {"id": qid, "question": question, "status": "error", "answer": message,
            "values": [], "citations": [], "latency_ms": 0}


def _answer_text(answer: Answer, files: dict[str, str] | None = None) -> str:
    """The answer, its check mark, and each source led by the document's own title, then table, row and
    page; the file (its path where the index knows it) comes after."""
    files = files or {}
    lines = [answer.answer]
    if answer.status == "answered" and answer.values:
        lines.append("【已核对】数字与原表一致" if answer.verified else "【未核对】以下数字未能与原表核对，请以原文为准")
    for number, cite in enumerate(answer.citations, 1):
        where = " · ".join(x for x in (cite.table or cite.section, cite.row) if x)
        page = f" · 第 {cite.page} 页" if cite.page else ""
        lines.append(f"  [{number}] {doc_title(cite)} · {where}{page}")
        lines.append(f"      文件：{files.get(cite.doc) or cite.doc}" + (f"（第 {cite.page} 页）" if cite.page else ""))
        if cite.quote:
            lines.append(f"      原文：{cite.quote}")
    if answer.candidates:
        lines.append("可能指的单位：" + "、".join(answer.candidates))
    lines.extend(f"注：{note}" for note in answer.notes)
    return "\n".join(lines)


# ---------------------------------------------------------------- verify
@cli.command()
@click.argument("claim", required=False)
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 核对结果")
@click.option("--batch", type=click.File("r", encoding="utf-8", errors="replace"), default=None,
              help="JSONL 文件（每行含 id 与 claim）；- 表示标准输入")
@click.pass_context
def verify(ctx: click.Context, claim: str | None, as_json: bool, batch: IO[str] | None) -> None:
    """核对一句话里的每个数字是否与文件中的表格一致。"""
    if (claim is None) == (batch is None):
        raise click.UsageError("请给出一句陈述，或用 --batch 指定文件（二者取一）。")
    engine = _engine(_settings(ctx))
    if batch is not None:
        for qid, text, error in _jsonl_items(batch, ("claim",)):
            result: dict[str, Any] = (_safe_verify(engine, text, qid) if not error else
                                      {"id": qid, "claim": text, "verdict": "error", "error": error, "figures": []})
            if as_json:
                _emit(result)
            else:
                click.echo(f"[{qid}] {_VERDICTS.get(str(result['verdict'])) or result.get('error', '')}")
        return
    assert claim is not None
    check = engine.verify(claim)
    if as_json:
        _emit(check.to_json())
    else:
        click.echo(_check_text(check))


def _safe_verify(engine: Engine, text: str, qid: str) -> dict[str, Any]:
    try:
        out = engine.verify(text, qid=qid).to_json()
    except BudgetQAError as exc:
        return {"id": qid, "claim": text, "verdict": "error", "error": str(exc), "figures": []}
    except Exception as exc:  # noqa: BLE001 — one broken claim must not stop a batch
        return {"id": qid, "claim": text, "verdict": "error", "error": f"内部错误：{exc}", "figures": []}
    out["id"] = qid
    return out


def _check_text(check: Check) -> str:
    lines = [f"结论：{_VERDICTS[check.verdict]}"]
    for fig in check.figures:
        mark = "✓ 已核对" if fig.verified else "✗ 未核对"
        extra = f"（文件中为 {fig.expected}）" if fig.expected else ""
        lines.append(f"  {_fmt_number(fig.value)}{fig.measure} {mark}{extra}")
        if fig.identity:
            lines.append(f"      核对对象：{fig.identity}")
        if fig.reason:
            lines.append(f"      原因：{fig.reason}")
        for cite in fig.citations[:3]:
            page = f" · 第 {cite.page} 页" if cite.page else ""
            lines.append(f"      出处：{doc_title(cite)} · {cite.table or cite.section} · {cite.row}{page}（{cite.doc}）")
    if check.reason:
        lines.append(f"  {check.reason}")
    elif not check.figures:
        lines.append("  这句话里没有可核对的数字。")
    return "\n".join(lines)


def _fmt_number(value: float) -> str:
    return f"{value:,.2f}".rstrip("0").rstrip(".") if value % 1 else f"{int(value):,}"


# ---------------------------------------------------------------- facts
@cli.command()
@click.option("--doc", default=None, help="只列出此文件（索引时的文件名）")
@click.option("--unit", default=None, help="只列出此单位")
@click.option("--json", "as_json", is_flag=True, help="每行一个 JSON 对象")
@click.pass_context
def facts(ctx: click.Context, doc: str | None, unit: str | None, as_json: bool) -> None:
    """列出从表格和正文中抽取的数字事实。"""
    from budgetqa.index.extract.facts import fact_to_json
    from budgetqa.index.store.database import FactStore

    settings = _settings(ctx)
    if not settings.store_path.exists():
        raise click.ClickException(f"{settings.home} 下还没有索引，请先运行 budgetqa index。")
    found = 0
    for fact in FactStore(settings.store_path).facts(doc=doc, unit=unit):
        found += 1
        if as_json:
            _emit(fact_to_json(fact))
        else:
            click.echo("\t".join([fact.doc, fact.unit, fact.table or fact.section, fact.row, fact.column,
                                  fact.value + fact.measure]))
    if not found:
        click.echo("没有符合条件的事实。", err=True)


# ---------------------------------------------------------------- audit
@cli.command()
@click.argument("docs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="每行一条发现（JSON）")
@click.pass_context
def audit(ctx: click.Context, docs: tuple[str, ...], as_json: bool) -> None:
    """用文件自身核对文件：合计与明细、科目层级、栏目合计、情况说明与表格、同比变动。"""
    from budgetqa.check.audit import audit_corpus, finding_json
    from budgetqa.index.store.database import FactStore

    settings = _settings(ctx)
    if not settings.store_path.exists():
        raise click.ClickException(f"{settings.home} 下还没有索引，请先运行 budgetqa index。")
    store = FactStore(settings.store_path)
    known = {d.name for d in store.documents()}
    if not known:
        raise click.ClickException("索引中没有文件，请先运行 budgetqa index。")
    missing = [d for d in docs if d not in known]
    if missing:
        raise click.ClickException(f"索引中没有这些文件：{'、'.join(missing)}。已索引：{'、'.join(sorted(known))}")
    count: dict[str, int] = {}
    for finding in audit_corpus(store.facts(), docs):
        count[finding.doc] = count.get(finding.doc, 0) + 1
        if as_json:
            _emit(finding_json(finding))
        else:
            click.echo(f"[{finding.doc}] {finding.kind}：{finding.message}")
    if not as_json:
        checked = docs or tuple(sorted(known))
        clean = [d for d in checked if d not in count]
        click.echo(f"核对 {len(checked)} 个文件：{len(count)} 个有不一致（共 {sum(count.values())} 处），"
                   f"{len(clean)} 个未发现问题。", err=True)


# ---------------------------------------------------------------- serve
@cli.command(epilog="索引位于 --home 或环境变量 BUDGETQA_HOME 指定的目录（默认是用户数据目录）；"
                    "首次启动时自动索引自带语料。")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址（对外开放用 0.0.0.0）")
@click.option("--port", default=7860, show_default=True, type=int, help="监听端口")
@click.option("--shared-uploads", is_flag=True,
              help="允许持有口令（BUDGETQA_UPLOAD_TOKEN）的上传者把文件加入共享语料；默认网页上传只对上传者本人可见")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, shared_uploads: bool) -> None:
    """启动网页问答界面（Gradio）。网页上传的文件只加入上传者自己的会话，不改变其他用户看到的回答。"""
    from budgetqa.app.web import launch
    from budgetqa.index.store.ingest import ensure_index

    settings = _settings(ctx)
    if shared_uploads and len(settings.upload_token) < 12:
        raise click.UsageError("--shared-uploads 需要设置环境变量 BUDGETQA_UPLOAD_TOKEN（至少 12 个字符的口令）。")
    ensure_index(settings)
    click.echo(f"索引目录：{settings.home}；打开 http://{host}:{port}/", err=True)
    launch(settings, host, port, shared_uploads=shared_uploads)


# ---------------------------------------------------------------- eval
@cli.command(name="eval")
@click.argument("gold", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--report", "report_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("reports"), show_default=True, help="报告（Markdown + HTML）输出目录")
@click.option("--baseline", type=click.Choice(["naive"]), default=None,
              help="同时运行朴素 RAG 基线，比较检索召回率")
@click.option("--corpus", "corpus", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="评测前先索引这些文件或文件夹（可多次给出）；基线也读这些文件。默认：自带语料")
@click.option("--docs", "docs_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="评测前先索引自带语料和此文件夹中题目 doc 字段点名的文件（如 ../shared/corpus-more）")
@click.option("--min", "min_accuracy", type=float, default=None, help="准确率低于此值时退出码为 1")
@click.option("--min-accuracy-from", "--min-from", "min_from", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="从 thresholds.json 的 min_accuracy 读取阈值")
@click.pass_context
def eval_cmd(ctx: click.Context, gold: Path, report_dir: Path, baseline: str | None,
             corpus: tuple[Path, ...], docs_dir: Path | None, min_accuracy: float | None,
             min_from: Path | None) -> None:
    """评测：逐题提问，按题型统计准确率、引用准确率、核对比例和延迟，并写出报告。"""
    from budgetqa.eval.harness import gold_documents, run_eval
    from budgetqa.index.store.ingest import default_corpus

    if min_from is not None:
        min_accuracy, corpus = _thresholds(min_from, min_accuracy, corpus)
    if docs_dir is not None:
        named, missing = gold_documents(gold, docs_dir)
        for name in missing:
            click.echo(f"{docs_dir} 中没有题目点名的文件：{name}", err=True)
        corpus = (*corpus, *default_corpus(), *named)
    settings = _settings(ctx)
    if corpus:
        from budgetqa.index.store.ingest import index_paths

        report = index_paths(list(corpus), settings, progress=False)
        for name, reason in report.failed:
            click.echo(f"索引失败：{name}：{reason}", err=True)
    summary = run_eval(gold, settings, engine=_engine(settings), report_dir=report_dir,
                       baseline=baseline, corpus=corpus, echo=click.echo)
    if min_accuracy is not None and summary.accuracy < min_accuracy:
        click.echo(f"准确率 {summary.accuracy:.3f} 低于阈值 {min_accuracy:.3f}", err=True)
        ctx.exit(1)


def _thresholds(path: Path, min_accuracy: float | None,
                corpus: tuple[Path, ...]) -> tuple[float | None, tuple[Path, ...]]:
    """thresholds.json gives min_accuracy and the corpus it was measured on (paths relative to
    the repository root, the folder above eval/); command-line values win."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        threshold = float(spec["min_accuracy"]) if min_accuracy is None else min_accuracy
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{path} 格式不对，需要 min_accuracy：{exc}") from exc
    if corpus:
        return threshold, corpus
    root = path.resolve().parent.parent
    listed = [_beside(root, p) for p in spec.get("corpus", [])]
    for missing in (p for p in listed if not p.exists()):
        click.echo(f"找不到 {missing}，跳过", err=True)
    return threshold, tuple(p for p in listed if p.exists())


def _beside(root: Path, listed: str) -> Path:
    """A thresholds.json path; "../shared/…" follows BUDGETQA_SHARED when set (a worktree elsewhere)."""
    shared = os.environ.get("BUDGETQA_SHARED")
    if shared and listed.startswith("../shared/"):
        return Path(shared) / listed.removeprefix("../shared/")
    return root / listed


if __name__ == "__main__":
    main()
