"""Twilio's request signature (``X-Twilio-Signature``), as sent on a Media Streams upgrade.

Base64 of HMAC-SHA1, keyed with the account's auth token, over the URL exactly as written in the
TwiML (``wss://host/twilio``; a GET upgrade has no POST parameters). A proxy in front may change
the scheme, and Twilio's own validators accept the URL with or without its default port, so
every such spelling of the one URL is tried. No sockets here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

_DEFAULT_PORTS = {"wss": 443, "https": 443, "ws": 80, "http": 80}
MAX_SIGNATURE_CHARS = 128


def compute_signature(auth_token: str, url: str, params: Mapping[str, str] | None = None) -> str:
    payload = url + "".join(f"{key}{value}" for key, value in sorted((params or {}).items()))
    digest = hmac.new(auth_token.encode("utf-8"), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def url_spellings(url: str) -> list[str]:
    """The URL as Twilio may have signed it: wss or ws, with or without the default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal
    spellings: list[str] = []
    for scheme in ("wss", "ws"):
        ports = [parts.port] if parts.port not in (None, _DEFAULT_PORTS[scheme]) else [None, _DEFAULT_PORTS[scheme]]
        for port in ports:
            netloc = host if port is None else f"{host}:{port}"
            spellings.append(urlunsplit((scheme, netloc, parts.path, parts.query, "")))
    return spellings


def signature_valid(auth_token: str, signature: str | None, urls: Iterable[str]) -> bool:
    if not signature or len(signature) > MAX_SIGNATURE_CHARS:
        return False
    given = signature.encode("utf-8", "surrogatepass")
    return any(
        hmac.compare_digest(compute_signature(auth_token, spelling).encode("ascii"), given)
        for url in urls
        for spelling in url_spellings(url)
    )
