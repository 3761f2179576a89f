"""Spoken card numbers through the whole product: no four digits of a test card, written, read
digit by digit or behind a misheard keyword ("my Carter is …"), reach any interim or final on
the ingest socket or the sidebar, any stored utterance or event, the export or the replay.

The customer's lines are synthesised (espeak-ng) and recognised by the real model, so what is
checked is what the recogniser made of them, misrecognitions included."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from typing import Any

import httpx
import numpy as np
import pytest
import websockets

from assist.bench.voices import synthesize, voice
from tests.conftest import LiveServer, stream_watched
from tests.integration.test_calllog_server import wait_stored

pytestmark = [
    pytest.mark.model,
    pytest.mark.tts,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed"),
]

CARDS = ("4111111111111111", "4532015112830366")
CUSTOMER = [
    "My card number is 4 1 1 1, 1 1 1 1, 1 1 1 1, 1 1 1 1.",
    "My Carter is 4 1 1 1 1 1 1 1 1 1 1 1.",  # the keyword misheard, 12 digits: under the card rule
    "It is four five three two, zero one five one, one two eight three, zero three six six.",
    "The number on the front is 4532 0151 1283 0366.",
]
UNASKED = [
    "My Carter is 4 1 1 1 1 1 1 1 1 1 1 1.",
    "It is 4532 0151 1283 0366.",
]
AGENT = "Can I have the long number on your card, please?"
WORDS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "for": "4"}
WORDS |= {"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "to": "2", "too": "2"}
NOT_TEXT = re.compile(r"(^|_)(id|ids|at|s|ms|seq|offset|duration|version|position)$|_id$|_at$|_s$")


def digits_in(text: str) -> list[str]:
    """Every run of digits, counting digits said as words and ignoring separators between them."""
    spoken = " ".join(WORDS.get(w, w) for w in re.findall(r"[a-z]+|\d+|[^a-z\d\s]", text.lower()))
    joined = re.sub(r"(?<=\d)[\s\-.,]+(?=\d)", "", spoken)
    return re.findall(r"\d{4,}", joined)


def leaks(value: Any, key: str = "") -> list[str]:
    """Text values anywhere in a message or row that hold four digits of a test card."""
    if isinstance(value, dict):
        return [leak for k, v in value.items() if not NOT_TEXT.search(str(k)) for leak in leaks(v, str(k))]
    if isinstance(value, list):
        return [leak for item in value for leak in leaks(item, key)]
    if isinstance(value, str):
        runs = digits_in(value)
        if any(run[i : i + 4] in card for run in runs for i in range(len(run) - 3) for card in CARDS):
            return [f"{key}: {value[:120]}"]
    return []


def call_audio(asked: bool) -> np.ndarray:
    """Stereo, customer left: the customer reads the numbers with pauses, after the agent asked
    for the card (``asked``) or out of the blue (no card context at all: only the digits tell)."""
    gap = np.zeros(int(1.2 * 16000), np.float32)
    agent = synthesize(voice("nyc-m3"), AGENT) if asked else np.zeros(1600, np.float32)
    customer_parts = [synthesize(voice("us-f5"), line) for line in (CUSTOMER if asked else UNASKED)]
    left = [np.zeros_like(agent), gap]
    right = [agent, gap]
    for part in customer_parts:
        left += [part, gap]
        right += [np.zeros_like(part), gap]
    return np.stack([np.concatenate(left), np.concatenate(right)], axis=1)


@pytest.mark.parametrize("asked", [True, False], ids=["asked-for-the-card", "no-card-context"])
async def test_no_card_digits_anywhere(live_server: LiveServer, asked: bool) -> None:
    audio = call_audio(asked)
    call_id = f"card-digits-{uuid.uuid4().hex[:8]}"
    ingest, sidebar = await stream_watched(live_server, audio, agent_id="agent-cards", call_id=call_id, speed=1.5)

    said = [m for m in ingest.of_type("final") if m["speaker"] == "customer" and m["text"]]
    assert len(said) >= len(CUSTOMER if asked else UNASKED) - 1, f"the recogniser heard too little to test: {said}"
    interims = ingest.of_type("interim") + sidebar.of_type("interim")
    assert interims, "no interims: the open-utterance masking was not exercised"
    found = leaks([m for _, m in ingest.messages]) + leaks([m for _, m in sidebar.messages])

    services = live_server.services
    async with httpx.AsyncClient(base_url=live_server.http, headers=live_server.qa_headers) as http:
        stored_id = (await wait_stored(http, call_id))["id"]
        stored = (await http.get(f"/api/calls/{stored_id}")).json()
        exported = (await http.get(f"/api/calls/{stored_id}/export", params={"format": "json"})).json()
        csv = (await http.get(f"/api/calls/{stored_id}/export", params={"format": "csv"})).text
    events = await services.recorder.read(lambda store: store.events(stored_id))  # type: ignore[attr-defined]
    url = f"{live_server.ws}/ws/replay/{stored_id}?speed=50&ticket={live_server.ticket(live_server.qa_token)}"
    async with websockets.connect(url) as ws:
        replayed = [json.loads(raw) async for raw in ws]

    found += leaks(stored) + leaks(exported) + leaks(events) + leaks(replayed)
    found += [f"csv: {line}" for line in csv.splitlines() if leaks(line)]
    assert not found, "\n".join(found[:20])
    # And the redaction did its work where it should: the card numbers were recognised as such.
    kinds = {r["kind"] for u in stored["utterances"] for r in u["redactions"]}
    assert kinds & {"card", "account"}, kinds
