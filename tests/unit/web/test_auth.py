"""Token checks refuse anything that is not the token, non-ASCII included, and never raise."""

from __future__ import annotations

import pytest

from assist.config import Settings
from assist.web.auth import agent_allowed, ingest_allowed, role_allowed, same_secret

SETTINGS = Settings(secret_key="k", ingest_token="ingest-secret")


@pytest.mark.parametrize("given", ["é", "\u4e2d\u6587", "\udcff", "", "ingest-secret\u0000", "INGEST-SECRET"])
def test_anything_but_the_token_is_refused_without_an_error(given: str) -> None:
    assert not same_secret("ingest-secret", given)
    assert not ingest_allowed(SETTINGS, given)
    assert not role_allowed(SETTINGS, "qa", given)
    assert not agent_allowed(SETTINGS, "alice", given)


def test_the_right_tokens_are_accepted() -> None:
    assert ingest_allowed(SETTINGS, "ingest-secret")
    assert role_allowed(SETTINGS, "supervisor", SETTINGS.role_token("supervisor"))
    assert agent_allowed(SETTINGS, "alice", SETTINGS.agent_token("alice"))
    assert not agent_allowed(SETTINGS, "bob", SETTINGS.agent_token("alice"))
    assert not same_secret("x", None)
