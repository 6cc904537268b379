"""The vector store behind a `chroma run` server (BUDGETQA_CHROMA_URL), as CI starts one.

Runs when BUDGETQA_TEST_CHROMA_URL is set (e.g. http://127.0.0.1:8765). Without it the test is
skipped, unless BUDGETQA_REQUIRE_CHROMA_SERVER=1, where a missing server is a failure (CI sets it).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from budgetqa.answer.retrieve import HybridRetriever
from budgetqa.config import Settings
from budgetqa.index.store.database import FactStore
from budgetqa.index.store.ingest import index_paths
from budgetqa.index.store.vectors import VectorIndex, embedded

pytestmark = pytest.mark.chroma_server


def _server_url() -> str:
    url = os.environ.get("BUDGETQA_TEST_CHROMA_URL", "").strip()
    if url:
        return url
    if os.environ.get("BUDGETQA_REQUIRE_CHROMA_SERVER", "").strip() == "1":
        pytest.fail("BUDGETQA_REQUIRE_CHROMA_SERVER=1 but BUDGETQA_TEST_CHROMA_URL is not set: start "
                    "`chroma run --host 127.0.0.1 --port 8765 --path <dir>` and export "
                    "BUDGETQA_TEST_CHROMA_URL=http://127.0.0.1:8765")
    pytest.skip("no chroma server (set BUDGETQA_TEST_CHROMA_URL to run)")


def test_index_and_search_through_a_chroma_server(tmp_path: Path, seed_paths: list[Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    url = _server_url()
    # each run its own collection name space: a reused server must not see earlier runs' vectors
    run = uuid.uuid4().hex[:12]
    monkeypatch.setattr("budgetqa.index.store.vectors.collection_name",
                        lambda embedding: f"test-{run}-{embedding}"[:60])
    settings = Settings(home=tmp_path / "home", chroma_url=url)
    try:
        report = index_paths(seed_paths[:2], settings, progress=False)
    except Exception as exc:  # noqa: BLE001 - name the server in the failure
        pytest.fail(f"chroma server at {url} not usable: {type(exc).__name__}: {exc}")
    assert (report.indexed, report.failed) == (2, ())
    assert not settings.chroma_path.exists()  # nothing embedded locally

    store = FactStore(settings.store_path)
    vectors = VectorIndex(settings)
    assert vectors.count() == len(embedded(store.chunks()))
    assert type(vectors.client).__name__ != "PersistentClient"

    retriever = HybridRetriever(settings, store)
    assert retriever.dense_enabled
    hits = retriever.search("福州市医疗保障局 公务接待费", k=3, unit="福州市医疗保障局")
    assert any(h.metadata["row"].endswith("公务接待费") for h in hits)
    assert any(h.dense_rank is not None for h in retriever.search("公务接待费", k=8, chunk_type="text"))

    again = index_paths(seed_paths[:2], settings, progress=False)
    assert (again.indexed, again.unchanged) == (0, 2)
    vectors.client.delete_collection(vectors.collection.name)
