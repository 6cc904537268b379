"""Shared fixtures: every test runs offline against a throwaway BUDGETQA_HOME.

- `_isolated_home` (autouse): BUDGETQA_HOME -> tmp dir, offline/telemetry env vars set.
- `_no_network` (autouse): refuses any socket connection that is not loopback/unix, so a test that
  would download a model or phone home fails loudly instead of hanging.
- `_fake_embeddings_by_default` (autouse): the deterministic FakeEmbeddings replace the model, so
  no test pays for loading it by accident; mark a test `@pytest.mark.real_embeddings` to get the
  packaged model.
- `seed_paths`: the 5 bundled seed documents.
- `tiny_doc` / `tiny_facts`: a two-table hand-made Document and its facts (no parser involved).
- `backend`: each store backend in turn (SQLite under the home; PostgreSQL in a schema of its own
  when BUDGETQA_TEST_DATABASE_URL is set, skipped without it unless BUDGETQA_REQUIRE_POSTGRES=1,
  where a missing server fails the test).
- `indexed_home` (session): a home indexed once over the seeds (BM25 + fact store, fake embeddings,
  no Engine). Use `indexed_settings` to get Settings pointing at it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from budgetqa.config import OFFLINE_ENV, Settings, load_settings
from budgetqa.index.model import Document, Fact, Row, Section, Table

from tests.paths import SHARED

CORPUS = Path(__file__).resolve().parent.parent / "index" / "corpus"

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
    for key in ("BUDGETQA_CHROMA_URL", "BUDGETQA_DATABASE_URL", "BUDGETQA_LLM_BASE_URL", "BUDGETQA_LLM_MODEL",
                "BUDGETQA_LLM_API_KEY", "BUDGETQA_OLLAMA_URL"):
        monkeypatch.delenv(key, raising=False)
    return home


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_embeddings: use the packaged sentence-transformers model")


@pytest.fixture(autouse=True)
def _fake_embeddings_by_default(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("real_embeddings"):
        yield
        return
    from budgetqa.index.store.embeddings import use_fake_embeddings

    with use_fake_embeddings():
        yield


@pytest.fixture(scope="session")
def seed_paths() -> list[Path]:
    paths = sorted(CORPUS.glob("*.txt"))
    assert len(paths) == 5, f"expected the 5 bundled seeds in {CORPUS}"
    return paths


@dataclass(frozen=True)
class Backend:
    """A store backend for one test: SQLite under `home`, or PostgreSQL at `database_url`."""

    name: str
    home: Path
    database_url: str = ""

    def settings(self, **overrides: Any) -> Settings:
        return Settings(home=self.home, database_url=self.database_url, **overrides)

    def open(self) -> Any:
        from budgetqa.index.store.ingest import open_store

        return open_store(self.settings())

    def execute(self, sql: str) -> None:
        """Run a statement against the store outside the application (to damage it on purpose)."""
        if not self.database_url:
            import sqlite3

            with sqlite3.connect(self.settings().store_path) as conn:
                conn.execute(sql)
            return
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            conn.execute(sql.encode())


def postgres_url() -> str:
    """The test server's URL; a skip without one, a failure when BUDGETQA_REQUIRE_POSTGRES=1."""
    url = os.environ.get("BUDGETQA_TEST_DATABASE_URL", "").strip()
    required = os.environ.get("BUDGETQA_REQUIRE_POSTGRES", "").strip() == "1"
    if not url:
        if required:
            pytest.fail("BUDGETQA_REQUIRE_POSTGRES=1 but BUDGETQA_TEST_DATABASE_URL is not set: start a PostgreSQL "
                        "server and export BUDGETQA_TEST_DATABASE_URL=postgresql://USER@127.0.0.1:PORT/DB")
        pytest.skip("no PostgreSQL server (set BUDGETQA_TEST_DATABASE_URL to run)")
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.Error as exc:
        if required:
            pytest.fail(f"BUDGETQA_REQUIRE_POSTGRES=1 but the server does not answer: {exc}")
        pytest.skip(f"PostgreSQL server not reachable: {exc}")
    return url


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A URL whose tables live in a fresh schema of their own, dropped afterwards: tests never collide."""
    import psycopg
    from psycopg import conninfo

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}".encode())
    try:
        yield conninfo.make_conninfo(url, options=f"-csearch_path={schema}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE".encode())


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, _isolated_home: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", _isolated_home)
        return
    with postgres_schema(postgres_url()) as url:
        monkeypatch.setenv("BUDGETQA_DATABASE_URL", url)  # for subprocesses and load_settings()
        yield Backend("postgres", _isolated_home, url)


@pytest.fixture(scope="session")
def indexed_home(tmp_path_factory: pytest.TempPathFactory, seed_paths: list[Path]) -> Iterator[Path]:
    """A home indexed once over the 5 seeds: fact store + BM25 + chroma with fake embeddings.

    Read-only for tests: copy it (shutil.copytree) before writing. Uses the deterministic fake
    embedding so the session does not load the model; tests that need real embeddings build
    their own index.
    """
    from budgetqa.index.store.embeddings import use_fake_embeddings
    from budgetqa.index.store.ingest import index_paths

    home = tmp_path_factory.mktemp("indexed-home")
    settings = Settings(home=home)
    with use_fake_embeddings():
        report = index_paths(seed_paths, settings, progress=False)
    assert not report.failed, f"seeds failed to index: {report.failed}"
    yield home


@pytest.fixture()
def indexed_settings(indexed_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings over the shared seed index, with fake embeddings active for the test."""
    from budgetqa.index.store.embeddings import use_fake_embeddings

    monkeypatch.setenv("BUDGETQA_HOME", str(indexed_home))
    with use_fake_embeddings():
        yield load_settings(home=indexed_home)


def make_tiny_doc(name: str = "tiny.txt", unit: str = "测试市医疗保障局", year: int = 2024,
                  reception: str = "5.00", sha: str = "0" * 64) -> Document:
    """A small budget Document built by hand: a 三公 table, an economic-class table and prose."""
    sangong = Table(
        title=f"{year}年度一般公共预算“三公”经费支出预算表", section="十、一般公共预算“三公”经费支出预算表",
        measure="万元", columns=("预算数",),
        rows=(Row("1、因公出国（境）费", None, ("0.00",), 3, "1、因公出国（境）费\t0.00"),
              Row("2、公务接待费", None, (reception,), 3, f"2、公务接待费\t{reception}"),
              Row("3、公务用车购置及运行费", None, ("12.00",), 3, "3、公务用车购置及运行费\t12.00")),
        page=3)
    econ = Table(
        title=f"{year}年度一般公共预算基本支出经济分类情况表", section="九、一般公共预算基本支出经济分类情况表",
        measure="万元", columns=("合计", "人员经费", "公用经费"),
        rows=(Row("办公费", "30201", ("180.48", "", "180.48"), 4, "30201\t办公费\t180.48\t\t180.48"),
              Row("差旅费", "30211", ("6.50", "", "6.50"), 4, "30211\t差旅费\t6.50\t\t6.50"),
              Row("公务接待费", "30217", (reception, "", reception), 4, f"30217\t公务接待费\t{reception}")),
        page=4)
    prose = Section(title="（二）公务接待费", level=3, page=5, path=("第三部分", "六、“三公”经费支出情况", "（二）公务接待费"),
                    text=f"{year}年预算安排{reception}万元，与上年预算数持平。主要用于接待上级检查、兄弟单位交流。")
    duties = Section(title="一、部门主要职责", level=2, page=1, path=("第一部分", "一、部门主要职责"),
                     text=f"{unit}的主要职责是：贯彻执行国家和省有关医疗保险、生育保险、医疗救助等医疗保障制度。")
    return Document(name=name, sha256=sha, unit=unit, aliases=(), year=year, kind="预算", subunits=(),
                    sections=(duties, prose), tables=(sangong, econ), pages=5, layout="seed")


def make_tiny_facts(doc: Document) -> list[Fact]:
    facts = []
    for table in doc.tables:
        for row in table.rows:
            for column, cell in zip(table.columns, row.cells, strict=False):
                if cell:
                    facts.append(Fact(doc.name, doc.unit, doc.year, doc.kind, table.section, table.title,
                                      row.label, row.code, column, cell, table.measure, row.page, row.quote))
    return facts


@pytest.fixture()
def tiny_doc() -> Document:
    return make_tiny_doc()


@pytest.fixture()
def tiny_facts(tiny_doc: Document) -> list[Fact]:
    return make_tiny_facts(tiny_doc)


def pytest_sessionstart(session: pytest.Session) -> None:
    # CI sets BUDGETQA_REQUIRE_SHARED=1: a missing ../shared must fail the run, not skip the golden tests
    if os.environ.get("BUDGETQA_REQUIRE_SHARED") == "1" and not (SHARED / "corpus-extra").is_dir():
        pytest.exit(f"../shared not found at {SHARED} (set BUDGETQA_SHARED)", returncode=3)
