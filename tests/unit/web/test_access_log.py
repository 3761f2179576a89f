"""No token value in a log line: the access log's paths are scrubbed."""

from __future__ import annotations

import logging

from assist.web.access_log import RedactTokens, scrub


def test_query_tokens_and_bearer_values_are_masked():
    assert scrub("/ws/sidebar?agent=alice&token=abc123") == "/ws/sidebar?agent=alice&token=***"
    assert scrub("/export?token=s3cr%C3%A9t&x=1") == "/export?token=***&x=1"
    assert scrub("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert scrub("/api/calls?q=token") == "/api/calls?q=token"  # the word alone is not a secret


def test_the_filter_rewrites_an_access_record_before_it_is_formatted():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/supervisor?token=deadbeef", "1.1", 200),
        None,
    )
    assert RedactTokens().filter(record)
    assert "deadbeef" not in record.getMessage() and "token=***" in record.getMessage()


def test_a_refused_upgrade_is_logged_at_info_not_error() -> None:
    from assist.web.access_log import RefusedUpgradeIsNotAnError

    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, RefusedUpgradeIsNotAnError.MESSAGE, None, None
    )
    assert RefusedUpgradeIsNotAnError().filter(record)
    assert record.levelno == logging.INFO and "refused" in record.getMessage()
    other = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception in ASGI application\n", None, None
    )
    RefusedUpgradeIsNotAnError().filter(other)
    assert other.levelno == logging.ERROR, "a real error stays an error"
