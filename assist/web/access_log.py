"""Token values never reach a log line: the access log's request paths are cleaned of them.

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


def install() -> None:
    """On uvicorn's access and error loggers (where request lines are written)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logging.getLogger(name).addFilter(RedactTokens())
