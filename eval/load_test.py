"""Load test of the chat page: N simulated citizens ask M questions each, all at once, over loopback.

    budgetqa serve --port 7860 &            # the page, with the bundled corpus indexed
    python -m budgetqa.eval.load_test --url http://127.0.0.1:7860/ --users 50 --questions 10

Each user is one browser session sending what the page sends (the question box's own event with the
page's inputs, read from its config; the conversation so far as the chatbot holds it), asking its
questions one after another like a person waiting for each answer. The questions are the gold
set's lookups over the bundled corpus; an answer is right when its figure and unit are in the reply.
Prints the success rate and latency p50/p95/max (join to final answer). Loopback only and bounded:
it refuses other hosts and caps users and questions, so it cannot be pointed at someone else's server.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import ssl
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
from budgetqa.eval.scoring import has_value, load_gold

MAX_USERS = 200
MAX_QUESTIONS = 50
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
SEED_DOCS = {"000", "001", "002", "003", "004"}  # the bundled corpus `budgetqa serve` indexes on first start
_TAGS = re.compile(r"<[^>]+>")
_JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Question:
    text: str
    values: tuple[tuple[float, str], ...]


@dataclass(frozen=True)
class Result:
    ok: bool
    seconds: float
    error: str = ""
    chat: list[Any] | None = None  # the chatbot's value after this answer
    position: int = 0  # this question's place in its user's conversation (0: the first)


def questions(gold: Path) -> list[Question]:
    items, _ = load_gold(gold)
    return [Question(i.q, i.values) for i in items if i.type == "lookup" and i.doc in SEED_DOCS and i.values]


def _json(payload: dict[str, Any]) -> bytes:
    """The body as a browser's JSON.stringify sends it (UTF-8, no \\u escapes), encoded cheaply: the
    load generator shares the 2 cores with the server it measures."""
    return orjson.dumps(payload)


def check_url(url: str) -> str:
    host = urlparse(url).hostname or ""
    if host not in LOOPBACK:
        raise SystemExit(f"只对本机测试：{url} 不是回环地址（{'、'.join(sorted(LOOPBACK))}）")
    return url.rstrip("/")


@dataclass(frozen=True)
class Endpoint:
    prefix: str  # "/gradio_api"
    fn_index: int
    trigger: int
    queued: bool  # through the queue (join + event stream) or one plain request, as the page does
    inputs: tuple[str, ...] = ()  # the event's input component types, in order
    outputs: tuple[str, ...] = ()  # the event's output component types, in order


def _payload_data(fn: Endpoint, text: str, chat: list[Any]) -> list[Any]:
    """What the page sends: the question in the textbox, the conversation so far as the chatbot shows
    it (the page's last reply), every other input empty."""
    defaults = {"textbox": text, "chatbot": chat}
    return [defaults.get(kind) for kind in fn.inputs]


def _chat_of(fn: Endpoint, data: Any) -> list[Any] | None:
    """The chatbot's new value in a reply's output data, which the page sends back with its next question."""
    if "chatbot" not in fn.outputs or not isinstance(data, list) or len(data) != len(fn.outputs):
        return None
    chat = data[fn.outputs.index("chatbot")]
    # a streamed reply may carry diff operations instead of the value: those are not sent back
    return chat if isinstance(chat, list) and all(isinstance(m, dict) and "role" in m for m in chat) else None


async def ask_fn(client: Any, base: str) -> Endpoint:
    """The question box's submit event, from the page's config."""
    config = (await client.get(f"{base}/config")).json()
    comps = {c["id"]: c for c in config["components"]}
    for i, dep in enumerate(config["dependencies"]):
        for target, event in dep.get("targets", []):
            if event == "submit" and comps.get(target, {}).get("props", {}).get("elem_id") == "bq-question":
                kinds = tuple(comps.get(c, {}).get("type", "") for c in dep.get("inputs", []))
                outs = tuple(comps.get(c, {}).get("type", "") for c in dep.get("outputs", []))
                return Endpoint(config.get("api_prefix", ""), dep.get("id", i), target,
                                dep.get("queue") is not False, kinds, outs)
    raise SystemExit("页面上没有找到提问框（elem_id=bq-question）")


async def ask_once(client: Any, base: str, fn: Endpoint, session: str, q: Question, timeout: float,
                   chat: list[Any] | None = None) -> Result:
    start = time.perf_counter()
    payload: dict[str, Any] = {"data": _payload_data(fn, q.text, chat or []), "event_data": None,
                               "fn_index": fn.fn_index,
               "trigger_id": fn.trigger, "session_hash": session}
    if not fn.queued:
        return await _direct(client, f"{base}{fn.prefix}/run/predict", fn, payload, q, timeout, start)
    prefix = fn.prefix
    try:
        joined = await client.post(f"{base}{prefix}/queue/join", content=_json(payload), headers=_JSON,
                                   timeout=timeout)
        if joined.status_code != 200:
            return Result(False, time.perf_counter() - start, f"join {joined.status_code}")
        last, result, reply = "", Result(False, 0.0, "stream ended"), None
        # Read as the page does: the stream closes itself ("close_stream") once the session has nothing
        # pending; leaving earlier would leave the server writing to a dead stream.
        async with client.stream("GET", f"{base}{prefix}/queue/data", params={"session_hash": session},
                                 timeout=timeout) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                msg = orjson.loads(line[5:])
                kind = msg.get("msg")
                if kind in ("process_generating", "process_completed"):
                    last = " ".join(_strings(msg.get("output", {}))) or last
                if kind == "process_completed":
                    seconds = time.perf_counter() - start
                    reply = _chat_of(fn, (msg.get("output") or {}).get("data"))
                    right = bool(msg.get("success", True)) and _right(" ".join(_strings(reply[-1:])) if reply else last, q)
                    result = Result(right, seconds, "" if right else "wrong figure or server error", reply)
                if kind == "close_stream":
                    break
        return result if result.seconds else Result(False, time.perf_counter() - start, "stream ended")
    except Exception as exc:  # a refused or dropped connection counts as a failed question
        return Result(False, time.perf_counter() - start, type(exc).__name__)


async def _direct(client: Any, url: str, fn: Endpoint, payload: dict[str, Any], q: Question, timeout: float,
                  start: float) -> Result:
    try:
        resp = await client.post(url, content=_json(payload), headers=_JSON, timeout=timeout)
        seconds = time.perf_counter() - start
        if resp.status_code != 200:
            return Result(False, seconds, f"HTTP {resp.status_code}")
        data = orjson.loads(resp.content).get("data", [])
        chat = _chat_of(fn, data)
        # only this answer is judged: the last bubble (the whole chat repeats the earlier answers)
        right = _right(" ".join(_strings(chat[-1:] if chat else data)), q)
        return Result(right, seconds, "" if right else "wrong figure", chat)
    except Exception as exc:  # a refused or dropped connection counts as a failed question
        return Result(False, time.perf_counter() - start, type(exc).__name__)


def _strings(obj: Any) -> list[str]:
    """Every string in a queue message's output (full values or diff operations alike)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _right(output: str, q: Question) -> bool:
    text = _TAGS.sub("", output)
    return all(has_value(text, v, u) for v, u in q.values)


async def user(base: str, fn: Endpoint, qs: list[Question], timeout: float, tls: Any = True) -> list[Result]:
    """One citizen with their own browser: their own connection (a client shared by 50 users spends
    more time matching requests to pooled connections than the server spends answering) and session."""
    import httpx

    session = uuid.uuid4().hex[:11]  # one page load: the browser keeps its session for every question
    results: list[Result] = []
    chat: list[Any] = []
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=2), trust_env=False, verify=tls) as client:
        for k, q in enumerate(qs):
            results.append(replace(await ask_once(client, base, fn, session, q, timeout, chat), position=k))
            chat = results[-1].chat if results[-1].chat is not None else chat
    return results


async def run(url: str, users: int, per_user: int, pool: list[Question], timeout: float) -> list[Result]:
    import httpx

    base = check_url(url)
    async with httpx.AsyncClient(trust_env=False) as client:
        fn = await ask_fn(client, base)
    tls = ssl.create_default_context()  # one for all clients: each would otherwise load the CA store again
    plans = [[pool[(u * per_user + k) % len(pool)] for k in range(per_user)] for u in range(users)]
    done = await asyncio.gather(*(user(base, fn, p, timeout, tls) for p in plans))
    return [r for rs in done for r in rs]


def _percentiles(seconds: list[float]) -> list[float]:
    secs = sorted(seconds)
    return statistics.quantiles(secs, n=100, method="inclusive") if len(secs) >= 2 else secs * 99


def report(results: list[Result], wall: float) -> str:
    secs = sorted(r.seconds for r in results)
    ok = sum(r.ok for r in results)
    p = _percentiles(secs)
    errors: dict[str, int] = {}
    for r in results:
        if r.error:
            errors[r.error] = errors.get(r.error, 0) + 1
    lines = [f"questions: {len(results)}, right: {ok} ({ok / max(len(results), 1):.1%})",
             f"latency p50 {p[49]:.3f} s, p95 {p[94]:.3f} s, max {secs[-1]:.3f} s",
             f"wall time {wall:.1f} s, throughput {len(results) / wall:.1f} questions/s"]
    # a fresh server's first wave (every user's first question at once, all new to the server) apart
    first, later = [r.seconds for r in results if r.position == 0], [r.seconds for r in results if r.position]
    if first and later:
        f, g = _percentiles(first), _percentiles(later)
        lines.append(f"first questions p50 {f[49]:.3f} s, p95 {f[94]:.3f} s; "
                     f"later questions p50 {g[49]:.3f} s, p95 {g[94]:.3f} s")
    if errors:
        lines.append("failures: " + ", ".join(f"{k} × {v}" for k, v in sorted(errors.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:7860/")
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--questions", type=int, default=10, help="questions per user, asked one after another")
    ap.add_argument("--gold", type=Path, default=Path(__file__).with_name("gold.jsonl"))
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)
    if not (1 <= args.users <= MAX_USERS and 1 <= args.questions <= MAX_QUESTIONS):
        raise SystemExit(f"users 1..{MAX_USERS}, questions 1..{MAX_QUESTIONS}")
    pool = questions(args.gold)
    if not pool:
        raise SystemExit(f"{args.gold} 里没有针对内置语料的查数问题")
    import httpx

    start = time.perf_counter()
    try:
        results = asyncio.run(run(args.url, args.users, args.questions, pool, args.timeout))
    except httpx.ConnectError as exc:
        raise SystemExit(f"连不上 {args.url}（{exc}）：先运行 budgetqa serve，等页面可以打开后再测") from exc
    print(f"{args.users} users × {args.questions} questions against {args.url}")
    print(report(results, time.perf_counter() - start))
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
