"""The embedded PostgreSQL applies its shared_buffers size when Jamono starts it."""

import psycopg
import pytest

from jamono import embedded


@pytest.fixture
def data_dir(tmp_path):
    yield tmp_path
    embedded.postgres_stop(tmp_path)


def shared_buffers(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("SHOW shared_buffers").fetchone()[0]


def test_shared_buffers_is_applied_at_start_and_changed_on_the_next_start(data_dir):
    first = embedded.postgres_ensure(data_dir, shared_buffers_mb=256)
    assert first.started_here
    assert shared_buffers(first.url) == "256MB"

    embedded.postgres_stop(data_dir)
    again = embedded.postgres_ensure(data_dir, shared_buffers_mb=192)

    assert shared_buffers(again.url) == "192MB"


def test_a_running_server_is_attached_to_without_a_restart(data_dir):
    started = embedded.postgres_ensure(data_dir, shared_buffers_mb=256)
    with psycopg.connect(started.url) as conn:
        started_at = conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0]

    attached = embedded.postgres_ensure(data_dir, shared_buffers_mb=512)

    assert not attached.started_here
    with psycopg.connect(attached.url) as conn:
        assert conn.execute("SELECT pg_postmaster_start_time()").fetchone()[0] == started_at
    assert shared_buffers(attached.url) == "256MB"  # applies at its next start


def test_the_default_is_a_quarter_of_memory_within_bounds():
    assert 128 <= embedded.default_shared_buffers_mb() <= 4096
