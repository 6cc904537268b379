"""The LLM wiring end to end: settings from the environment -> ChatOpenAI -> a real HTTP endpoint.

The endpoint is a small OpenAI-compatible stub on loopback (POST /v1/chat/completions, plain JSON
and SSE streaming); the network blocker in conftest allows loopback only.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from budgetqa.app.pipeline import Engine
from budgetqa.catalog import MemorySource
from budgetqa.check.llm import NOTE_UNAVAILABLE, NOTE_UNVERIFIED, chat_model, ollama_v1
from budgetqa.config import load_settings
from budgetqa.index.extract.facts import extract_facts
from budgetqa.index.read.readers import read_document
from budgetqa.types import Answer

SEED = Path(__file__).resolve().parent.parent / "index" / "corpus" / "001_99a0e79d6e43ffbd.txt"
Q = "福州市医疗保障局的公务接待费是多少"
RIGHT = "福州市医疗保障局2024年一般公共预算“三公”经费中，公务接待费预算为5.00万元。"


@dataclass
class Stub:
    """What the endpoint answers and what it was asked."""

    reply: str = RIGHT
    status: int = 200
    hang: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep pytest output clean
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stub.requests.append(body)
            stub.auth.append(self.headers.get("Authorization"))
            if self.path != "/v1/chat/completions":
                return self._json(404, {"error": {"message": "not found"}})
            if stub.hang:
                stub.release.wait(30)
                return None
            if stub.status != 200:
                return self._json(stub.status, {"error": {"message": "model overloaded", "type": "server_error"}})
            if body.get("stream"):
                return self._sse(body["model"])
            return self._json(200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": stub.reply},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20}})

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _sse(self, model: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            pieces = [stub.reply[i:i + 4] for i in range(0, len(stub.reply), 4)]
            for i, piece in enumerate(pieces):
                delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                self._event({"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
            self._event({"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
                         "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, payload: dict[str, Any]) -> None:
            self.wfile.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())
            self.wfile.flush()

    return Handler


@pytest.fixture()
def stub() -> Iterator[tuple[Stub, int]]:
    state = Stub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, server.server_address[1]
    state.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def source() -> MemorySource:
    doc = read_document(SEED)
    return MemorySource([(doc, extract_facts(doc))])


def _engine(monkeypatch: pytest.MonkeyPatch, source: MemorySource, **env: str) -> Engine:
    monkeypatch.setenv("BUDGETQA_DENSE", "0")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Engine(load_settings(), source=source)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_settings_build_chatopenai_on_the_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGETQA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("BUDGETQA_LLM_MODEL", "qwen2.5:7b")
    monkeypatch.setenv("BUDGETQA_LLM_TIMEOUT", "7")
    model = chat_model(load_settings())
    assert model.openai_api_base == "http://127.0.0.1:9/v1" and model.model_name == "qwen2.5:7b"
    assert model.request_timeout == 7.0 and model.max_retries == 0


def test_no_model_name_means_no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUDGETQA_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    assert chat_model(load_settings()) is None
    assert ollama_v1("http://127.0.0.1:11434/") == "http://127.0.0.1:11434/v1"
    assert ollama_v1("http://127.0.0.1:11434/v1") == "http://127.0.0.1:11434/v1"


def test_an_answer_through_the_http_endpoint(monkeypatch: pytest.MonkeyPatch, source: MemorySource,
                                             stub: tuple[Stub, int]) -> None:
    state, port = stub
    e = _engine(monkeypatch, source, BUDGETQA_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
                BUDGETQA_LLM_MODEL="stub-model", BUDGETQA_LLM_API_KEY="sk-test")
    a = e.ask(Q)
    assert a.answer.startswith(RIGHT) and a.verified and not a.notes
    sent = state.requests[0]
    assert sent["model"] == "stub-model" and [m["role"] for m in sent["messages"]] == ["system", "user"]
    assert "未找到" in sent["messages"][0]["content"] and "数值：5.00；计量单位：万元" in sent["messages"][1]["content"]
    assert state.auth == ["Bearer sk-test"]


def test_a_wrong_figure_from_the_endpoint_is_caught(monkeypatch: pytest.MonkeyPatch, source: MemorySource,
                                                    stub: tuple[Stub, int]) -> None:
    state, port = stub
    state.reply = "福州市医疗保障局2024年公务接待费预算为50.00万元。"
    e = _engine(monkeypatch, source, BUDGETQA_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
                BUDGETQA_LLM_MODEL="stub-model")
    a = e.ask(Q)
    assert "50.00" not in a.answer and "5.00万元" in a.answer and NOTE_UNVERIFIED in a.notes and state.requests


def test_streaming_through_sse(monkeypatch: pytest.MonkeyPatch, source: MemorySource,
                               stub: tuple[Stub, int]) -> None:
    state, port = stub
    e = _engine(monkeypatch, source, BUDGETQA_OLLAMA_URL=f"http://127.0.0.1:{port}", BUDGETQA_LLM_MODEL="qwen")
    parts = list(e.ask_stream(Q))
    chunks, final = [p for p in parts if isinstance(p, str)], parts[-1]
    assert state.requests[0]["stream"] is True  # Ollama's OpenAI-compatible /v1, streamed
    assert len(chunks) > 1 and "".join(chunks) == RIGHT
    assert isinstance(final, Answer) and final.answer.startswith(RIGHT) and final.verified


def test_an_http_error_gives_the_deterministic_answer(monkeypatch: pytest.MonkeyPatch, source: MemorySource,
                                                      stub: tuple[Stub, int]) -> None:
    state, port = stub
    state.status = 500
    e = _engine(monkeypatch, source, BUDGETQA_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
                BUDGETQA_LLM_MODEL="stub-model")
    a = e.ask(Q)
    assert a.status == "answered" and "5.00万元" in a.answer and NOTE_UNAVAILABLE in a.notes
    assert len(state.requests) == 1  # max_retries=0: one try, then the deterministic answer


def test_a_closed_port_gives_the_deterministic_answer(monkeypatch: pytest.MonkeyPatch, source: MemorySource) -> None:
    e = _engine(monkeypatch, source, BUDGETQA_LLM_BASE_URL=f"http://127.0.0.1:{_free_port()}/v1",
                BUDGETQA_LLM_MODEL="stub-model", BUDGETQA_LLM_TIMEOUT="5")
    a = e.ask(Q)
    assert a.status == "answered" and "5.00万元" in a.answer and NOTE_UNAVAILABLE in a.notes
    final = list(e.ask_stream(Q))[-1]
    assert isinstance(final, Answer) and "5.00万元" in final.answer and NOTE_UNAVAILABLE in final.notes


def test_a_hanging_endpoint_times_out_to_the_deterministic_answer(monkeypatch: pytest.MonkeyPatch,
                                                                  source: MemorySource,
                                                                  stub: tuple[Stub, int]) -> None:
    state, port = stub
    state.hang = True
    e = _engine(monkeypatch, source, BUDGETQA_LLM_BASE_URL=f"http://127.0.0.1:{port}/v1",
                BUDGETQA_LLM_MODEL="stub-model", BUDGETQA_LLM_TIMEOUT="1")
    a = e.ask(Q)
    assert "5.00万元" in a.answer and NOTE_UNAVAILABLE in a.notes
