"""The call log's retention tables: each call's risk, and the worklist of customers at risk with
what the retention team did about them. A mixin of CallStore (same connections and dialects);
the scoring itself is assist/retention/."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

Row = dict[str, Any]
WORKLIST_STATUSES = ("open", "contacted", "retained", "lost", "dismissed")
WorklistStatus = Literal["open", "contacted", "retained", "lost", "dismissed"]
WORKLIST_COLUMNS = (
    "caller_number, name, segment, value, score, priority, at_risk, reasons, last_call_id, last_call_at, calls, "
    "status, note, contacted_at, contacted_by, updated_at"
)


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """Filters of the retention worklist (AND); ranked by priority = risk × value."""

    status: str | None = None  # None: every status
    segment: str | None = None
    min_score: float | None = None
    at_risk_only: bool = True
    since: float | None = None  # last call at or after (epoch s)
    text: str | None = None  # part of the name or the number
    limit: int = 50
    offset: int = 0


class RetentionTables:
    """Uses CallStore's ``_tx``, ``_query``, ``_json`` and ``_sql``."""

    if TYPE_CHECKING:

        def _tx(self) -> AbstractContextManager[Any]: ...
        def _query(self, sql: str, params: Any = ()) -> list[Row]: ...
        def _json(self, value: Any) -> Any: ...
        def _sql(self, sql: str) -> str: ...

    def save_risk(self, call: Row, risk: Row, assessed_at: float) -> None:
        """A finished call's risk; its customer's worklist entry follows the latest call. A new
        call at risk reopens an entry the team had closed before it."""
        number = call.get("caller_number")
        caller = call.get("caller") or {}
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "INSERT INTO risk_assessments (call_id, caller_number, score, value, priority, at_risk, reasons,"
                    " assessed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO UPDATE SET"
                    " score = excluded.score, value = excluded.value, priority = excluded.priority,"
                    " at_risk = excluded.at_risk, reasons = excluded.reasons, assessed_at = excluded.assessed_at"
                ),
                [
                    call["id"],
                    number,
                    risk["score"],
                    risk["value"],
                    risk["priority"],
                    bool(risk["at_risk"]),
                    self._json(risk["reasons"]),
                    assessed_at,
                ],
            )
            if not number:
                return  # nobody to call back
            cur.execute(
                self._sql(
                    "INSERT INTO retention_customers (caller_number, name, segment, value, score, priority, at_risk,"
                    " reasons, last_call_id, last_call_at, calls, status, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 'open', ?) ON CONFLICT (caller_number) DO UPDATE SET"
                    " name = excluded.name, segment = excluded.segment, value = excluded.value,"
                    " score = excluded.score, priority = excluded.priority, at_risk = excluded.at_risk,"
                    " reasons = excluded.reasons, last_call_id = excluded.last_call_id,"
                    " last_call_at = excluded.last_call_at, calls = retention_customers.calls + 1,"
                    " status = CASE WHEN excluded.at_risk AND retention_customers.status <> 'open'"
                    " AND retention_customers.updated_at < excluded.last_call_at THEN 'open'"
                    " ELSE retention_customers.status END,"
                    " updated_at = excluded.updated_at"
                    " WHERE retention_customers.last_call_at <= excluded.last_call_at"
                ),
                [
                    number,
                    caller.get("name"),
                    str(caller.get("segment") or "").lower() or None,
                    risk["value"],
                    risk["score"],
                    risk["priority"],
                    bool(risk["at_risk"]),
                    self._json(risk["reasons"]),
                    call["id"],
                    float(call["started_at"]),
                    assessed_at,
                ],
            )

    def risk(self, call_id: str) -> Row | None:
        rows = self._query(
            "SELECT score, value, priority, at_risk, reasons, assessed_at FROM risk_assessments WHERE call_id = ?",
            [call_id],
        )
        return _booleans(rows[0]) if rows else None

    def caller_history(self, caller_number: str, before: float, limit: int = 50) -> list[Row]:
        """The caller's earlier calls, newest first: id, start, intents, summary, risk."""
        rows = self._query(
            "SELECT c.id, c.started_at, c.duration_s, c.status, c.agent_id, c.summary, r.score AS risk"
            " FROM calls c LEFT JOIN risk_assessments r ON r.call_id = c.id"
            " WHERE c.caller_number = ? AND c.started_at < ? ORDER BY c.started_at DESC LIMIT ?",
            [caller_number, before, limit],
        )
        if rows:
            marks = ", ".join("?" for _ in rows)
            intents: dict[str, list[str]] = {}
            for tag in self._query(
                f"SELECT call_id, value FROM call_tags WHERE kind = 'intent' AND call_id IN ({marks})",
                [r["id"] for r in rows],
            ):
                intents.setdefault(tag["call_id"], []).append(tag["value"])
            for row in rows:
                row["intents"] = sorted(intents.get(row["id"], []))
        return rows

    def worklist(self, query: WorklistQuery) -> tuple[list[Row], int]:
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if query.at_risk_only:
            where.append("at_risk = ?")
            params.append(True)
        for column, value in (("status", query.status), ("segment", query.segment)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.min_score is not None:
            where.append("score >= ?")
            params.append(query.min_score)
        if query.since is not None:
            where.append("last_call_at >= ?")
            params.append(query.since)
        if query.text:
            where.append("(caller_number LIKE ? OR name LIKE ?)")
            params += [f"%{query.text}%"] * 2
        condition = " AND ".join(where)
        total = self._query(f"SELECT COUNT(*) AS n FROM retention_customers WHERE {condition}", params)[0]["n"]
        rows = self._query(
            f"SELECT {WORKLIST_COLUMNS} FROM retention_customers WHERE {condition}"
            " ORDER BY priority DESC, last_call_at DESC LIMIT ? OFFSET ?",
            [*params, query.limit, query.offset],
        )
        return [_booleans(r) for r in rows], int(total)

    def worklist_entry(self, caller_number: str) -> Row | None:
        sql = f"SELECT {WORKLIST_COLUMNS} FROM retention_customers WHERE caller_number = ?"
        rows = self._query(sql, [caller_number])
        return _booleans(rows[0]) if rows else None

    def mark_contacted(self, caller_number: str, status: str, note: str | None, by: str, at: float) -> bool:
        with self._tx() as cur:
            cur.execute(
                self._sql(
                    "UPDATE retention_customers SET status = ?, note = ?, contacted_at = ?, contacted_by = ?,"
                    " updated_at = ? WHERE caller_number = ?"
                ),
                [status, note, at, by, at, caller_number],
            )
            return bool(cur.rowcount)


def _booleans(row: Row) -> Row:
    if "at_risk" in row:
        row["at_risk"] = bool(row["at_risk"])
    return row
