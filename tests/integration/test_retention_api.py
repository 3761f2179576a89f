"""The retention worklist through the server, on SQLite and PostgreSQL: every finished call is
assessed by the call log's after-call step; the API (checked against its OpenAPI document)
ranks customers by risk × value, filters, exports CSV, shows each customer's call timeline and
records what the retention team did. Agents cannot see it."""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from typing import Any

import httpx
import pytest

from assist.calllog.call import call_tags, utterance_row
from assist.calllog.store import CallStore
from assist.qa.review import review
from assist.qa.scorecard_config import default_scorecard
from assist.retention.service import RetentionAssessor
from tests.conftest import LiveServer
from tests.integration.test_calllog_server import openapi_client

pytestmark = pytest.mark.model

LEAVING = [
    ("agent", "Thanks for calling, how can I help?"),
    ("customer", "I want to cancel my account, I'm switching to another provider."),
    ("agent", "I'm sorry to hear that, let me see what I can do."),
    ("customer", "No thanks, just close it."),
]
HAPPY = [
    ("agent", "Thanks for calling, how can I help?"),
    ("customer", "Can you tell me when my contract ends?"),
    ("agent", "It ends in March, and you can upgrade from February. All sorted."),
    ("customer", "Great, thank you, that's perfect."),
]


def store_call(store: CallStore, number: str, caller: dict[str, Any], turns, started_at: float) -> str:
    """A finished call written as a server writes it, closed with its QA and summary."""
    call_id = f"ret-{uuid.uuid4().hex[:10]}"
    store.start_call(
        {"id": call_id, "node_id": "t", "platform": "native", "platform_call_id": call_id, "caller_number": number,
         "agent_id": "agent-r", "language": "en", "caller": caller, "started_at": started_at}
    )  # fmt: skip
    events: list[dict[str, Any]] = [{"type": "call_started", "caller": caller, "language": "en"}]
    ids = {"customer": 0, "agent": 0}
    for n, (speaker, text) in enumerate(turns):
        events.append(
            {"type": "final", "speaker": speaker, "utterance_id": ids[speaker], "start_s": 3.0 * n,
             "end_s": 3.0 * n + 2, "emitted_s": 3.0 * n + 2.4, "text": text, "words": [], "language": "en"}
        )  # fmt: skip
        ids[speaker] += 1
        if "cancel" in text:
            events.append({"type": "signal", "kind": "churn", "at_s": 3.0 * n + 2, "evidence": text})
    events.append({"type": "call_ended", "reason": "completed", "emitted_s": 3.0 * len(turns)})
    store.append(
        call_id,
        events=list(enumerate(events)),
        utterances=[utterance_row(e) for e in events if e["type"] == "final"],
    )
    qa, summary = review(events, default_scorecard())
    store.finish_call(
        call_id, status="completed", end_reason="completed", ended_at=started_at + 60, duration_s=60.0,
        tags=call_tags(events), qa=qa, summary=summary,
    )  # fmt: skip
    RetentionAssessor()(store, call_id)
    return call_id


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest) -> LiveServer:
    return request.getfixturevalue("live_server" if request.param == "sqlite" else "live_server_pg")  # type: ignore[no-any-return]


async def test_the_worklist_ranks_valuable_customers_at_risk_with_their_evidence(server: LiveServer) -> None:
    tag = uuid.uuid4().hex[:6]
    vip, standard, happy = f"+1555{tag}01", f"+1555{tag}02", f"+1555{tag}03"
    now = time.time()

    def fill(store: CallStore) -> None:
        store_call(store, standard, {"name": f"Std {tag}", "segment": "standard", "monthly_spend": 900}, LEAVING, now)
        store_call(store, vip, {"name": f"Vip {tag}", "segment": "vip", "monthly_spend": 40}, HAPPY, now - 86400)
        store_call(store, vip, {"name": f"Vip {tag}", "segment": "vip", "monthly_spend": 40}, LEAVING, now)
        store_call(store, happy, {"name": f"Happy {tag}", "segment": "vip"}, HAPPY, now)

    assert await asyncio.to_thread(server.services.recorder.wait_ready, 60)  # type: ignore[attr-defined]
    await server.services.recorder.read(fill)  # type: ignore[attr-defined]
    http, checked = await openapi_client(server)
    async with http:
        page = (await checked.get("/api/retention", params={"q": tag})).json()
        numbers = [c["caller_number"] for c in page["customers"]]
        assert numbers == [vip, standard], page  # the happy customer is not at risk; VIP first at equal risk
        top = page["customers"][0]
        assert top["at_risk"] and top["calls"] == 2 and top["status"] == "open"
        churn = next(r for r in top["reasons"] if r["kind"] == "churn_words")
        assert "cancel my account" in churn["evidence"][0]["text"]

        everyone = (await checked.get("/api/retention", params={"q": tag, "at_risk": "false"})).json()
        assert happy in [c["caller_number"] for c in everyone["customers"]]
        assert [
            c["caller_number"]
            for c in (await checked.get("/api/retention", params={"q": tag, "segment": "vip"})).json()["customers"]
        ] == [vip]

        detail = (await checked.get(f"/api/retention/{vip}")).json()
        assert (
            len(detail["timeline"]) == 2 and detail["timeline"][0]["started_at"] > detail["timeline"][1]["started_at"]
        )
        assert all(c["summary"] for c in detail["timeline"])

        done = (await checked.post(f"/api/retention/{vip}", json={"status": "contacted", "note": "called back"})).json()
        assert done["status"] == "contacted" and done["note"] == "called back" and done["contacted_at"]
        left = (await checked.get("/api/retention", params={"q": tag, "status": "open"})).json()
        assert [c["caller_number"] for c in left["customers"]] == [standard]

        exported = await http.get("/api/retention", params={"q": tag, "format": "csv"})
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["caller_number"] for r in rows] == [vip, standard] and "spoke of leaving" in rows[0]["reasons"]

        assert (await http.get("/api/retention", params={"status": "maybe"})).status_code == 400
        assert (await http.post(f"/api/retention/{vip}", json={"status": "won"})).status_code == 400
        assert (await http.get("/api/retention/+0000")).status_code == 404
        agent = {"Authorization": f"Bearer {server.agent_token('agent-r')}"}
        async with httpx.AsyncClient(base_url=server.http) as plain:
            assert (await plain.get("/api/retention", headers=agent)).status_code == 401


async def test_every_finished_call_is_assessed(live_server: LiveServer) -> None:
    """The after-call step runs in the call log's writer when a call closes."""
    import numpy as np

    from assist.bench.clients import stream_native
    from tests.integration.test_calllog_server import wait_stored

    silence = np.zeros((16000 * 2, 2), np.float32)
    platform_id = f"ret-{uuid.uuid4().hex[:8]}"
    await stream_native(
        f"{live_server.ws}/native", silence, call_id=platform_id, caller_number="+12025550143", speed=4.0
    )
    async with httpx.AsyncClient(base_url=live_server.http, headers=live_server.qa_headers) as http:
        stored = await wait_stored(http, platform_id)
    risk = await live_server.services.recorder.read(lambda store: store.risk(stored["id"]))  # type: ignore[attr-defined]
    assert risk is not None and 0.0 <= risk["score"] < 1.0
