"""RFC 9421 HTTP message signatures on the AudioHook websocket upgrade (HMAC-SHA256).

Genesys signs ``@request-target``, ``@authority``, the three Audiohook-* headers and
``x-api-key`` with the base64-decoded client secret; ``keyid`` is the API key. Verification
itself is done by the http-message-signatures library; this module states the policy: which
components must be covered, how old a signature may be, and that a nonce is used once.
"""

from __future__ import annotations

import base64
import datetime
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

from http_message_signatures import HTTPMessageVerifier, HTTPSignatureKeyResolver, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException, InvalidSignature

REQUIRED_COMPONENTS = (
    "@request-target",
    "@authority",
    "audiohook-organization-id",
    "audiohook-session-id",
    "audiohook-correlation-id",
    "x-api-key",
)
MAX_AGE_S = 10.0  # Genesys signs each upgrade just before sending it
NONCE_MEMORY = 10_000


class SignatureError(Exception):
    """The upgrade's signature is missing or wrong; the message is safe to log."""


@dataclass(frozen=True, slots=True)
class _Request:
    """The shape the library reads: method, absolute URL, headers."""

    method: str
    url: str
    headers: Mapping[str, str]


class _SecretResolver(HTTPSignatureKeyResolver):
    def __init__(self, api_key: str, secret: bytes) -> None:
        self._api_key = api_key
        self._secret = secret

    def resolve_public_key(self, key_id: str) -> bytes:
        if key_id != self._api_key:
            raise InvalidSignature("keyid is not this integration's API key")
        return self._secret


class SignatureVerifier:
    def __init__(self, api_key: str, client_secret_b64: str, *, max_clock_skew_s: float = 5.0) -> None:
        self._verifier = HTTPMessageVerifier(
            signature_algorithm=algorithms.HMAC_SHA256,
            key_resolver=_SecretResolver(api_key, base64.b64decode(client_secret_b64)),
        )
        self._verifier.max_clock_skew = datetime.timedelta(seconds=max_clock_skew_s)
        self._seen_nonces: OrderedDict[str, float] = OrderedDict()

    def verify(self, *, host: str, target: str, headers: Mapping[str, str], check_age: bool = True) -> None:
        """Raise SignatureError unless the upgrade request carries a valid, fresh signature."""
        lowered = {k.lower(): v for k, v in headers.items()}
        if "signature" not in lowered or "signature-input" not in lowered:
            raise SignatureError("missing Signature / Signature-Input headers")
        request = _Request("GET", f"https://{host}{target}", lowered)
        try:
            results = self._verifier.verify(
                request,
                max_age=datetime.timedelta(seconds=MAX_AGE_S) if check_age else None,
                require_components=REQUIRED_COMPONENTS,
            )
        except (InvalidSignature, HTTPMessageSignaturesException) as error:
            raise SignatureError(str(error)) from error
        nonce = results[0].parameters.get("nonce")
        if not isinstance(nonce, str) or len(nonce) < 22:
            raise SignatureError("signature nonce missing or too short")
        if nonce in self._seen_nonces:
            raise SignatureError("signature nonce already used (replay)")
        self._seen_nonces[nonce] = time.time()
        while len(self._seen_nonces) > NONCE_MEMORY:
            self._seen_nonces.popitem(last=False)
