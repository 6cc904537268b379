"""Shared fixtures: every test runs offline against a throwaway BUDGETQA_HOME.

- `_isolated_home` (autouse): BUDGETQA_HOME -> tmp dir, offline/telemetry env vars set.
- `_no_network` (autouse): refuses any socket connection that is not loopback/unix, so a test that
  would download a model or phone home fails loudly instead of hanging.
- `seed_paths`: the 5 bundled seed documents.
- `indexed_home` (session): a home indexed once over the seeds (BM25 + fact store, fake embeddings,
  no Engine). Use `indexed_settings` to get Settings pointing at it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from budgetqa.config import OFFLINE_ENV, Settings, load_settings

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"
SHARED = Path("/work/shared")

_LOOPBACK = ("127.0.0.1", "::1", "localhost", "0.0.0.0", "::")
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection


def _allowed(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    if isinstance(address, tuple) and address:
        host = address[0]
        return isinstance(host, str) and (host in _LOOPBACK or host.startswith("127."))
    return False


def _refuse(address: Any) -> None:
    raise RuntimeError(f"tests must run offline: blocked network connection to {address!r}")


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if not _allowed(address):
        _refuse(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> Any:
    if not _allowed(address):
        _refuse(address)
    return _real_connect_ex(self, address)


def _guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    if not _allowed(address):
        _refuse(address)
    return _real_create_connection(address, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "create_connection", _guarded_create_connection)


# Set before any test module imports sentence-transformers, chromadb or gradio.
os.environ.update(OFFLINE_ENV)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "budgetqa-home"
    monkeypatch.setenv("BUDGETQA_HOME", str(home))
    for key, value in OFFLINE_ENV.items():
        monkeypatch.setenv(key, value)
    for key in ("BUDGETQA_CHROMA_URL", "BUDGETQA_LLM_BASE_URL", "BUDGETQA_LLM_MODEL",
                "BUDGETQA_LLM_API_KEY", "BUDGETQA_OLLAMA_URL"):
        monkeypatch.delenv(key, raising=False)
    return home


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(CORPUS.glob("*.txt"))
    assert len(paths) == 5, f"expected the 5 bundled seeds in {CORPUS}"
    return paths


@pytest.fixture(scope="session")
def indexed_home(tmp_path_factory: pytest.TempPathFactory, seed_paths: list[Path]) -> Iterator[Path]:
    """A home indexed once over the 5 seeds: fact store + BM25 + chroma with fake embeddings.

    Read-only for tests: copy it (shutil.copytree) before writing. Uses the deterministic fake
    embedding so the session does not load the model; tests that need real embeddings build
    their own index.
    """
    from budgetqa.embeddings import use_fake_embeddings
    from budgetqa.index.ingest import index_paths

    home = tmp_path_factory.mktemp("indexed-home")
    settings = Settings(home=home)
    with use_fake_embeddings():
        report = index_paths(seed_paths, settings, progress=False)
    assert not report.failed, f"seeds failed to index: {report.failed}"
    yield home


@pytest.fixture()
def indexed_settings(indexed_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings over the shared seed index, with fake embeddings active for the test."""
    from budgetqa.embeddings import use_fake_embeddings

    monkeypatch.setenv("BUDGETQA_HOME", str(indexed_home))
    with use_fake_embeddings():
        yield load_settings(home=indexed_home)
