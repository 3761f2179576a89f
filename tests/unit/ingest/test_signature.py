"""SignatureVerifier against Genesys' published AudioHook test vector and requests we sign here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pytest

from assist.ingest.signature import REQUIRED_COMPONENTS, SignatureError, SignatureVerifier

HOST = "audiohook.example.com"
TARGET = "/api/v1/voicebiometrics/ws"
API_KEY = "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh"
CLIENT_SECRET = "TXlTdXBlclNlY3JldEtleVRlbGxOby0xITJAMyM0JDU="
HEADERS = {
    "Audiohook-Organization-Id": "d7934305-0972-4844-938e-9060eef73d05",
    "Audiohook-Session-Id": "30b0e395-84d3-4570-ac13-9a62d8f514c0",
    "Audiohook-Correlation-Id": "e160e428-53e2-487c-977d-96989bf5c99d",
    "X-API-KEY": API_KEY,
}
VECTOR_NONCE = "VGhpc0lzQVVuaXF1ZU5vbmNl"
VECTOR_PARAMS = (
    '("@request-target" "@authority" "audiohook-organization-id" "audiohook-session-id" '
    '"audiohook-correlation-id" "x-api-key");keyid="SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkh";'
    'nonce="VGhpc0lzQVVuaXF1ZU5vbmNl";alg="hmac-sha256";created=1641013200;expires=3282026430'
)
VECTOR_SIGNATURE = "NZBwyBHRRyRoeLqy1IzOa9VYBuI8TgMFt2GRDkDuJh4="


def vector_headers() -> dict[str, str]:
    return HEADERS | {
        "Signature-Input": f"sig1={VECTOR_PARAMS}",
        "Signature": f"sig1=:{VECTOR_SIGNATURE}:",
    }


def verifier(secret: str = CLIENT_SECRET, api_key: str = API_KEY) -> SignatureVerifier:
    return SignatureVerifier(api_key, secret)


def signature_base(components: tuple[str, ...], values: dict[str, str], params: str) -> str:
    """RFC 9421 section 2.5: one line per covered component, then ``@signature-params``."""
    lines = [f'"{name}": {values[name]}' for name in components]
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines)


def component_values(host: str, target: str, headers: dict[str, str]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    return {"@request-target": target, "@authority": host} | lowered


def sign(
    *,
    host: str = HOST,
    target: str = TARGET,
    headers: dict[str, str] | None = None,
    secret: str = CLIENT_SECRET,
    keyid: str = API_KEY,
    created: int | None = None,
    expires: int | None = None,
    nonce: str | None = None,
    components: tuple[str, ...] = REQUIRED_COMPONENTS,
) -> dict[str, str]:
    """Sign an upgrade request the way Genesys does: HMAC-SHA256 with the decoded secret."""
    headers = dict(HEADERS if headers is None else headers)
    now = int(time.time())
    created = now if created is None else created
    expires = now + 30 if expires is None else expires
    nonce = secrets.token_urlsafe(18) if nonce is None else nonce  # 24 characters
    covered = " ".join(f'"{c}"' for c in components)
    params = f'({covered});keyid="{keyid}";nonce="{nonce}";alg="hmac-sha256";created={created};expires={expires}'
    base = signature_base(components, component_values(host, target, headers), params)
    digest = hmac.new(base64.b64decode(secret), base.encode(), hashlib.sha256).digest()
    return headers | {
        "Signature-Input": f"sig1={params}",
        "Signature": f"sig1=:{base64.b64encode(digest).decode()}:",
    }


# -- the published test vector --------------------------------------------------------------------


def test_our_signature_base_reproduces_the_published_vector():
    values = component_values(HOST, TARGET, HEADERS)
    base = signature_base(REQUIRED_COMPONENTS, values, VECTOR_PARAMS)
    digest = hmac.new(base64.b64decode(CLIENT_SECRET), base.encode(), hashlib.sha256).digest()
    assert base64.b64encode(digest).decode() == VECTOR_SIGNATURE


def test_published_vector_verifies():
    verifier().verify(host=HOST, target=TARGET, headers=vector_headers(), check_age=False)


def test_header_names_are_case_insensitive():
    headers = {k.lower(): v for k, v in vector_headers().items()}
    verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=False)


def test_published_vector_is_too_old_when_age_is_checked():
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=vector_headers())


def test_replayed_nonce_is_rejected():
    checker = verifier()
    checker.verify(host=HOST, target=TARGET, headers=vector_headers(), check_age=False)
    with pytest.raises(SignatureError, match="replay"):
        checker.verify(host=HOST, target=TARGET, headers=vector_headers(), check_age=False)


def test_a_failed_verification_does_not_use_up_the_nonce():
    checker = verifier()
    tampered = vector_headers() | {"X-API-KEY": "tampered"}
    with pytest.raises(SignatureError):
        checker.verify(host=HOST, target=TARGET, headers=tampered, check_age=False)
    checker.verify(host=HOST, target=TARGET, headers=vector_headers(), check_age=False)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-API-KEY", "SGVsbG8sIEkgYW0gdGhlIEFQSSBrZXkg"),
        ("Audiohook-Session-Id", "30b0e395-84d3-4570-ac13-9a62d8f514c1"),
        ("Audiohook-Organization-Id", "d7934305-0972-4844-938e-9060eef73d06"),
        ("Audiohook-Correlation-Id", "e160e428-53e2-487c-977d-96989bf5c99e"),
    ],
)
def test_tampered_header_is_rejected(header, value):
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=vector_headers() | {header: value}, check_age=False)


@pytest.mark.parametrize(
    ("host", "target"),
    [("evil.example.com", TARGET), (HOST, "/api/v1/other/ws"), (HOST, TARGET + "?x=1")],
)
def test_other_authority_or_target_is_rejected(host, target):
    with pytest.raises(SignatureError):
        verifier().verify(host=host, target=target, headers=vector_headers(), check_age=False)


def test_wrong_secret_is_rejected():
    other = base64.b64encode(b"some other secret, 32 bytes long").decode()
    with pytest.raises(SignatureError):
        verifier(secret=other).verify(host=HOST, target=TARGET, headers=vector_headers(), check_age=False)


@pytest.mark.parametrize("missing", ["Signature", "Signature-Input"])
def test_missing_signature_headers_are_rejected(missing):
    headers = vector_headers()
    del headers[missing]
    with pytest.raises(SignatureError, match="missing"):
        verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=False)


def test_unsigned_request_is_rejected():
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=dict(HEADERS), check_age=False)


def test_malformed_signature_header_is_rejected():
    headers = vector_headers() | {"Signature": "sig1=not a byte sequence"}
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=False)


def test_mismatched_labels_are_rejected():
    headers = vector_headers() | {"Signature": f"sig2=:{VECTOR_SIGNATURE}:"}
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=False)


def test_keyid_that_is_not_the_api_key_is_rejected():
    # Correctly signed with the right secret, but naming another key.
    headers = sign(keyid="T3RoZXJBUElrZXk=")
    with pytest.raises(SignatureError, match="API key"):
        verifier().verify(host=HOST, target=TARGET, headers=headers)


@pytest.mark.parametrize("dropped", REQUIRED_COMPONENTS)
def test_signature_must_cover_all_six_components(dropped):
    components = tuple(c for c in REQUIRED_COMPONENTS if c != dropped)
    headers = sign(components=components)
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers)


def test_signature_covering_components_in_another_order_verifies():
    headers = sign(components=tuple(reversed(REQUIRED_COMPONENTS)))
    verifier().verify(host=HOST, target=TARGET, headers=headers)


# -- freshly signed requests ----------------------------------------------------------------------


def test_fresh_signature_verifies_with_age_check():
    nonce = secrets.token_urlsafe(18)
    assert len(nonce) == 24
    verifier().verify(host=HOST, target=TARGET, headers=sign(nonce=nonce), check_age=True)


def test_fresh_signature_with_other_header_values_verifies():
    headers = HEADERS | {"Audiohook-Session-Id": "5d2b3a25-0e0b-4b35-bf4a-b2f1a7f7d5a0"}
    verifier().verify(
        host="assist.example.org:8443",
        target="/audiohook/ws",
        headers=sign(host="assist.example.org:8443", target="/audiohook/ws", headers=headers),
    )


def test_old_signature_fails_the_age_check():
    now = int(time.time())
    headers = sign(created=now - 60, expires=now + 30)
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=True)


def test_old_signature_passes_without_the_age_check():
    now = int(time.time())
    headers = sign(created=now - 60, expires=now + 30)
    verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=False)


def test_expired_signature_fails_even_without_the_age_check():
    now = int(time.time())
    headers = sign(created=now - 120, expires=now - 60)
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers, check_age=False)


def test_signature_from_the_future_fails():
    now = int(time.time())
    headers = sign(created=now + 600, expires=now + 630)
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers)


@pytest.mark.parametrize("nonce", ["", "short", "a" * 21])
def test_short_nonce_is_rejected(nonce):
    with pytest.raises(SignatureError, match="nonce"):
        verifier().verify(host=HOST, target=TARGET, headers=sign(nonce=nonce))


def test_fresh_nonce_replay_is_rejected_but_a_new_nonce_passes():
    checker = verifier()
    headers = sign()
    checker.verify(host=HOST, target=TARGET, headers=headers)
    with pytest.raises(SignatureError, match="replay"):
        checker.verify(host=HOST, target=TARGET, headers=headers)
    checker.verify(host=HOST, target=TARGET, headers=sign())


def test_other_algorithm_is_rejected():
    headers = sign()
    headers["Signature-Input"] = headers["Signature-Input"].replace("hmac-sha256", "ed25519")
    with pytest.raises(SignatureError):
        verifier().verify(host=HOST, target=TARGET, headers=headers)
