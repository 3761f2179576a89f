"""Twilio's X-Twilio-Signature: Twilio's published example, the spellings of one URL a proxy or
port may produce, and the upgrade check on a real Starlette websocket."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from assist.ingest.twilio_signature import compute_signature, signature_valid, url_spellings
from assist.web.ingest_twilio import signed_by_twilio

AUTH_TOKEN = "12345"


def test_twilios_published_example() -> None:
    params = {
        "CallSid": "CA1234567890ABCDE",
        "Caller": "+12349013030",
        "Digits": "1234",
        "From": "+12349013030",
        "To": "+18005551212",
    }
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    assert compute_signature(AUTH_TOKEN, url, params) == "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


def test_one_url_in_every_spelling_and_no_other() -> None:
    assert set(url_spellings("wss://a.example/twilio")) == {
        "wss://a.example/twilio",
        "wss://a.example:443/twilio",
        "ws://a.example/twilio",
        "ws://a.example:80/twilio",
    }
    signed = compute_signature(AUTH_TOKEN, "wss://a.example:443/twilio")
    assert signature_valid(AUTH_TOKEN, signed, ["ws://a.example/twilio"])
    assert not signature_valid(AUTH_TOKEN, signed, ["wss://b.example/twilio"])
    assert not signature_valid(AUTH_TOKEN, signed, ["wss://a.example/twilio?x=1"])
    assert not signature_valid("other", signed, ["wss://a.example/twilio"])
    for bad in (None, "", "é", "x" * 500, signed.lower()):
        assert not signature_valid(AUTH_TOKEN, bad, ["wss://a.example/twilio"])


def app(public_url: str | None) -> Starlette:
    async def endpoint(websocket: WebSocket) -> None:
        if not signed_by_twilio(websocket, AUTH_TOKEN, public_url):
            await websocket.close(1008, "invalid or missing X-Twilio-Signature")
            return
        await websocket.accept()
        await websocket.send_text("accepted")
        await websocket.close()

    return Starlette(routes=[WebSocketRoute("/twilio", endpoint)])


@pytest.mark.parametrize(
    ("public_url", "signed_url", "accepted"),
    [
        (None, "wss://testserver/twilio", True),  # the Host it was reached at, behind TLS
        ("https://assist.example.com", "wss://assist.example.com/twilio", True),
        ("https://assist.example.com", "wss://elsewhere.example/twilio", False),
        (None, "wss://testserver/other", False),
    ],
)
def test_the_upgrade_is_checked_against_the_url_twilio_was_given(
    public_url: str | None, signed_url: str, accepted: bool
) -> None:
    headers = {"X-Twilio-Signature": compute_signature(AUTH_TOKEN, signed_url)}
    with TestClient(app(public_url)) as client:
        if accepted:
            with client.websocket_connect("/twilio", headers=headers) as ws:
                assert ws.receive_text() == "accepted"
        else:
            with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/twilio", headers=headers):
                pass
            assert refused.value.code == 1008


def test_no_signature_no_stream() -> None:
    with TestClient(app(None)) as client, pytest.raises(WebSocketDisconnect), client.websocket_connect("/twilio"):
        pass
