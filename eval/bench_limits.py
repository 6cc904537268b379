"""Benchmark (a script, never a timed test): one huge or slow file beside a normal one.

    python -m budgetqa.eval.bench_limits [--big-mb 50] [--slow-copies 150]

Indexes, in a temporary BUDGETQA_HOME, a folder holding a seed document, a generated `--big-mb` MB
table-like text file (refused by the size limit) and a seed repeated `--slow-copies` times (under the
size limit, slow to parse: refused by the parse-time limit, BUDGETQA_PARSE_TIMEOUT). Prints when the
normal document was committed, what happened to the others, the run's time and peak memory. The
issue's target: the normal document indexed within 2 minutes.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from budgetqa.config import load_settings, set_offline_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--big-mb", type=int, default=50)
    parser.add_argument("--slow-copies", type=int, default=150)
    args = parser.parse_args(argv)
    set_offline_env()
    from budgetqa.index.store.ingest import default_corpus, index_paths, open_store

    seed = default_corpus()[1]
    with tempfile.TemporaryDirectory(prefix="budgetqa-limits-") as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        line = "2、公务接待费\t5.00\t5.00\t0.00\n".encode()
        (folder / "a-huge.txt").write_bytes(line * (args.big_mb * 1024 * 1024 // len(line)))
        (folder / "b-slow.txt").write_text(seed.read_text(encoding="utf-8") * args.slow_copies, encoding="utf-8")
        slow_mb = (folder / "b-slow.txt").stat().st_size / 1024**2
        shutil.copy(seed, folder / f"c-{seed.name}")
        settings = load_settings(home=Path(tmp) / "home", dense=False)
        start = time.perf_counter()
        report = index_paths([folder], settings, progress=False)
        seconds = time.perf_counter() - start
        store = open_store(settings)  # the configured backend: SQLite, or BUDGETQA_DATABASE_URL's database
        try:
            docs = store.documents()
        finally:
            store.close()
    print(f"文件：a-huge.txt {args.big_mb} MB，b-slow.txt {slow_mb:.1f} MB"
          f"（种子重复 {args.slow_copies} 次），c-{seed.name}")
    print(f"用时 {seconds:.1f} 秒（上限：解析 {settings.parse_timeout:.0f} 秒/文件，{settings.max_file_mb:.0f} MB/文件）")
    print(f"已索引：{[d.name for d in docs]}")
    for name, reason in report.failed:
        print(f"  未索引：{name}：{reason}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"峰值内存：主进程 {rss:.0f} MB，解析子进程 {child:.0f} MB")
    return 0 if any(d.name.endswith(seed.name) for d in docs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
