"""The QA API's OpenAPI document, built from pydantic models of what the endpoints return.

The handlers in qa_api.py return plain dicts from the store; the tests check every response
against this document (openapi-core), so the two cannot drift apart silently.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Redaction(BaseModel):
    kind: str
    start: int
    end: int


class Utterance(_Open):
    speaker: str = Field(description="customer | agent")
    utterance_id: int
    start_s: float = Field(description="seconds from the start of the call's audio")
    end_s: float
    emitted_s: float = Field(description="when the final was produced, same time axis")
    text: str = Field(description="redacted before storage")
    words: list[dict[str, Any]]
    confidence: float | None
    language: str | None
    latency: dict[str, float] = Field(description="per-stage latency of this final, ms")
    redactions: list[Redaction]
    revision: int = Field(0, description="0 as first shown; higher after a slower decode revised it")


class Hit(BaseModel):
    speaker: str
    utterance_id: int
    start_s: float
    end_s: float
    text: str


class CallItem(_Open):
    id: str
    platform: str
    platform_call_id: str
    caller_number: str | None
    agent_id: str
    language: str
    started_at: float = Field(description="epoch seconds")
    ended_at: float | None
    duration_s: float | None
    status: str = Field(description="live | completed | interrupted | failed")
    end_reason: str | None
    transferred_from: str | None
    qa_score: float | None
    tags: dict[str, list[str]] = Field(description="intent, signal and offer tags")
    hits: list[Hit] = Field(default_factory=list, description="utterances matching the text search")


class CallList(BaseModel):
    calls: list[CallItem]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class Call(CallItem):
    caller: dict[str, Any]
    qa: dict[str, Any] | None = Field(description="the automatic scorecard result")
    summary: dict[str, Any] | None
    utterances: list[Utterance]
    guidance: list[dict[str, Any]] = Field(description="cards, offers and signals shown, in order")
    feedback: list[dict[str, Any]]
    wrapup: dict[str, Any] | None = Field(None, description="after-call work: what was proposed, what the agent saved")


class CallLegs(BaseModel):
    calls: list[CallItem]


class Note(BaseModel):
    call_id: str
    live: bool
    note: str
    summary: dict[str, Any] | None


class AgentStats(_Open):
    agent_id: str
    calls: int
    mean_score: float | None


class AgentStatsList(BaseModel):
    agents: list[AgentStats]


class Deleted(BaseModel):
    deleted: int


class Transfer(BaseModel):
    agent_id: str = Field(min_length=1, max_length=200)


class Error(BaseModel):
    error: str


class WrapupFields(BaseModel):
    """What an agent saves at the end of a call (and what was proposed to them)."""

    model_config = ConfigDict(extra="ignore")
    summary: str = Field(max_length=4000)
    disposition: str = Field(min_length=1, max_length=64)
    outcome: Literal["resolved", "follow_up", "escalated", "unresolved", "abandoned"]
    notes: str = Field("", max_length=2000)


class Wrapup(BaseModel):
    call_id: str
    agent_id: str
    live: bool = Field(description="the call is still in progress: the proposal is a preview")
    dispositions: list[dict[str, str]] = Field(description="the wrap-up codes to choose from: code, label")
    outcomes: list[str]
    proposed: dict[str, Any] = Field(description="summary, disposition, outcome and why, from what was said")
    saved: dict[str, Any] | None = Field(description="what the agent saved; null until then")
    saved_at: float | None


class RiskReason(BaseModel):
    kind: str = Field(description="a key of the retention weights: churn_words, repeat_call, curt_answers, ...")
    strength: float = Field(description="0-1")
    note: str = Field(description="why, in a sentence")
    evidence: list[dict[str, Any]] = Field(description="the utterances (or earlier calls) that show it")


class RetentionCustomer(_Open):
    caller_number: str
    name: str | None
    segment: str | None
    value: float = Field(description="the customer's value: segment first, then spend and tenure")
    score: float = Field(description="risk after the customer's latest call, 0-1")
    priority: float = Field(description="score × value: the worklist's order")
    at_risk: bool
    reasons: list[RiskReason]
    last_call_id: str
    last_call_at: float
    calls: int = Field(description="calls assessed for this number")
    status: Literal["open", "contacted", "retained", "lost", "dismissed"]
    note: str | None
    contacted_at: float | None
    contacted_by: str | None
    updated_at: float


class RetentionList(BaseModel):
    customers: list[RetentionCustomer]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class TimelineCall(BaseModel):
    call_id: str
    started_at: float
    duration_s: float | None
    agent_id: str
    status: str
    intents: list[str]
    outcome: str | None
    summary: str | None
    risk: float | None


class RetentionDetail(RetentionCustomer):
    timeline: list[TimelineCall] = Field(description="every call of this number, newest first")


class RetentionUpdate(BaseModel):
    status: Literal["open", "contacted", "retained", "lost", "dismissed"]
    note: str = Field("", max_length=2000)


MODELS: tuple[type[BaseModel], ...] = (
    RetentionList,
    RetentionDetail,
    RetentionUpdate,
    WrapupFields,
    Wrapup,
    CallList,
    Call,
    CallLegs,
    Note,
    AgentStatsList,
    Deleted,
    Transfer,
    Error,
)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


CALL_ID = {"name": "call_id", "in": "path", "required": True, "schema": {"type": "string"}}
ERRORS = {
    "400": _json("Error", "a bad parameter (the message says which)"),
    "401": _json("Error", "missing or wrong QA token"),
    "404": _json("Error", "no such call"),
    "503": _json("Error", "the call log is unavailable"),
}
LIST_FILTERS = [
    _query("since", {"type": "number"}, "calls started at or after (epoch s)"),
    _query("until", {"type": "number"}, "calls started before (epoch s)"),
    _query("agent", {"type": "string"}, "agent id"),
    _query("intent", {"type": "string"}, "a knowledge-base intent matched in the call"),
    _query("signal", {"type": "string"}, "a signal raised (churn, dissatisfaction, escalation, silence, ...)"),
    _query("offer", {"type": "string"}, "an offer shown"),
    _query("status", {"type": "string", "enum": ["live", "completed", "interrupted", "failed"]}, "call status"),
    _query("min_score", {"type": "number"}, "QA score at least"),
    _query("max_score", {"type": "number"}, "QA score at most"),
    _query("q", {"type": "string"}, 'full-text search of what was said: words, "phrases", prefix*'),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"),
    _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "page start"),
]


CALLER = {"name": "caller_number", "in": "path", "required": True, "schema": {"type": "string"}}
RETENTION_FILTERS = [
    _query("status", {"type": "string", "enum": ["open", "contacted", "retained", "lost", "dismissed"]}, "status"),
    _query("segment", {"type": "string"}, "customer segment (vip, gold, silver, standard)"),
    _query("min_score", {"type": "number"}, "risk at least"),
    _query(
        "at_risk", {"type": "string", "enum": ["true", "false"], "default": "true"}, "false: every assessed customer"
    ),
    _query("since", {"type": "number"}, "latest call at or after (epoch s)"),
    _query("q", {"type": "string"}, "part of the name or number"),
    _query("format", {"type": "string", "enum": ["json", "csv"]}, "csv: a file for a CRM or a spreadsheet"),
    _query("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}, "page size"),
    _query("offset", {"type": "integer", "minimum": 0, "default": 0}, "page start"),
]


def openapi() -> dict[str, Any]:
    _, schemas = models_json_schema([(m, "serialization") for m in MODELS], ref_template="#/components/schemas/{model}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "assist QA API",
            "version": "1",
            "description": "The call log for quality review. Every endpoint needs the QA role's bearer token "
            "(ASSIST_QA_TOKEN; agents do not have it), in the Authorization header: a token in the URL is "
            "never accepted. Replay: websocket /ws/replay/{call_id}?ticket=K&speed=N, with a single-use "
            "ticket K from POST /api/ticket, sends the stored events with their original timing, N times faster.",
        },
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"qa": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"qa": []}],
        "paths": {
            "/api/calls": {
                "get": {
                    "summary": "List and search calls, newest first",
                    "operationId": "listCalls",
                    "parameters": LIST_FILTERS,
                    "responses": {"200": _json("CallList", "a page of calls"), **ERRORS},
                },
                "delete": {
                    "summary": "Retention: delete every finished call that started before a time",
                    "operationId": "deleteCallsBefore",
                    "parameters": [{**_query("before", {"type": "number"}, "epoch s"), "required": True}],
                    "responses": {"200": _json("Deleted", "how many calls were deleted"), **ERRORS},
                },
            },
            "/api/calls/{call_id}": {
                "get": {
                    "summary": "One call with its utterances, guidance, feedback, QA result and summary",
                    "operationId": "getCall",
                    "parameters": [CALL_ID],
                    "responses": {"200": _json("Call", "the call"), **ERRORS},
                },
                "delete": {
                    "summary": "Delete one call and everything stored with it",
                    "operationId": "deleteCall",
                    "parameters": [CALL_ID],
                    "responses": {"200": _json("Deleted", "1"), **ERRORS},
                },
            },
            "/api/calls/{call_id}/export": {
                "get": {
                    "summary": "Download a call: JSON (everything) or CSV (the transcript)",
                    "operationId": "exportCall",
                    "parameters": [
                        CALL_ID,
                        _query("format", {"type": "string", "enum": ["json", "csv"], "default": "json"}, "format"),
                    ],
                    "responses": {
                        "200": {
                            "description": "the call as a file",
                            "content": {
                                "application/json": {"schema": _ref("Call")},
                                "text/csv": {"schema": {"type": "string", "format": "binary"}},
                            },
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/calls/{call_id}/note": {
                "get": {
                    "summary": "Handover note and summary, also for a call still in progress",
                    "operationId": "getNote",
                    "parameters": [CALL_ID],
                    "responses": {"200": _json("Note", "the note"), **ERRORS},
                }
            },
            "/api/calls/by-platform-id/{platform_call_id}": {
                "get": {
                    "summary": "Calls by the platform's id (AudioHook conversationId, Twilio callSid, native call id)",
                    "operationId": "getCallsByPlatformId",
                    "parameters": [
                        {"name": "platform_call_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {"200": _json("CallLegs", "every leg of that conversation"), **ERRORS},
                }
            },
            "/api/calls/{call_id}/events": {
                "get": {
                    "summary": "The stored event stream (what the sidebar saw), each with its time on the "
                    "call's clock (replay_s), for a replay with pause and seek",
                    "operationId": "getCallEvents",
                    "parameters": [CALL_ID],
                    "responses": {
                        "200": {
                            "description": "call_started, the duration and the events",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/calls/{call_id}/recording": {
                "get": {
                    "summary": "The call's audio as FLAC (customer left, agent right; paused spans silent), "
                    "when ASSIST_RECORD_AUDIO is on",
                    "operationId": "getRecording",
                    "parameters": [CALL_ID],
                    "responses": {
                        "200": {
                            "description": "the recording",
                            "content": {"audio/flac": {"schema": {"type": "string", "format": "binary"}}},
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/calls/{call_id}/wrapup": {
                "get": {
                    "summary": "After-call work: the proposed summary, disposition and outcome, and what the "
                    "agent saved (the call's agent, supervisors and QA)",
                    "operationId": "getWrapup",
                    "parameters": [CALL_ID],
                    "responses": {"200": _json("Wrapup", "proposed and saved wrap-up"), **ERRORS},
                },
                "put": {
                    "summary": "Save the agent's wrap-up (the call's agent or a supervisor); saving again replaces it",
                    "operationId": "saveWrapup",
                    "parameters": [CALL_ID],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("WrapupFields")}},
                    },
                    "responses": {"200": _json("Wrapup", "the saved wrap-up"), **ERRORS},
                },
            },
            "/api/retention": {
                "get": {
                    "summary": "The retention worklist: customers at risk after their latest call, ranked by "
                    "risk × value, with the evidence (?format=csv for a file)",
                    "operationId": "retentionWorklist",
                    "parameters": RETENTION_FILTERS,
                    "responses": {
                        "200": {
                            "description": "a page of customers (or CSV)",
                            "content": {
                                "application/json": {"schema": _ref("RetentionList")},
                                "text/csv": {"schema": {"type": "string"}},
                            },
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/retention/{caller_number}": {
                "get": {
                    "summary": "One customer on the worklist: the reasons and every call of the number",
                    "operationId": "retentionCustomer",
                    "parameters": [CALLER],
                    "responses": {"200": _json("RetentionDetail", "the customer and the call timeline"), **ERRORS},
                },
                "post": {
                    "summary": "Record what the retention team did: contacted, retained, lost, dismissed (or open)",
                    "operationId": "retentionUpdate",
                    "parameters": [CALLER],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("RetentionUpdate")}},
                    },
                    "responses": {"200": _json("RetentionCustomer", "the updated entry"), **ERRORS},
                },
            },
            "/api/ticket": {
                "post": {
                    "summary": "A single-use pass of a few seconds for one websocket (sidebar, supervisor, replay), "
                    "bought with any valid token, so that no token travels in a URL",
                    "operationId": "getTicket",
                    "security": [{"qa": []}],
                    "responses": {
                        "200": {
                            "description": "the ticket, its lifetime, and whom it speaks for",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["ticket", "expires_in_s"],
                                        "properties": {
                                            "ticket": {"type": "string"},
                                            "expires_in_s": {"type": "number"},
                                            "agent_id": {"type": "string"},
                                            "role": {"type": "string", "enum": ["supervisor", "qa"]},
                                        },
                                    }
                                }
                            },
                        },
                        "401": _json("Error", "no valid token"),
                    },
                }
            },
            "/api/qa/agents": {
                "get": {
                    "summary": "Per-agent QA aggregates",
                    "operationId": "agentStats",
                    "parameters": LIST_FILTERS[:2],
                    "responses": {"200": _json("AgentStatsList", "one entry per agent"), **ERRORS},
                }
            },
        },
    }
