"""Risk after every call, from the call log: the facts a call left (events, summary, tags) and
the caller's earlier calls go through the scorer, and the result goes back to the call log's
retention tables. Runs in the call log's writer thread, after the call is closed."""

from __future__ import annotations

import time
from pathlib import Path

from assist.calllog.store import CallStore
from assist.qa.callview import call_view
from assist.retention.score import Risk, RiskWeights, assess, load_weights
from assist.retention.signs import CallFacts, EarlierCall, IntentOf


class RetentionAssessor:
    def __init__(self, weights: RiskWeights | None = None, intent_of: IntentOf | None = None) -> None:
        self.weights = weights or load_weights()
        self.intent_of = intent_of  # the knowledge base's matcher (GuidanceService.intent_of)

    @classmethod
    def for_knowledge_base(cls, kb_dir: Path | None, intent_of: IntentOf | None = None) -> RetentionAssessor:
        """The knowledge base's retention.yaml when it has one, else the packaged weights."""
        own = kb_dir / "retention.yaml" if kb_dir is not None else None
        return cls(load_weights(own if own is not None and own.exists() else None), intent_of)

    def __call__(self, store: CallStore, call_id: str) -> Risk | None:
        return self.assess_stored(store, call_id)

    def __repr__(self) -> str:
        return "retention risk"

    def assess_stored(self, store: CallStore, call_id: str) -> Risk | None:
        call = store.get_call(call_id)
        if call is None:
            return None
        summary = call.get("summary") or {}
        number = call.get("caller_number")
        earlier = [
            EarlierCall(
                row["id"],
                float(row["started_at"]),
                tuple(row.get("intents") or ()),
                (row.get("summary") or {}).get("outcome"),
                str((row.get("summary") or {}).get("text") or "")[:300],
            )
            for row in (store.caller_history(number, float(call["started_at"])) if number else [])
        ]
        facts = CallFacts(
            view=call_view(store.events(call_id)),
            summary=summary,
            started_at=float(call["started_at"]),
            intents=tuple(store.tags(call_id).get("intent", [])),
            earlier=earlier,
            profile=call.get("caller") or {},
        )
        risk = assess(facts, self.weights, self.intent_of)
        row = {
            "score": risk.score,
            "value": risk.value,
            "priority": risk.priority,
            "at_risk": risk.at_risk,
            "reasons": risk.reasons(),
        }
        store.save_risk(call, row, time.time())
        return risk
