"""pytest plugin: a real PostgreSQL server for the test session.

Register it with ``pytest_plugins = ["tests.pg_plugin"]`` in tests/conftest.py (or ``-p tests.pg_plugin``).

Fixtures:
    postgres_server  session: the server (``.url``, ``.fresh_database(name=None) -> url``)
    postgres_url     session: URL of the session database ``assist_test``
    postgres_db_url  function: URL of a new, empty database for one test

A throwaway cluster is started once per session (tests/pgserver.py) and removed at the end. With
``ASSIST_TEST_DATABASE_URL`` set, that server is used instead and nothing is started. When no server can be
had the fixtures fail with the reason: the project's tests run against a real PostgreSQL server, never skip.
Tests that use these fixtures get the ``postgres`` marker, so ``-m "not postgres"`` leaves them out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.pgserver import ExternalPostgres, PostgresUnavailable, TempPostgres

ENV_URL = "ASSIST_TEST_DATABASE_URL"
_FIXTURES = {"postgres_server", "postgres_url", "postgres_db_url"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TempPostgres | ExternalPostgres]:
    url = os.environ.get(ENV_URL, "").strip()
    server: TempPostgres | ExternalPostgres = ExternalPostgres(url) if url else TempPostgres()
    try:
        server.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL is required for these tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: TempPostgres | ExternalPostgres) -> str:
    return postgres_server.url


@pytest.fixture
def postgres_db_url(postgres_server: TempPostgres | ExternalPostgres) -> str:
    return postgres_server.fresh_database()
