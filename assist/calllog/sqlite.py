"""The embedded call log: one SQLite file in WAL mode with an FTS5 index over utterances."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from assist.calllog.store import CallStore, StoreError, terms


class SqliteStore(CallStore):
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreError(f"cannot create {self.path.parent}: {error}") from error

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False)
        # WAL: readers never block the writer. synchronous=NORMAL: a committed final survives the
        # process being killed (what matters here); only a power cut may lose the last commits.
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 10000")
        return conn

    def migrate(self) -> None:
        self._apply_migrations(f"sqlite:///{self.path}", f"at {self.path}")
        self._connection()  # switches the file to WAL now, not on the first call

    def _json(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def _text_match(self, query: str) -> tuple[str, list[Any]]:
        words = terms(query)
        if not words:
            return "0 = 1", []
        # Each term quoted (FTS5 syntax characters in a search box must not break the query);
        # a trailing * keeps its meaning as a prefix search.
        parts = []
        for word in words:
            prefix = word.endswith("*")
            quoted = '"' + word.rstrip("*").replace('"', "") + '"'
            parts.append(quoted + ("*" if prefix else ""))
        return "u.id IN (SELECT rowid FROM utterances_fts WHERE utterances_fts MATCH ?)", [" AND ".join(parts)]
