"""After-call work: the wrap-up an agent would otherwise type — summary, disposition (a wrap-up
code from the company's list), outcome — proposed from what was said, for the agent to edit.

The list is the knowledge base's ``dispositions.yaml`` (codes a contact centre reports on, each
with the intents and signals that point to it), else a generic built-in one. The proposal
prefers the topic the agent acted on (a card marked used), then the pinned answer's topic,
then any topic shown, then the signals (churn → retention); the first code of the list that is
marked ``default`` catches the rest. Pure logic, no I/O beyond reading the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assist.errors import ConfigError
from assist.qa.summary import summarize

OUTCOMES = ("resolved", "follow_up", "escalated", "unresolved", "abandoned")
DEFAULT_LIST = Path(__file__).with_name("default_dispositions.yaml")
Message = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Disposition:
    code: str
    label: str
    intents: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    default: bool = False

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "label": self.label}


def load_dispositions(kb_dir: Path | None) -> list[Disposition]:
    """The knowledge base's list, else the built-in one; ConfigError naming the mistake."""
    path = (
        kb_dir / "dispositions.yaml" if kb_dir is not None and (kb_dir / "dispositions.yaml").exists() else DEFAULT_LIST
    )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data["dispositions"]
        found = [
            Disposition(
                code=str(e["code"]),
                label=str(e["label"]),
                intents=tuple(str(i) for i in e.get("intents") or ()),
                signals=tuple(str(s) for s in e.get("signals") or ()),
                default=bool(e.get("default", False)),
            )
            for e in entries
        ]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise ConfigError(f"{path}: a list of dispositions with code and label is expected ({error})") from error
    codes = [d.code for d in found]
    if not found or len(set(codes)) != len(codes):
        raise ConfigError(f"{path}: dispositions need distinct codes")
    return found


def propose(events: Sequence[Message], dispositions: Sequence[Disposition]) -> dict[str, Any]:
    """What the wrap-up form opens with; ``why`` says what the disposition was chosen from."""
    summary = summarize([*events, *([] if _ended(events) else [{"type": "call_ended", "reason": "completed"}])])
    used = {
        str(f.get("card_id")) for f in events if f.get("type") == "feedback" and f.get("action") in ("used", "helpful")
    }
    cards = [e for e in events if e.get("type") == "suggestion"]
    pinned = [str(c.get("intent")) for c in cards if c.get("pinned", True)]
    signals = {str(e.get("kind")) for e in events if e.get("type") == "signal"}
    ranked: list[tuple[str, str]] = [
        (str(c.get("intent")), "a card the agent used") for c in cards if c.get("card_id") in used
    ]
    ranked += [(intent, "the pinned answer's topic") for intent in pinned]
    ranked += [(str(c.get("intent")), "a topic shown") for c in cards]
    chosen, why = None, "nothing matched: the default"
    for signal in ("churn", "escalation"):  # what the call turned into outranks what it began as
        match = next((d for d in dispositions if signal in d.signals and signal in signals), None)
        if match is not None:
            chosen, why = match, f"the {signal} signal"
            break
    if chosen is None:
        for intent, source in ranked:
            match = next((d for d in dispositions if intent in d.intents), None)
            if match is not None:
                chosen, why = match, f"{source} ({intent})"
                break
    if chosen is None:
        chosen = next((d for d in dispositions if d.default), dispositions[-1])
    outcome = summary.outcome if summary.outcome in OUTCOMES else "unresolved"
    if outcome == "unresolved" and summary.follow_ups:
        outcome = "follow_up"
    return {"summary": summary.text, "disposition": chosen.code, "outcome": outcome, "notes": "", "why": why}


def _ended(events: Sequence[Message]) -> bool:
    return any(e.get("type") == "call_ended" for e in events)
