"""uvicorn's log lines made fit for a shared log: token values never reach a line (the access
log's request paths are cleaned of them), and a refused websocket upgrade is not an ERROR.

Our pages put no token in a URL (a fragment for the sign-in link, a single-use ticket for a
websocket: assist/web/auth.py), but clients written by others may still send ``?token=``, and
uvicorn's access log would write it out with the path. This filter masks every
``token``/``ticket``/``key`` query value (and a bearer value wherever it appears) first.
"""

from __future__ import annotations

import logging
import re

_SECRET_QUERY = re.compile(r"((?:^|[?&])(?:token|ticket|key|api_key)=)[^&\s\"]*", re.IGNORECASE)
_BEARER = re.compile(r"(bearer\s+)[^\s\"']+", re.IGNORECASE)


def scrub(text: str) -> str:
    return _BEARER.sub(r"\1***", _SECRET_QUERY.sub(r"\1***", text))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        return True


class RefusedUpgradeIsNotAnError(logging.Filter):
    """uvicorn (0.54, websockets-sansio) logs "ASGI callable returned without completing
    handshake" at ERROR after every websocket upgrade refused with an HTTP response (an
    AudioHook client with a wrong key gets 401): anyone could fill the log with alarms. Our
    websocket handlers always accept, close or deny, so the line means a refusal: INFO."""

    MESSAGE = "ASGI callable returned without completing handshake."

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.ERROR and record.msg == self.MESSAGE:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg = "websocket upgrade refused with an HTTP response"
        return True


_FILTERS = (RedactTokens(), RefusedUpgradeIsNotAnError())


def install() -> None:
    """On uvicorn's access and error loggers (where request lines are written); idempotent."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        for log_filter in _FILTERS:
            if log_filter not in logger.filters:
                logger.addFilter(log_filter)
