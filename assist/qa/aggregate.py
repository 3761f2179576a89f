"""QA aggregates: per agent and overall, the mean score and each item's pass rate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from assist.qa.rules import QaResult


@dataclass
class _Tally:
    calls: int = 0
    scores: list[float] = field(default_factory=list)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, result: Mapping[str, Any]) -> None:
        self.calls += 1
        if result.get("score") is not None:
            self.scores.append(float(result["score"]))
        for item in result.get("items") or []:
            entry = self.items.setdefault(
                str(item["id"]), {"title": item.get("title", ""), "passed": 0, "failed": 0, "not_applicable": 0}
            )
            status = str(item.get("status"))
            if status in ("passed", "failed", "not_applicable"):
                entry[status] += 1

    def to_dict(self) -> dict[str, Any]:
        items = {}
        for item_id, entry in self.items.items():
            judged = entry["passed"] + entry["failed"]
            items[item_id] = {**entry, "pass_rate": round(entry["passed"] / judged, 3) if judged else None}
        return {
            "calls": self.calls,
            "scored_calls": len(self.scores),
            "mean_score": round(sum(self.scores) / len(self.scores), 1) if self.scores else None,
            "items": items,
        }


def aggregate(results: Iterable[tuple[str, Mapping[str, Any] | QaResult]]) -> dict[str, Any]:
    """Per agent and overall: calls, scored calls, mean score, and per item the pass rate over the
    calls where it applied (None when it never did). ``results``: (agent id, result or its dict).
    Returns ``{"agents": {agent id: aggregate}, "overall": aggregate}``, agents sorted by id."""
    agents: dict[str, _Tally] = {}
    overall = _Tally()
    for agent_id, result in results:
        data = result.to_dict() if isinstance(result, QaResult) else result
        agents.setdefault(agent_id, _Tally()).add(data)
        overall.add(data)
    return {"agents": {a: agents[a].to_dict() for a in sorted(agents)}, "overall": overall.to_dict()}
