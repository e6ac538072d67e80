"""`make run` end to end: embedded servers, migrations, web + worker + beat, /healthz, a clean
stop, and a second start that finds the data of the first."""

from tests.stack_runner import READY_LIMIT_S, stack_start


def test_make_run_serves_healthz_stops_cleanly_and_keeps_data(tmp_path):
    data_dir = tmp_path / "data"

    first = stack_start(data_dir)
    try:
        created = first.manage("add_tenant", "keepme", "--name", "Keep Me")
        assert created.returncode == 0, created.stderr
    finally:
        output = first.stop()
    assert first.process.returncode == 0, output
    assert first.ready_after_s < READY_LIMIT_S
    assert "Jamono is up" in output
    assert "stopped." in output
    # The servers this run started are down again.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
    assert not (data_dir / "redis" / "redis.port").exists()

    second = stack_start(data_dir)
    try:
        again = second.manage("add_tenant", "keepme", "--name", "Keep Me")
    finally:
        output = second.stop()
    assert second.process.returncode == 0, output
    assert again.returncode == 0, again.stderr
    assert "already exists" in again.stdout
