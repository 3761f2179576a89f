"""The shared call log: PostgreSQL through psycopg 3, full-text search on a GIN-indexed tsvector."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from assist.calllog.store import CallStore, StoreError, terms

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 10_000


class PostgresStore(CallStore):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(
                self.url,
                connect_timeout=CONNECT_TIMEOUT_S,
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                application_name="assist",
                autocommit=True,  # transactions are explicit (conn.transaction()); reads never idle in one
            )
        except psycopg.Error as error:
            raise StoreError(f"cannot reach PostgreSQL: {error}") from error

    def _is_disconnect(self, error: Exception) -> bool:
        conn = getattr(self._local, "conn", None)
        return isinstance(error, psycopg.OperationalError) or (conn is not None and conn.closed)

    def _transaction(self, conn: Any) -> Any:
        return conn.transaction()

    def migrate(self) -> None:
        driver = "postgresql+psycopg://"  # yoyo's name for psycopg 3
        url = driver + self.url.split("://", 1)[1]
        self._apply_migrations(url, "on PostgreSQL")

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    def _json(self, value: Any) -> Jsonb:
        return Jsonb(value)

    def _text_match(self, query: str) -> tuple[str, list[Any]]:
        words = terms(query)
        if not words:
            return "FALSE", []
        # Every term must match; a quoted phrase keeps its word order (<->), a trailing * is a prefix.
        parts = []
        for word in words:
            tokens = [t for t in word.replace("'", " ").split() if t.strip("*")]
            parts.append(
                " <-> ".join(f"'{t.rstrip('*')}':*" if t.endswith("*") else f"'{t}'" for t in tokens) if tokens else ""
            )
        expression = " & ".join(f"({p})" for p in parts if p)
        if not expression:
            return "FALSE", []
        return "u.search @@ to_tsquery('english', ?)", [expression]
