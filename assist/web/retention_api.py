"""The retention worklist API: customers at risk ranked by risk × value, with the evidence, each
customer's call timeline, and what the retention team did (QA token; agents never see it).

    GET   /api/retention                    ranked worklist (filters; ?format=csv for a file)
    GET   /api/retention/{caller_number}    one customer: entry, reasons, every call of the number
    POST  /api/retention/{caller_number}    {"status": "contacted"|..., "note": "..."}
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from assist.calllog.retention_tables import WORKLIST_STATUSES, WorklistQuery, WorklistStatus
from assist.calllog.store import CallStore
from assist.services import Services
from assist.web.qa_api import error_response, int_param, number_param

CSV_COLUMNS = (
    "caller_number",
    "name",
    "segment",
    "value",
    "score",
    "priority",
    "status",
    "calls",
    "last_call_id",
    "last_call_at",
    "reasons",
    "note",
    "contacted_by",
    "contacted_at",
)


class WorklistUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: WorklistStatus
    note: str = Field("", max_length=2000)


def worklist_query(request: Request) -> WorklistQuery:
    params = request.query_params
    status = params.get("status") or None
    if status is not None and status not in WORKLIST_STATUSES:
        raise ValueError(f"status must be one of {', '.join(WORKLIST_STATUSES)}")
    at_risk = (params.get("at_risk") or "true").lower()
    if at_risk not in ("true", "false"):
        raise ValueError("at_risk must be true or false")
    return WorklistQuery(
        status=status,
        segment=(params.get("segment") or "").lower() or None,
        min_score=number_param(request, "min_score"),
        at_risk_only=at_risk == "true",
        since=number_param(request, "since"),
        text=(params.get("q") or "").strip() or None,
        limit=int_param(request, "limit", 50, 1, 500),
        offset=int_param(request, "offset", 0, 0, 10_000_000),
    )


def _headline(reasons: list[dict[str, Any]]) -> str:
    return "; ".join(str(r.get("note")) for r in reasons[:3])


async def worklist(request: Request, services: Services) -> Response:
    query = worklist_query(request)
    wants_csv = request.query_params.get("format") == "csv"
    rows, total = await services.recorder.read(lambda store: store.worklist(query))
    if wants_csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([_headline(row["reasons"]) if c == "reasons" else row.get(c) for c in CSV_COLUMNS])
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="retention.csv"'},
        )
    following = query.offset + len(rows)
    return JSONResponse(
        {
            "customers": rows,
            "total": total,
            "limit": query.limit,
            "offset": query.offset,
            "next_offset": following if following < total else None,
        }
    )


async def customer(request: Request, services: Services) -> Response:
    number = request.path_params["caller_number"]
    if request.method == "POST":
        return await _update(request, services, number)

    def read(store: CallStore) -> dict[str, Any] | None:
        entry = store.worklist_entry(number)
        if entry is None:
            return None
        timeline = store.caller_history(number, time.time() + 1.0, limit=200)
        return {
            **entry,
            "timeline": [
                {
                    "call_id": c["id"],
                    "started_at": c["started_at"],
                    "duration_s": c["duration_s"],
                    "agent_id": c["agent_id"],
                    "status": c["status"],
                    "intents": c["intents"],
                    "outcome": (c.get("summary") or {}).get("outcome"),
                    "summary": (c.get("summary") or {}).get("text"),
                    "risk": c.get("risk"),
                }
                for c in timeline
            ],
        }

    found = await services.recorder.read(read)
    if found is None:
        return error_response("no such customer on the worklist", 404)
    return JSONResponse(found)


async def _update(request: Request, services: Services, number: str) -> Response:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("the body must be JSON: {status, note}") from None
    update = WorklistUpdate.model_validate(body)
    done = await services.recorder.read(
        lambda store: store.mark_contacted(number, update.status, update.note or None, "qa", time.time())
    )
    if not done:
        return error_response("no such customer on the worklist", 404)
    entry = await services.recorder.read(lambda store: store.worklist_entry(number))
    return JSONResponse(entry)
