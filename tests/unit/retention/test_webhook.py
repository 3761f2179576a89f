"""The CRM webhook against a real HTTP server: signed, retried until it lands, the same event id
on every retry, and nothing sent for a customer who is not at risk."""

from __future__ import annotations

import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assist.retention.webhook import RetentionWebhook, signature


class Crm(ThreadingHTTPServer):
    def __init__(self, failures: int) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.delivered = threading.Event()


class Handler(BaseHTTPRequestHandler):
    server: Crm

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        ok = len(self.server.received) > self.server.failures
        self.send_response(200 if ok else 503)
        self.end_headers()
        if ok:
            self.server.delivered.set()

    def log_message(self, *args: Any) -> None:
        pass


class Store:
    """The three reads the webhook makes, from a call log that holds one assessed call."""

    def __init__(self, at_risk: bool) -> None:
        self.at_risk = at_risk

    def get_call(self, call_id: str) -> dict[str, Any]:
        return {"id": call_id, "caller_number": "+14155550132"}

    def risk(self, call_id: str) -> dict[str, Any]:
        reasons = [{"kind": "churn_words", "note": "spoke of leaving", "strength": 1.0, "evidence": []}]
        return {"score": 0.7, "value": 4.5, "priority": 3.15, "at_risk": self.at_risk, "reasons": reasons}

    def worklist_entry(self, number: str) -> dict[str, Any]:
        return {"name": "Sarah Thompson", "segment": "vip", "status": "open"}


@pytest.fixture
def crm() -> Any:
    server = Crm(failures=2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


def test_a_customer_at_risk_reaches_the_crm_signed_after_retries(crm: Crm) -> None:
    hook = RetentionWebhook(f"http://127.0.0.1:{crm.server_address[1]}/hook", "s3cret", backoff_s=0.05)
    hook(Store(at_risk=True), "call-1")  # type: ignore[arg-type]
    assert crm.delivered.wait(30), "never delivered"
    hook.close()
    assert len(crm.received) == 3 and hook.delivered == 1
    ids = {json.loads(body)["event_id"] for _, body in crm.received}
    assert len(ids) == 1, "a retry must carry the same event id"
    headers, body = crm.received[-1]
    expected = signature("s3cret", headers["x-assist-timestamp"], body)
    assert hmac.compare_digest(headers["x-assist-signature"], expected)
    payload = json.loads(body)
    assert payload["caller_number"] == "+14155550132" and payload["segment"] == "vip"
    assert payload["reasons"] == [{"kind": "churn_words", "note": "spoke of leaving"}]


def test_nothing_is_sent_for_a_customer_not_at_risk_and_a_dead_crm_is_given_up(crm: Crm) -> None:
    hook = RetentionWebhook(f"http://127.0.0.1:{crm.server_address[1]}/hook", "k", backoff_s=0.01, attempts=2)
    hook(Store(at_risk=False), "call-2")  # type: ignore[arg-type]
    hook(Store(at_risk=True), "call-3")  # type: ignore[arg-type]
    hook.close(timeout_s=30)
    assert len(crm.received) == 2 and hook.failed == 1 and hook.delivered == 0
