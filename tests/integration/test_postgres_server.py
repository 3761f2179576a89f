"""The session's PostgreSQL server (tests/pg_plugin.py) is real and usable."""

from __future__ import annotations

import psycopg
import pytest

from tests.pgserver import ExternalPostgres, TempPostgres

pytestmark = pytest.mark.postgres


def test_create_insert_select(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        conn.execute("CREATE TEMP TABLE note (id serial PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO note (body) VALUES (%s), (%s)", ("première", "second"))
        rows = conn.execute("SELECT id, body FROM note ORDER BY id").fetchall()
    assert rows == [(1, "première"), (2, "second")]


Server = TempPostgres | ExternalPostgres


def test_fresh_database_is_empty_and_isolated(postgres_server: Server, postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as session_db:
        session_db.execute("CREATE TABLE session_marker (x int)")
        try:
            url = postgres_server.fresh_database()
            assert url != postgres_url
            with psycopg.connect(url) as conn:
                tables = conn.execute(
                    "SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
                ).fetchall()
                assert tables == []
                conn.execute("CREATE TABLE t (x int)")
                conn.execute("INSERT INTO t VALUES (1)")
                assert conn.execute("SELECT count(*) FROM t").fetchone() == (1,)
        finally:
            session_db.execute("DROP TABLE session_marker")
