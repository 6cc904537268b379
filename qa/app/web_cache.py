"""What the chat page keeps between questions: checked answers, cited tables, the index's generation.

A crowd asks the same things ("招待费是多少"); a checked answer and its bubble are kept until the index
changes, and a question already being answered is waited for rather than answered twice. Knowing
whether the index changed must cost a question almost nothing: the store's files are looked at
(`os.stat`), and the store itself is opened only when they changed.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

V = TypeVar("V")
Signature = tuple[tuple[int, int, int] | None, ...]


class AnswerCache(Generic[V]):
    """A bounded LRU map with single flight: `claim` tells one caller to compute a key and makes the
    others wait for it (up to `wait` seconds, then they compute it themselves)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def peek(self, key: Hashable) -> V | None:
        """The kept value, never waiting (safe on the event loop)."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def claim(self, key: Hashable, wait: float = 30.0) -> tuple[V | None, bool]:
        """(kept value, None when absent; whether this caller computes it and must `release` the key)."""
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit, False
            pending = self._pending.get(key)
            if pending is None:
                self._pending[key] = threading.Event()
                return None, True
        pending.wait(wait)
        return self.peek(key), False  # None when the other caller failed: compute it, unclaimed

    def release(self, key: Hashable) -> None:
        with self._lock:
            pending = self._pending.pop(key, None)
        if pending is not None:
            pending.set()

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class StoreWatch:
    """The fact store's generation, read from the store only when its files changed on disk.

    SQLite in WAL mode writes every commit to `<db>-wal` (and a checkpoint to the database file), so
    (inode, mtime, size) of the two files changes with every write `budgetqa index` makes. A store in
    a database server (`path` None: BUDGETQA_DATABASE_URL) has no file here that changes, and its
    indexer may run on another machine: its generation row is read at every check (one indexed
    single-row query over a pooled connection)."""

    def __init__(self, path: Path | None, read: Callable[[], int]) -> None:
        self.paths = () if path is None else (Path(path), Path(f"{path}-wal"))
        self._read = read
        self._signature: Signature | None = None
        self._generation = -1
        self._lock = threading.Lock()

    def generation(self) -> int:
        if not self.paths:
            generation = self._read()
            with self._lock:
                self._generation = generation
                return generation
        seen = self.signature()
        with self._lock:
            if seen != self._signature:
                # the signature from before the read: a write during it is seen on the next question
                self._generation, self._signature = self._read(), seen
            return self._generation

    def signature(self) -> Signature:
        return tuple(_stat(p) for p in self.paths)


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
