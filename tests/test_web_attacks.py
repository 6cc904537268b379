"""The web page under attack and accident (issue 14, cases 1, 4 and 6): a stranger's upload must not
change another user's figures, a CLI `budgetqa index` is seen without a restart, and uploads are
neither kept nor served by URL."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path
from typing import Any

import pytest
from budgetqa.app.pipeline import Engine
from budgetqa.app.uploads import PRIVATE_PREFIX, Visitor, sweep_abandoned
from budgetqa.app.web import Handlers
from budgetqa.config import Settings
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.ingest import ensure_index, index_paths

from tests.fixtures_docs import MINQING_BUDGET

SEED = "001_99a0e79d6e43ffbd.txt"  # 福州市医疗保障局 2024: 公务接待费 5.00 万元
QUESTION = "福州市医疗保障局的公务接待费是多少"
TOKEN = "a-long-operator-token"


@pytest.fixture()
def home(tmp_path: Path, seed_paths: list[Path]) -> Settings:
    settings = Settings(home=tmp_path / "home", dense=False, upload_token=TOKEN)
    ensure_index(settings)
    return settings


def _forged(tmp_path: Path, seed_paths: list[Path], name: str = SEED) -> str:
    """The real document with 公务接待费 5.00 rewritten to 500.00, uploaded under the real file's name."""
    text = next(p for p in seed_paths if p.name == SEED).read_text(encoding="utf-8")
    forged = text.replace("2、公务接待费\t5.00", "2、公务接待费\t500.00")
    assert forged != text
    folder = tmp_path / "gradio-incoming" / "abc123"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(forged, encoding="utf-8")
    return str(folder / name)


def _answer(h: Handlers, visitor: Visitor | None = None, question: str = QUESTION) -> str:
    steps = list(h.ask(question, [], (), None, None, visitor))
    return str(steps[-1][0][-1]["content"])


def test_a_same_name_upload_never_changes_another_users_answer(home: Settings, tmp_path: Path,
                                                               seed_paths: list[Path]) -> None:
    h = Handlers(Engine(home), home)
    sha_before = FactStore(home.store_path).sha_of(SEED)
    assert "5.00万元" in _answer(h)

    message, *_, attacker = h.upload([_forged(tmp_path, seed_paths)], None, None)

    assert "只加入您本次会话" in message
    assert FactStore(home.store_path).sha_of(SEED) == sha_before  # the shared corpus is untouched
    victim = _answer(h, None)  # another visitor (no uploads of their own)
    assert "5.00万元" in victim and "500.00" not in victim
    fresh = _answer(h, Visitor())
    assert "5.00万元" in fresh and "500.00" not in fresh
    # the uploader sees their own file, marked as theirs, beside the shared one
    assert any(d.name == PRIVATE_PREFIX + SEED for d in h.documents(attacker))
    assert all(not d.name.startswith(PRIVATE_PREFIX) for d in h.documents(None))


def test_a_wrong_token_or_no_operator_option_keeps_the_upload_private(home: Settings, tmp_path: Path,
                                                                      seed_paths: list[Path]) -> None:
    closed = Handlers(Engine(home), home, shared_uploads=False)
    message = closed.upload([_forged(tmp_path, seed_paths)], None, None, None, TOKEN)[0]
    assert "只加入您自己的会话" in message
    open_ = Handlers(Engine(home), home, shared_uploads=True)
    message = open_.upload([_forged(tmp_path, seed_paths)], None, None, None, "guess")[0]
    assert "口令不正确" in message
    assert "5.00万元" in _answer(open_)
    assert not home.documents_path.exists()


def test_a_trusted_uploader_changes_the_shared_corpus(home: Settings, tmp_path: Path) -> None:
    h = Handlers(Engine(home), home, shared_uploads=True)
    folder = tmp_path / "gradio-incoming" / "x1"
    folder.mkdir(parents=True)
    (folder / "minqing_2025.md").write_text(MINQING_BUDGET, encoding="utf-8")
    message = h.upload([str(folder / "minqing_2025.md")], None, None, None, TOKEN)[0]
    assert "已加入索引：minqing_2025.md" in message and "只加入您本次会话" not in message
    assert (home.documents_path / "minqing_2025.md").exists()
    assert "3.20万元" in _answer(h, None, "闽清县档案馆的公务接待费是多少")  # everyone sees it


def test_serve_sees_a_cli_index_without_restarting(home: Settings, tmp_path: Path) -> None:
    h = Handlers(Engine(home), home)
    question = "闽清县档案馆的公务接待费是多少"
    assert "3.20" not in _answer(h, None, question)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "minqing_2025.md").write_text(MINQING_BUDGET, encoding="utf-8")
    index_paths([docs], home, progress=False)  # what `budgetqa index docs` does from a shell
    assert "3.20万元" in _answer(h, None, question)
    visitor = h.upload([_forged(tmp_path, [Path(__file__).parent.parent / "index" / "corpus" / SEED])],
                       None, None)[-1]
    assert "3.20万元" in _answer(h, visitor, question)  # a visitor's own engine sees it too


def test_abandoned_uploads_are_swept(home: Settings) -> None:
    from budgetqa.app.uploads import incoming_path

    stale = incoming_path(home) / "deadbeef" / "left.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("x", encoding="utf-8")
    assert sweep_abandoned(home, older_than=0) == 1 and not stale.exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_uploads_are_never_served_back_by_url_and_crash_leftovers_are_cleaned(
        home: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx
    from budgetqa.app.web import launch

    leftover = home.uploads_path / "work" / "crashed" / "half.pdf"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"%PDF-1.4 half written")
    monkeypatch.delenv("GRADIO_TEMP_DIR", raising=False)
    port = _free_port()
    app: Any = launch(home, port=port, block=False)
    try:
        assert not leftover.exists()  # cleaned at start
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(timeout=30) as client:
            assert client.get(base + "/").status_code == 200
            up = client.post(base + "/gradio_api/upload", files={"files": ("secret.txt", b"my private budget")})
            assert up.status_code == 200, up.text
            path = up.json()[0]
            assert Path(path).is_relative_to(home.uploads_path / "incoming")  # stored under BUDGETQA_HOME
            served = client.get(f"{base}/gradio_api/file={path}")
            assert served.status_code == 403 and b"my private budget" not in served.content
            assert client.get(f"{base}/gradio_api/file={home.store_path}").status_code == 403
    finally:
        app.close()
    shutil.rmtree(home.uploads_path, ignore_errors=True)
