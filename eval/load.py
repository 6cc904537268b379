"""Load test (a script, never a timed test): questions keep coming while the index changes under them.

    python -m budgetqa.eval.load [GOLD.jsonl] [--threads 4] [--rounds 3] [--big-mb 50]

In a temporary BUDGETQA_HOME with the bundled seeds indexed, and the web page's handlers (the path
`budgetqa serve` answers on):
1. every gold question about the seeds is asked once quietly; those answered right are the load set;
2. `--threads` visitors ask the load set `--rounds` times each, while at the same time
   - a separate `budgetqa index` process indexes the 7 text renderings of shared/corpus-extra plus a
     generated `--big-mb` MB file (refused by the size limit, must not hold anything up), and
   - a visitor uploads a forged copy of a seed under its real name (公务接待费 5.00 → 500.00) and asks
     about it in their own session;
3. after the indexer ends, the gold questions about the newly indexed documents are asked through the
   same running handlers (no restart).

Prints the share of right answers under load (target 100 %), whether the forged figure ever reached
another visitor, the indexer's outcome and time, and latencies.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from budgetqa.config import Settings, load_settings, set_offline_env
from budgetqa.eval.bench_ask import DEFAULT_GOLD, EXTRA_CANDIDATES, renderings
from budgetqa.eval.harness import percentile
from budgetqa.eval.scoring import GoldItem, is_correct, load_gold

SEED = "001_99a0e79d6e43ffbd.txt"
FORGED_FROM, FORGED_TO = "2、公务接待费\t5.00", "2、公务接待费\t500.00"


@dataclass
class Tally:
    asked: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)
    forged_seen: int = 0  # answers to other visitors that showed the forged figure
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def answer(handlers: Any, question: str, visitor: Any = None) -> dict[str, Any]:
    """The checked Answer the page would show, as the contract's JSON object."""
    last = None
    for ans, _html in handlers._replies(question, None, None, (), visitor):
        last = ans
    return last.to_json() if last is not None else {"status": "error", "answer": ""}


def visitor_loop(handlers: Any, items: list[GoldItem], rounds: int, tally: Tally) -> None:
    for _ in range(rounds):
        for item in items:
            start = time.perf_counter()
            out = answer(handlers, item.q)
            seconds = time.perf_counter() - start
            ok = is_correct(item, out)
            with tally.lock:
                tally.asked += 1
                tally.right += ok
                tally.latencies.append(seconds)
                tally.forged_seen += "500.00" in (out.get("answer") or "")
                if not ok:
                    tally.wrong.append(f"{item.id}: {item.q} -> {out.get('answer', '')[:80]}")


def run_indexer(home: Path, folder: Path, result: dict[str, Any]) -> None:
    """`budgetqa index FOLDER` in its own process, as an operator would run it beside `serve`."""
    start = time.perf_counter()
    cmd = [sys.executable, "-c", "from budgetqa.app.cli import main; main()", "index", "-q", str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "BUDGETQA_HOME": str(home), "BUDGETQA_DENSE": "0"})
    result.update(seconds=time.perf_counter() - start, code=done.returncode,
                  out=done.stdout.strip(), err=done.stderr.strip()[-1500:])


def run_upload(handlers: Any, work: Path, result: dict[str, Any]) -> None:
    """A visitor uploads a forged seed under its real name and asks about it in their session."""
    from budgetqa.index.store.ingest import default_corpus

    seed = next(p for p in default_corpus() if p.name == SEED)
    incoming = work / "incoming" / "f00d"
    incoming.mkdir(parents=True, exist_ok=True)
    forged = incoming / SEED
    forged.write_text(seed.read_text(encoding="utf-8").replace(FORGED_FROM, FORGED_TO), encoding="utf-8")
    start = time.perf_counter()
    message, *_, visitor = handlers.upload([str(forged)], None, None)
    own = answer(handlers, "福州市医疗保障局的公务接待费是多少", visitor)
    result.update(seconds=time.perf_counter() - start, message=message.splitlines()[0],
                  own_answer=own.get("answer", ""), own_cites=[c["doc"] for c in own.get("citations", [])])


def big_file(folder: Path, megabytes: int) -> Path:
    path = folder / "huge-table.txt"
    line = "2、公务接待费\t5.00\t5.00\t0.00\n".encode()
    with path.open("wb") as out:
        out.write(line * (megabytes * 1024 * 1024 // len(line)))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("gold", nargs="?", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=50)
    args = parser.parse_args(argv)
    set_offline_env()
    extra = next((p for p in EXTRA_CANDIDATES if p.is_dir()), None)
    if extra is None:
        print("找不到 shared/corpus-extra（设置 BUDGETQA_SHARED）", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="budgetqa-load-") as tmp:
        return _run(Path(tmp), extra, args)


def _run(tmp: Path, extra: Path, args: argparse.Namespace) -> int:
    from budgetqa.app.pipeline import Engine
    from budgetqa.app.web import Handlers
    from budgetqa.index.store.ingest import default_corpus, ensure_index

    settings: Settings = load_settings(home=tmp / "home", dense=False)
    ensure_index(settings)
    handlers = Handlers(Engine(settings), settings)
    gold, _ = load_gold(args.gold)
    seeds = {p.name[:3] for p in default_corpus()}  # gold names a seed by its number ("001")
    on_seeds = [g for g in gold if g.doc in seeds or (g.doc is None and g.type == "unanswerable")]
    quiet = [g for g in on_seeds if is_correct(g, answer(handlers, g.q))]
    print(f"问题集：种子文档相关 {len(on_seeds)} 题，单独提问答对 {len(quiet)} 题（作为负载题集）")

    folder = tmp / "incoming-docs"
    folder.mkdir()
    for p in renderings(extra):
        shutil.copy(p, folder / p.name)
    big_file(folder, args.big_mb)
    tally = Tally()
    indexer: dict[str, Any] = {}
    upload: dict[str, Any] = {}
    threads = [threading.Thread(target=visitor_loop, args=(handlers, quiet, args.rounds, tally))
               for _ in range(args.threads)]
    threads.append(threading.Thread(target=run_indexer, args=(settings.home, folder, indexer)))
    threads.append(threading.Thread(target=run_upload, args=(handlers, tmp, upload)))
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start

    new_docs = {p.stem for p in renderings(extra)}
    after = [g for g in gold if g.doc in new_docs]
    after_right = sum(is_correct(g, answer(handlers, g.q)) for g in after)
    _report(tally, indexer, upload, wall, after, after_right)
    return 0 if tally.asked and tally.right == tally.asked and not tally.forged_seen else 1


def _report(tally: Tally, indexer: dict[str, Any], upload: dict[str, Any], wall: float,
            after: list[GoldItem], after_right: int) -> None:
    share = tally.right / tally.asked if tally.asked else 0.0
    print(f"负载期间：{tally.asked} 次提问，答对 {tally.right} 次（{share:.1%}），"
          f"其他访客看到伪造数字 {tally.forged_seen} 次；总用时 {wall:.1f} 秒")
    if tally.latencies:
        print(f"  延迟 p50 {percentile(tally.latencies, 50) * 1000:.0f} ms，"
              f"p95 {percentile(tally.latencies, 95) * 1000:.0f} ms，最长 {max(tally.latencies):.1f} s")
    for line in tally.wrong[:10]:
        print(f"  答错：{line}")
    print(f"并行索引进程：退出码 {indexer.get('code')}，用时 {indexer.get('seconds', 0):.1f} 秒；{indexer.get('out', '')}")
    for line in (indexer.get("err") or "").splitlines():
        if line.startswith(("失败", "跳过")):
            print(f"  {line}")
    print(f"上传：{upload.get('message', '')}（{upload.get('seconds', 0):.1f} 秒）；上传者本人看到："
          f"{upload.get('own_answer', '')[:60]} 出处 {upload.get('own_cites')}")
    print(f"索引完成后（服务不重启）新文档的问题：{len(after)} 题，答对 {after_right} 题")


if __name__ == "__main__":
    sys.exit(main())
