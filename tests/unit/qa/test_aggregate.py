"""QA aggregates per agent and overall."""

from __future__ import annotations

import json

from assist.qa.aggregate import aggregate
from assist.qa.rules import score_call
from tests.unit.qa.calls import CallBuilder, bad_call, good_call


def test_aggregate_per_agent_ignores_not_applicable() -> None:
    good, bad = score_call(good_call()), score_call(bad_call())
    silent = score_call(CallBuilder().customer("Hello?").end())
    quiet_offerless = score_call(
        CallBuilder().agent("Hello, how can I help?").customer("What time do you open on Saturday?").end()
    )
    stats = aggregate([("alice", good), ("alice", bad.to_dict()), ("bob", silent), ("bob", quiet_offerless.to_dict())])
    assert list(stats["agents"]) == ["alice", "bob"]
    alice, bob = stats["agents"]["alice"], stats["agents"]["bob"]
    assert (alice["calls"], alice["scored_calls"], alice["mean_score"]) == (2, 2, 50.0)
    assert alice["items"]["greeting"] == {
        "title": "Greets the caller",
        "passed": 1,
        "failed": 1,
        "not_applicable": 0,
        "pass_rate": 0.5,
    }
    assert (bob["calls"], bob["scored_calls"], bob["mean_score"]) == (2, 1, 25.0)
    assert bob["items"]["eligible_offer_made"]["pass_rate"] is None
    assert bob["items"]["greeting"]["pass_rate"] == 1.0
    assert (stats["overall"]["calls"], stats["overall"]["mean_score"]) == (4, 41.7)
    assert json.loads(json.dumps(stats)) == stats
    assert aggregate([]) == {
        "agents": {},
        "overall": {"calls": 0, "scored_calls": 0, "mean_score": None, "items": {}},
    }
