"""The call log's storage: one interface, two databases (SQLite embedded, PostgreSQL shared).

Everything here blocks: the server calls it from the recorder's writer thread and from a small
pool of reader threads, never from the event loop. Each thread keeps its own connection.
SQL is written once with ``?`` placeholders; the dialects differ only in connecting, JSON
columns and full-text search.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assist.calllog.retention_tables import RetentionTables
from assist.errors import AssistError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
Row = dict[str, Any]

CALL_COLUMNS = (
    "id, node_id, platform, platform_call_id, caller_number, agent_id, language, caller, started_at, "
    "ended_at, duration_s, status, end_reason, transferred_from, qa_score, qa, summary"
)
UTTERANCE_COLUMNS = (
    "speaker, utterance_id, start_s, end_s, emitted_s, text, words, confidence, language, latency, redactions, revision"
)
# A revised final replaces the stored one; a repeat of the same revision (a retried batch) does nothing.
_REVISED_COLUMNS = (
    "start_s",
    "end_s",
    "text",
    "words",
    "confidence",
    "latency",
    "redactions",
    "revision",
    "search_text",
)
JSON_FIELDS = frozenset(
    {"caller", "qa", "summary", "words", "latency", "redactions", "payload", "proposed", "saved", "reasons"}
)
_CJK = re.compile(r"([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af])")


class StoreError(AssistError):
    """The call log could not be read or written (database unreachable, disk full, ...)."""


def search_text(text: str) -> str:
    """What full-text search indexes: CJK characters spaced apart (no word breaks there)."""
    return _CJK.sub(r" \1 ", text)


@dataclass(frozen=True, slots=True)
class CallQuery:
    """Filters for listing calls; every field narrows the result (AND)."""

    since: float | None = None  # started_at >= since (epoch s)
    until: float | None = None  # started_at < until
    agent_id: str | None = None
    intent: str | None = None
    signal: str | None = None  # signal kind, e.g. "churn"
    offer: str | None = None
    status: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    text: str | None = None  # full-text search over utterances
    platform_call_id: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass
class CallPage:
    calls: list[Row]
    total: int
    hits: dict[str, list[Row]] = field(default_factory=dict)  # call id -> matching utterances


class CallStore(RetentionTables, ABC):
    """The call log. Writes are idempotent where a retry may repeat them (upserts)."""

    dialect: str

    def __init__(self) -> None:
        self._local = threading.local()
        self._connections: list[Any] = []
        self._connections_lock = threading.Lock()

    # -- dialect hooks ---------------------------------------------------------------------------

    @abstractmethod
    def _connect(self) -> Any: ...

    @abstractmethod
    def migrate(self) -> None:
        """Bring the schema up to date (yoyo-migrations; idempotent, safe with several nodes)."""

    def _apply_migrations(self, yoyo_url: str, where: str) -> None:
        """The SQL files of this dialect's folder, applied under yoyo's lock."""
        from yoyo import get_backend, read_migrations

        try:
            backend = get_backend(yoyo_url)
            with backend.lock():
                backend.apply_migrations(backend.to_apply(read_migrations(str(MIGRATIONS / self.dialect))))
            backend.connection.close()
        except Exception as error:
            raise StoreError(f"cannot migrate the call log {where}: {error}") from error

    @abstractmethod
    def _json(self, value: Any) -> Any:
        """A Python value as this dialect's JSON column parameter."""

    @abstractmethod
    def _text_match(self, query: str) -> tuple[str, list[Any]]:
        """SQL condition (on ``u``, the utterances table) and parameters for a full-text query."""

    def _sql(self, sql: str) -> str:
        return sql

    # -- connections ---------------------------------------------------------------------------

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def _reset_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            with suppress(Exception):  # already broken: nothing to save
                conn.close()

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A transaction on this thread's connection; a broken connection is dropped for the next try."""
        conn = self._connection()
        try:
            with self._transaction(conn):
                yield conn.cursor()
        except Exception as error:
            if self._is_disconnect(error):
                self._reset_connection()
            raise StoreError(f"call log ({self.dialect}): {type(error).__name__}: {error}") from error

    def _is_disconnect(self, error: Exception) -> bool:
        return False

    def _transaction(self, conn: Any) -> Any:
        """A context manager that commits on success and rolls back on error."""
        return conn  # sqlite3: the connection itself

    def _rows(self, cursor: Any) -> list[Row]:
        names = [d[0] for d in cursor.description]
        rows = []
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            for key in JSON_FIELDS & row.keys():
                if isinstance(row[key], str):
                    row[key] = json.loads(row[key])
            rows.append(row)
        return rows

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._tx() as cur:
            cur.execute(self._sql(sql), list(params))
            return self._rows(cur)

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                with suppress(Exception):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- writes ----------------------------------------------------------------------------------

    def start_call(self, call: Row) -> None:
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO calls (id, node_id, platform, platform_call_id, caller_number, agent_id, language,"
                    " caller, started_at, status, transferred_from) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'live', ?)"
                    " ON CONFLICT (id) DO NOTHING"
                ),
                [
                    call["id"],
                    call["node_id"],
                    call["platform"],
                    call["platform_call_id"],
                    call.get("caller_number"),
                    call["agent_id"],
                    call["language"],
                    self._json(call.get("caller") or {}),
                    call["started_at"],
                    call.get("transferred_from"),
                ],
            )

    def append(
        self,
        call_id: str,
        *,
        events: Sequence[tuple[int, Row]] = (),
        utterances: Sequence[Row] = (),
        feedback: Sequence[Row] = (),
    ) -> None:
        """One transaction of a call's new rows. Repeats are ignored (events by seq, utterances by
        speaker + utterance id unless the row is a later revision), so a batch retried after a
        failure is harmless."""
        with self._tx() as cur:
            if utterances:
                cur.executemany(
                    self._sql(
                        f"INSERT INTO utterances (call_id, {UTTERANCE_COLUMNS}, search_text)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        " ON CONFLICT (call_id, speaker, utterance_id) DO UPDATE SET "
                        + ", ".join(f"{c} = excluded.{c}" for c in _REVISED_COLUMNS)
                        + " WHERE excluded.revision > utterances.revision"
                    ),
                    [self._utterance_params(call_id, u) for u in utterances],
                )
            if events:
                cur.executemany(
                    self._sql(
                        "INSERT INTO events (call_id, seq, type, emitted_s, payload) VALUES (?, ?, ?, ?, ?)"
                        " ON CONFLICT (call_id, seq) DO NOTHING"
                    ),
                    [
                        [call_id, seq, str(m.get("type")), float(m.get("emitted_s") or 0.0), self._json(m)]
                        for seq, m in events
                    ],
                )
            if feedback:
                cur.executemany(
                    self._sql("INSERT INTO feedback (call_id, card_id, action, source, at) VALUES (?, ?, ?, ?, ?)"),
                    [[call_id, f["card_id"], f["action"], f["source"], f["at"]] for f in feedback],
                )

    def _utterance_params(self, call_id: str, utterance: Row) -> list[Any]:
        return [
            call_id,
            utterance["speaker"],
            utterance["utterance_id"],
            utterance["start_s"],
            utterance["end_s"],
            utterance["emitted_s"],
            utterance["text"],
            self._json(utterance.get("words") or []),
            utterance.get("confidence"),
            utterance.get("language"),
            self._json(utterance.get("latency") or {}),
            self._json(utterance.get("redactions") or []),
            int(utterance.get("revision") or 0),
            search_text(utterance["text"]),
        ]

    def finish_call(
        self,
        call_id: str,
        *,
        status: str,
        end_reason: str | None,
        ended_at: float,
        duration_s: float | None,
        tags: Sequence[tuple[str, str]] = (),
        qa: Row | None = None,
        summary: Row | None = None,
    ) -> None:
        qa_score = qa.get("score") if qa else None
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "UPDATE calls SET status = ?, end_reason = ?, ended_at = ?, duration_s = ?, qa = ?, qa_score = ?,"
                    " summary = ? WHERE id = ?"
                ),
                [
                    status,
                    end_reason,
                    ended_at,
                    duration_s,
                    self._json(qa) if qa is not None else None,
                    qa_score,
                    self._json(summary) if summary is not None else None,
                    call_id,
                ],
            )
            if tags:
                cur.executemany(
                    self._sql("INSERT INTO call_tags (call_id, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
                    [[call_id, kind, value] for kind, value in sorted(set(tags))],
                )

    def save_wrapup(self, call_id: str, agent_id: str, proposed: Row, saved: Row, saved_at: float) -> None:
        """The agent's after-call work (saving again replaces it), with what was proposed."""
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO wrapups (call_id, agent_id, proposed, saved, saved_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (call_id) DO UPDATE SET agent_id = excluded.agent_id, proposed = excluded.proposed, "
                    "saved = excluded.saved, saved_at = excluded.saved_at"
                ),
                [call_id, agent_id, self._json(proposed), self._json(saved), saved_at],
            )

    def wrapup(self, call_id: str) -> Row | None:
        rows = self._query("SELECT agent_id, proposed, saved, saved_at FROM wrapups WHERE call_id = ?", [call_id])
        return rows[0] if rows else None

    def link_transfer(self, call_id: str, earlier_call_id: str) -> None:
        with self._tx() as cur:
            cur.execute(self._sql("UPDATE calls SET transferred_from = ? WHERE id = ?"), [earlier_call_id, call_id])

    def reassign(self, call_id: str, agent_id: str) -> None:
        with self._tx() as cur:
            cur.execute(self._sql("UPDATE calls SET agent_id = ? WHERE id = ?"), [agent_id, call_id])

    def open_calls(self, node_id: str) -> list[Row]:
        """Calls this node left open: after a crash they are finished as 'interrupted'."""
        return self._query(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE status = 'live' AND node_id = ? ORDER BY started_at", [node_id]
        )

    def delete_call(self, call_id: str) -> bool:
        with self._tx() as cur:
            cur.execute(self._sql("DELETE FROM calls WHERE id = ?"), [call_id])
            return bool(cur.rowcount)

    def delete_before(self, before: float) -> int:
        """Retention: drop every finished call that started before ``before`` (epoch s)."""
        with self._tx() as cur:
            cur.execute(self._sql("DELETE FROM calls WHERE started_at < ? AND status != 'live'"), [before])
            return int(cur.rowcount)

    # -- reads -----------------------------------------------------------------------------------

    def get_call(self, call_id: str) -> Row | None:
        rows = self._query(f"SELECT {CALL_COLUMNS} FROM calls WHERE id = ?", [call_id])
        if not rows:
            return None
        call = rows[0]
        call["utterances"] = self.utterances(call_id)
        events = self.events(call_id)
        call["guidance"] = [e for e in events if e.get("type") in ("suggestion", "offer", "signal")]
        call["feedback"] = self._query(
            "SELECT card_id, action, source, at FROM feedback WHERE call_id = ? ORDER BY at, id", [call_id]
        )
        call["tags"] = self.tags(call_id)
        call["wrapup"] = self.wrapup(call_id)
        return call

    def utterances(self, call_id: str) -> list[Row]:
        return self._query(
            f"SELECT {UTTERANCE_COLUMNS} FROM utterances WHERE call_id = ? ORDER BY start_s, speaker", [call_id]
        )

    def events(self, call_id: str) -> list[Row]:
        rows = self._query("SELECT payload FROM events WHERE call_id = ? ORDER BY seq", [call_id])
        return [row["payload"] for row in rows]

    def tags(self, call_id: str) -> dict[str, list[str]]:
        return self.tags_for([call_id]).get(call_id, {})

    def tags_for(self, call_ids: Sequence[str]) -> dict[str, dict[str, list[str]]]:
        if not call_ids:
            return {}
        marks = ", ".join("?" for _ in call_ids)
        rows = self._query(
            f"SELECT call_id, kind, value FROM call_tags WHERE call_id IN ({marks}) ORDER BY kind, value",
            list(call_ids),
        )
        tags: dict[str, dict[str, list[str]]] = {}
        for row in rows:
            tags.setdefault(row["call_id"], {}).setdefault(row["kind"], []).append(row["value"])
        return tags

    def find_by_platform_id(self, platform_call_id: str) -> list[Row]:
        return self._query(
            f"SELECT {CALL_COLUMNS} FROM calls WHERE platform_call_id = ? ORDER BY started_at", [platform_call_id]
        )

    def recent_calls(self, *, platform_call_id: str, caller_number: str | None, since: float) -> list[Row]:
        """Earlier legs of the same conversation (a transfer), newest first."""
        sql = f"SELECT {CALL_COLUMNS} FROM calls WHERE started_at >= ? AND (platform_call_id = ?"
        params: list[Any] = [since, platform_call_id]
        if caller_number:
            sql += " OR caller_number = ?"
            params.append(caller_number)
        return self._query(sql + ") ORDER BY started_at DESC LIMIT 5", params)

    def list_calls(self, query: CallQuery) -> CallPage:
        where, params = self._where(query)
        total = self._query(f"SELECT COUNT(*) AS n FROM calls c WHERE {where}", params)[0]["n"]
        rows = self._query(
            f"SELECT {', '.join('c.' + c.strip() for c in CALL_COLUMNS.split(','))} FROM calls c WHERE {where}"
            " ORDER BY c.started_at DESC, c.id LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        page = CallPage(calls=rows, total=int(total))
        if query.text and rows:
            page.hits = self._hits(query.text, [r["id"] for r in rows])
        return page

    def _where(self, query: CallQuery) -> tuple[str, list[Any]]:
        clauses, params = ["1 = 1"], []
        simple = (
            ("c.started_at >= ?", query.since),
            ("c.started_at < ?", query.until),
            ("c.agent_id = ?", query.agent_id),
            ("c.status = ?", query.status),
            ("c.qa_score >= ?", query.min_score),
            ("c.qa_score <= ?", query.max_score),
            ("c.platform_call_id = ?", query.platform_call_id),
        )
        for clause, value in simple:
            if value is not None:
                clauses.append(clause)
                params.append(value)
        for kind, value in (("intent", query.intent), ("signal", query.signal), ("offer", query.offer)):
            if value is not None:
                clauses.append(
                    "EXISTS (SELECT 1 FROM call_tags t WHERE t.call_id = c.id AND t.kind = ? AND t.value = ?)"
                )
                params += [kind, value]
        if query.text:
            match, match_params = self._text_match(query.text)
            clauses.append(f"EXISTS (SELECT 1 FROM utterances u WHERE u.call_id = c.id AND {match})")
            params += match_params
        return " AND ".join(clauses), params

    def _hits(self, text: str, call_ids: list[str]) -> dict[str, list[Row]]:
        match, params = self._text_match(text)
        marks = ", ".join("?" for _ in call_ids)
        rows = self._query(
            f"SELECT u.call_id, u.speaker, u.utterance_id, u.start_s, u.end_s, u.text FROM utterances u"
            f" WHERE u.call_id IN ({marks}) AND {match} ORDER BY u.call_id, u.start_s",
            [*call_ids, *params],
        )
        hits: dict[str, list[Row]] = {}
        for row in rows:
            hits.setdefault(row.pop("call_id"), []).append(row)
        return hits

    def search_utterances(self, text: str, limit: int = 50) -> list[Row]:
        """Utterances matching a full-text query, newest calls first (QA search, the benchmark)."""
        match, params = self._text_match(text)
        return self._query(
            "SELECT u.call_id, u.speaker, u.utterance_id, u.start_s, u.text FROM utterances u"
            f" JOIN calls c ON c.id = u.call_id WHERE {match} ORDER BY c.started_at DESC, u.start_s LIMIT ?",
            [*params, limit],
        )

    def qa_results(self, *, since: float | None = None, until: float | None = None) -> list[tuple[str, Row]]:
        """(agent id, QA result) of every finished, scored call in the time range."""
        where, params = self._where(CallQuery(since=since, until=until))
        rows = self._query(f"SELECT c.agent_id, c.qa FROM calls c WHERE {where} AND c.status != 'live'", params)
        return [(row["agent_id"], row["qa"]) for row in rows if row["qa"]]

    def count_utterances(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM utterances")[0]["n"])


def terms(query: str) -> list[str]:
    """A search box's words and "quoted phrases", as the terms every match must contain."""
    found = re.findall(r'"([^"]+)"|(\S+)', search_text(query))
    out = []
    for phrase, word in found:
        value = (phrase or word).strip()
        value = re.sub(r"[^\w\s*'-]", " ", value).strip()
        if value:
            out.append(value)
    return out


def open_store(database_url: str | None, data_dir: Path) -> CallStore:
    """SQLite under ``data_dir`` unless ``database_url`` names PostgreSQL; migrated and ready."""
    store: CallStore
    if database_url and database_url.startswith(("postgresql://", "postgres://")):
        from assist.calllog.postgres import PostgresStore

        store = PostgresStore(database_url)
    elif database_url and not database_url.startswith("sqlite:///"):
        raise StoreError(
            f"unsupported database URL {database_url.split(':', 1)[0]}://...: use postgresql:// or sqlite:///"
        )
    else:
        from assist.calllog.sqlite import SqliteStore

        path = Path(database_url[len("sqlite:///") :]) if database_url else data_dir / "calls.db"
        store = SqliteStore(path)
    store.migrate()
    return store
