"""Customers newly at risk, pushed to a CRM: a signed JSON POST per customer, retried with
backoff, on a thread of its own (a slow or dead CRM never holds the call log's writer).

Signature (as Stripe and Slack do it): header ``X-Assist-Timestamp: T`` (epoch seconds) and
``X-Assist-Signature: sha256=HEX``, HEX = HMAC-SHA256(secret, "T." + body). A receiver checks the
HMAC and rejects a timestamp more than a few minutes old. The ``event_id`` is the same on every
retry of one delivery, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from typing import Any

import httpx

from assist.calllog.store import CallStore

log = logging.getLogger(__name__)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class RetentionWebhook:
    """An after-call step: when the call put its customer at risk, the CRM hears of it."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        attempts: int = 6,
        backoff_s: float = 2.0,
        timeout_s: float = 10.0,
        queue_max: int = 10_000,
    ) -> None:
        self.url = url
        self._secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._client = httpx.Client(timeout=timeout_s)
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(queue_max)
        self.delivered = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._run, name="retention-webhook", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return "retention webhook"

    def __call__(self, store: CallStore, call_id: str) -> None:
        call = store.get_call(call_id)
        number = call.get("caller_number") if call else None
        risk = store.risk(call_id)
        if not number or risk is None or not risk["at_risk"]:
            return
        entry = store.worklist_entry(number) or {}
        payload = {
            "event_id": str(uuid.uuid4()),
            "type": "customer_at_risk",
            "caller_number": number,
            "name": entry.get("name"),
            "segment": entry.get("segment"),
            "score": risk["score"],
            "value": risk["value"],
            "priority": risk["priority"],
            "reasons": [{"kind": r["kind"], "note": r["note"]} for r in risk["reasons"]],
            "call_id": call_id,
            "worklist_status": entry.get("status"),
        }
        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            self.failed += 1
            log.warning("retention webhook: queue full, %s not sent", number)

    def _post(self, body: bytes) -> bool:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Assist-Timestamp": timestamp,
            "X-Assist-Signature": signature(self._secret, timestamp, body),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as error:
            log.info("retention webhook: %s", error)
            return False
        if response.status_code >= 300:
            log.info("retention webhook: HTTP %d", response.status_code)
        return response.status_code < 300

    def _run(self) -> None:
        while (payload := self._queue.get()) is not None:
            body = json.dumps(payload, ensure_ascii=False).encode()
            for attempt in range(self.attempts):
                if self._post(body):
                    self.delivered += 1
                    break
                if attempt + 1 < self.attempts:
                    time.sleep(self.backoff_s * 2**attempt)
            else:
                self.failed += 1
                log.warning(
                    "retention webhook: gave up on %s after %d attempts", payload["caller_number"], self.attempts
                )

    def close(self, timeout_s: float = 5.0) -> None:
        self._queue.put(None)
        self._thread.join(timeout_s)
        self._client.close()
