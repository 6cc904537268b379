"""Scale benchmark (a script, never a timed test):

    python -m budgetqa.eval.bench_scale [--sizes 200,2000,10000] [--work DIR] [--questions N] [--repeat 3]

Builds synthetic corpora of each size from the real documents in ../shared (see scale_corpus: place
names, years and figures re-labelled per synthetic city, so every unit is distinct) and prints, per
size: full index time, add-one time (a new process indexing one more document), disk, indexing peak
RSS, cold start (new process to first answer), the first start after a document was added, warm
p50/p95, answer-process RSS, where one document's indexing time goes (read, extract, tokens, registry
entry, store write), and the accuracy of the fixed question set (the gold questions about the bases, asked of city 0's copies). Finally it
checks the question set got the same answers at every size.

Every measured step runs in its own process, so peak RSS is that step's own (os.wait4). Cold start, add
one and the stages run `--repeat` times and their medians are shown with the load average: on a shared
2-core machine a single run says little. The dense
side is off (BUDGETQA_DENSE=0): the benchmark measures the fact store and the lexical index; set
BUDGETQA_DATABASE_URL to measure the PostgreSQL store instead of the embedded SQLite one.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BUDGETQA_SHARED") or REPO.parent / "shared")
GOLD = REPO / "eval" / "gold.jsonl"
TARGETS = {"add_s": 2.0, "cold_s": 3.0, "p95_ms": 100.0, "rss_mb": 2048.0, "index_min": 60.0}


@dataclass(frozen=True)
class Run:
    """A finished child process: its JSON result, wall seconds and peak RSS in MB."""

    result: dict[str, Any]
    seconds: float
    rss_mb: float
    first_line_s: float  # wall seconds until the child printed its first line
    cpu_s: float = 0.0  # the child's user + system CPU seconds (and its waited-for children's)


def child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, BUDGETQA_HOME=str(home), BUDGETQA_DENSE="0", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false")
    return env


def run_child(args: list[str], home: Path, log: Path | None = None) -> Run:
    """Run `python -m budgetqa.eval.bench_scale --child …`; the last stdout line is its JSON result."""
    start = time.perf_counter()
    err = open(log, "a") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "budgetqa.eval.bench_scale", "--child", *args],
                            stdout=subprocess.PIPE, stderr=err, text=True, env=child_env(home))
    assert proc.stdout is not None
    lines = []
    first = None
    for line in proc.stdout:
        if first is None:
            first = time.perf_counter() - start
        lines.append(line)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if log:
        err.close()  # type: ignore[union-attr]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child {args[0]} failed ({proc.returncode}); see {log}")
    return Run(json.loads(lines[-1]), seconds, usage.ru_maxrss / 1024, first or seconds,
               usage.ru_utime + usage.ru_stime)


def du_mb(home: Path) -> float:
    return sum(p.stat().st_size for p in home.rglob("*") if p.is_file()) / 2**20


# ---- children ---------------------------------------------------------------------------------


def child_index(files_from: Path) -> dict[str, Any]:
    from budgetqa.config import load_settings
    from budgetqa.index.store.ingest import index_paths

    files = [Path(p) for p in files_from.read_text(encoding="utf-8").splitlines() if p]
    start = time.perf_counter()
    from budgetqa.index.store import isolate

    report = index_paths(files, load_settings(), progress=True)
    return {"seconds": time.perf_counter() - start, "indexed": report.indexed, "unchanged": report.unchanged,
            "failed": len(report.failed), "facts": report.facts, "chunks": report.chunks,
            "worker_cpu_s": isolate.WORKER_CPU}


def child_cold(question: str) -> dict[str, Any]:
    from budgetqa.app.pipeline import Engine
    from budgetqa.config import load_settings

    answer = Engine(load_settings()).ask(question)
    print(json.dumps({"status": answer.status}), flush=True)  # the parent times this line
    return {"status": answer.status, "answer": answer.answer}


def child_warm(questions_file: Path) -> dict[str, Any]:
    from budgetqa.app.pipeline import Engine
    from budgetqa.config import load_settings
    from budgetqa.eval.scoring import is_correct, parse_gold

    items = json.loads(questions_file.read_text(encoding="utf-8"))
    engine = Engine(load_settings())
    answers, correct = {}, 0
    for item in items:  # first pass: the answers compared across sizes (and the caches warmed)
        ans = engine.ask(item["q"])
        cites = sorted({c.doc for c in ans.citations})
        answers[item["id"]] = {"status": ans.status, "answer": ans.answer, "docs": cites}
        correct += is_correct(parse_gold(item), {"status": ans.status, "answer": ans.answer})
    latencies = []
    for item in items:
        t0 = time.perf_counter()
        engine.ask(item["q"])
        latencies.append((time.perf_counter() - t0) * 1000)
    return {"answers": answers, "correct": correct, "total": len(items), "latencies_ms": latencies}


def child_add(path: Path) -> dict[str, Any]:
    from budgetqa.config import load_settings
    from budgetqa.index.store.ingest import index_paths

    start = time.perf_counter()
    report = index_paths([path], load_settings(), progress=False)
    return {"seconds": time.perf_counter() - start, "indexed": report.indexed, "failed": len(report.failed)}


def child_stages(path: Path) -> dict[str, Any]:
    """Where one document's indexing time goes, all in this process (no parse worker), against the
    home's store at its size: imports, read, extract, chunks, the tokenizer's dictionary, tokens, the
    unit-registry entry, the store's write (one transaction). The document is written under a name of
    its own and removed again (untimed)."""
    from dataclasses import replace

    clock = time.perf_counter
    marks: dict[str, float] = {}
    last = clock()

    def mark(name: str) -> None:
        nonlocal last
        now = clock()
        marks[name] = now - last
        last = now

    from budgetqa.config import load_settings
    from budgetqa.index.store.base import unit_entry_of
    from budgetqa.index.store.chunk import make_chunks
    from budgetqa.index.store.ingest import open_store
    from budgetqa.index.store.lexical import shared_tokenizer, tokenize_document
    mark("import_store")
    from budgetqa.index.extract.facts import extract_facts
    from budgetqa.index.read.readers import read_document
    mark("import_readers")
    settings = load_settings()
    store = open_store(settings)
    mark("open_store")
    doc = replace(read_document(path), name=f"stages-{path.name}")
    mark("read")
    facts = extract_facts(doc)
    mark("extract")
    chunks = make_chunks(doc, facts)
    mark("chunk")
    shared_tokenizer()
    mark("dictionary")
    tokens, terms = tokenize_document(chunks)
    mark("lexical")
    entry = unit_entry_of(doc, facts)
    mark("registry")
    store.replace_document(doc, facts, chunks, prepared=(tokens, terms, entry))
    mark("store")
    store.remove(doc.name)
    store.close()
    return {"stages": marks, "facts": len(facts), "chunks": len(chunks)}


def child_forget(path: Path) -> dict[str, Any]:
    """Remove the "add one" document if an earlier run of the benchmark added it (a reused index)."""
    from budgetqa.config import load_settings
    from budgetqa.index.store.ingest import index_lock, open_store

    settings = load_settings()
    with index_lock(settings):
        store = open_store(settings)
        try:
            names = [s.name for s in store.stamps() if s.origin == str(path.resolve())]
            for name in names:
                store.remove(name)
        finally:
            store.close()
    return {"removed": names}


def run_as_child(kind: str, arg: str) -> int:
    handlers = {"index": lambda: child_index(Path(arg)), "cold": lambda: child_cold(arg),
                "warm": lambda: child_warm(Path(arg)), "add": lambda: child_add(Path(arg)),
                "forget": lambda: child_forget(Path(arg)), "stages": lambda: child_stages(Path(arg))}
    print(json.dumps(handlers[kind](), ensure_ascii=False), flush=True)
    return 0


# ---- the benchmark ----------------------------------------------------------------------------


def say(text: str) -> None:
    print(text, flush=True)


def percentile(values: list[float], q: float) -> float:
    from budgetqa.eval.harness import percentile as nearest_rank

    return nearest_rank(values, q)


def _mark(value: float, target: float) -> str:
    return "达标" if value <= target else "未达标"


def full_index(n: int, corpus: list[Path], work: Path, reuse: bool) -> Run:
    """Index the first n documents into a fresh home, or (with `reuse`) keep the home a previous run
    indexed and report that run's figures: a 2,000-document index takes an hour on this machine."""
    home = work / f"home-{n}"
    saved = home / "bench-index.json"
    if reuse and saved.is_file():
        data = json.loads(saved.read_text(encoding="utf-8"))
        say(f"  沿用已建索引 {home}（建于 {data['when']}）")
        return Run(data["result"], data["seconds"], data["rss_mb"], data["seconds"])
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    files = work / f"files-{n}.txt"
    files.write_text("\n".join(str(p) for p in corpus[:n]), encoding="utf-8")
    index = run_child(["index", str(files)], home, work / f"log-{n}.txt")
    # the indexer's own CPU and its parse workers' (children of the forkserver: not in its rusage)
    index.result["cpu_s"] = index.cpu_s + float(index.result.get("worker_cpu_s", 0.0))
    index.result["load"] = load_average()
    saved.write_text(json.dumps({"result": index.result, "seconds": index.seconds, "rss_mb": index.rss_mb,
                                 "when": time.strftime("%Y-%m-%d %H:%M")}), encoding="utf-8")
    return index


def load_average() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


STAGES = {"import_store": "导入（存储）", "import_readers": "导入（解析器）", "open_store": "打开库", "read": "解析",
          "extract": "抽取数据", "chunk": "切片", "dictionary": "分词词典", "lexical": "分词", "registry": "单位登记项",
          "store": "写入库"}


def bench_stages(extra: Path, home: Path, log: Path, repeat: int) -> dict[str, float]:
    """Median seconds of each stage of indexing one document (in one process, see child_stages)."""
    runs = [run_child(["stages", str(extra)], home, log).result for _ in range(repeat)]
    stages = {k: median([r["stages"][k] for r in runs]) for k in STAGES}
    say(f"  单个文件各阶段（进程内，{repeat} 次中位数，{runs[0]['facts']} 条数据，{runs[0]['chunks']} 个片段；负载 {load_average()}）："
        + "，".join(f"{STAGES[k]} {v:.2f}" for k, v in stages.items()) + f"；合计 {sum(stages.values()):.2f} 秒")
    return stages


def bench_size(n: int, corpus: list[Path], extra: Path, questions: Path, first: str, work: Path,
               reuse: bool = False, repeat: int = 1) -> dict[str, Any]:
    home = work / f"home-{n}"
    log = work / f"log-{n}.txt"
    say(f"== {n} 个文件（日志 {log}；负载 {load_average()}）")
    index = full_index(n, corpus, work, reuse)
    r = index.result
    say(f"  全量索引：{index.seconds / 60:.1f} 分钟（每个文件 {index.seconds / n:.2f} 秒，CPU {r.get('cpu_s', 0) / n:.2f} 秒，"
        f"结束时负载 {r.get('load', '?')}；进程内 {r['seconds']:.0f} 秒；成功 {r['indexed']}，失败 {r['failed']}，"
        f"{r['facts']} 条数据，{r['chunks']} 个片段），索引峰值 RSS {index.rss_mb:.0f} MB")
    disk = du_mb(home)
    say(f"  磁盘：{disk:.0f} MB")
    run_child(["forget", str(extra)], home, log)  # untimed: a reused index may hold it from a previous run
    cold = run_child(["cold", first], home, log)
    say(f"  首次启动（索引后新进程到首个回答，建单位登记表）：{cold.first_line_s:.2f} 秒，CPU {cold.cpu_s:.2f} 秒"
        f"（status={cold.result['status']}）")
    again = [run_child(["cold", first], home, log) for _ in range(repeat)]
    cold_s, cold_cpu = median([a.first_line_s for a in again]), median([a.cpu_s for a in again])
    say(f"  冷启动（新进程到首个回答，登记表已缓存；{repeat} 次中位数）：{cold_s:.2f} 秒，CPU {cold_cpu:.2f} 秒"
        f"（各次 {', '.join(f'{a.first_line_s:.2f}' for a in again)}；负载 {load_average()}）")
    warm = run_child(["warm", str(questions)], home, log)
    w = warm.result
    p50, p95 = percentile(w["latencies_ms"], 50), percentile(w["latencies_ms"], 95)
    say(f"  热问答（{w['total']} 题）：p50 {p50:.1f} ms，p95 {p95:.1f} ms，最大 {max(w['latencies_ms']):.1f} ms；"
        f"回答进程 RSS {warm.rss_mb:.0f} MB；正确 {w['correct']}/{w['total']}")
    stages = bench_stages(extra, home, log, repeat)
    adds, afters = [], []
    for i in range(repeat):  # each time: the document out again (untimed), added, then a new process starts
        if i:
            run_child(["forget", str(extra)], home, log)
        adds.append(run_child(["add", str(extra)], home, log))
        afters.append(run_child(["cold", first], home, log))
    add_s, add_cpu = median([a.seconds for a in adds]), median([a.cpu_s for a in adds])
    after_s, after_cpu = median([a.first_line_s for a in afters]), median([a.cpu_s for a in afters])
    say(f"  新增一个文件（新进程；{repeat} 次中位数）：{add_s:.2f} 秒，CPU {add_cpu:.2f} 秒（进程内索引 "
        f"{median([a.result['seconds'] for a in adds]):.2f} 秒；各次 {', '.join(f'{a.seconds:.2f}' for a in adds)}；"
        f"负载 {load_average()}）")
    say(f"  新增后首次启动（合并各文件的单位登记项）：{after_s:.2f} 秒，CPU {after_cpu:.2f} 秒"
        f"（各次 {', '.join(f'{a.first_line_s:.2f}' for a in afters)}；负载 {load_average()}）")
    return {"n": n, "index_s": index.seconds, "index_rss_mb": index.rss_mb, "disk_mb": disk,
            "first_s": cold.first_line_s, "cold_s": cold_s, "cold_cpu_s": cold_cpu,
            "after_add_s": after_s, "after_add_cpu_s": after_cpu, "p50_ms": p50, "p95_ms": p95,
            "answer_rss_mb": warm.rss_mb, "add_s": add_s, "add_cpu_s": add_cpu,
            "add_inner_s": median([a.result["seconds"] for a in adds]), "stages": stages, "repeat": repeat,
            "correct": w["correct"], "total": w["total"], "answers": w["answers"], "failed": r["failed"],
            "load": load_average()}


def compare(results: list[dict[str, Any]]) -> int:
    """Questions whose answer differs between the smallest and any larger size."""
    base = results[0]
    differing = 0
    for other in results[1:]:
        for qid, ans in base["answers"].items():
            if other["answers"].get(qid) != ans:
                differing += 1
                say(f"  不同：{qid} @ {base['n']}：{ans['answer'][:80]!r}\n"
                    f"         @ {other['n']}：{other['answers'].get(qid, {}).get('answer', '')[:80]!r}")
    return differing


def table(results: list[dict[str, Any]]) -> None:
    say("\n| 文件数 | 全量索引 | 新增一个（CPU） | 磁盘 | 索引峰值 RSS | 索引后首次启动 | 冷启动（CPU） | 新增后首次启动 "
        "| 热 p50 / p95 | 回答 RSS | 正确 | 负载 |")
    say("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        say(f"| {r['n']:,} | {r['index_s'] / 60:.1f} min | {r['add_s']:.2f} s ({r['add_cpu_s']:.2f} s) | "
            f"{r['disk_mb']:.0f} MB | {r['index_rss_mb']:.0f} MB | {r['first_s']:.2f} s | "
            f"{r['cold_s']:.2f} s ({r['cold_cpu_s']:.2f} s) | {r['after_add_s']:.2f} s | "
            f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} ms | {r['answer_rss_mb']:.0f} MB | {r['correct']}/{r['total']} | "
            f"{r['load']} |")
    big = results[-1]
    say(f"目标（{big['n']:,} 个文件）：新增一个 ≤ {TARGETS['add_s']} 秒 {_mark(big['add_s'], TARGETS['add_s'])}；"
        f"冷启动 ≤ {TARGETS['cold_s']} 秒 {_mark(big['cold_s'], TARGETS['cold_s'])}；"
        f"热 p95 ≤ {TARGETS['p95_ms']:.0f} ms {_mark(big['p95_ms'], TARGETS['p95_ms'])}；"
        f"回答 RSS ≤ 2 GB {_mark(big['answer_rss_mb'], TARGETS['rss_mb'])}；"
        f"全量索引 ≤ 60 分钟 {_mark(big['index_s'] / 60, TARGETS['index_min'])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200,2000,10000", help="逗号分隔的语料规模")
    parser.add_argument("--work", type=Path, default=Path("/tmp/budgetqa-bench-scale"),
                        help="合成语料、索引和日志所在目录（语料生成后复用）")
    parser.add_argument("--questions", type=int, default=0, help="只用前 N 个固定问题（0 = 全部）")
    parser.add_argument("--reuse-index", action="store_true",
                        help="沿用工作目录中已建好的索引（及其全量索引用时），只重测其余各项")
    parser.add_argument("--index-only", action="store_true", help="只建索引（供之后 --reuse-index）")
    parser.add_argument("--repeat", type=int, default=3, help="冷启动、新增一个、各阶段各测几次（报中位数）")
    parser.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return run_as_child(*args.child)
    from budgetqa.eval.scale_corpus import city0_questions, load_bases, write_corpus

    sizes = sorted(int(s) for s in args.sizes.split(",") if s.strip())
    bases = load_bases(SHARED, args.work / "renderings")
    if not bases:
        say(f"找不到基础文件：{SHARED}（请设置 BUDGETQA_SHARED 指向 shared 目录）")
        return 2
    say(f"基础文件 {len(bases)} 个（{SHARED}），规模 {sizes}，工作目录 {args.work}")
    corpus = write_corpus(bases, max(sizes) + len(bases), args.work / "corpus")
    # the "add one" document: never in a measured corpus, made from a seed (which parses)
    extra = corpus[max(sizes) + (-max(sizes)) % len(bases)]
    items = city0_questions(bases, GOLD)[: args.questions or None]
    questions = args.work / "questions.json"
    questions.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    first = str(items[0]["q"])
    if args.index_only:
        for n in sizes:
            run = full_index(n, corpus[:max(sizes)], args.work, args.reuse_index)
            say(f"  {n} 个文件：全量索引 {run.seconds / 60:.1f} 分钟（每个文件 {run.seconds / n:.2f} 秒，"
                f"CPU {run.result.get('cpu_s', 0) / n:.2f} 秒；结束时负载 {run.result.get('load', '')}），"
                f"峰值 RSS {run.rss_mb:.0f} MB，{run.result}")
        return 0
    results = [bench_size(n, corpus[:max(sizes)], extra, questions, first, args.work, args.reuse_index,
                          max(1, args.repeat)) for n in sizes]
    table(results)
    if len(results) > 1:
        differing = compare(results)
        say(f"固定问题集 {results[0]['total']} 题：各规模回答{'完全相同' if not differing else f'有 {differing} 处不同'}")
    (args.work / "results.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
