"""Publishing: readers only ever see complete versions; a publish killed at any point changes nothing."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.lib.changes import Change, record
from pipelines.lib.publish import open_published, publish_warehouse, remove_stale_copies

ROWS = 200_000
DAY_ONE = datetime(2025, 3, 1, tzinfo=UTC)


def build_version(path, version: int) -> None:
    """A warehouse whose every table agrees on its version: marts.version says v, marts.facts has ROWS rows of
    v over ten days. A reader that sees them disagree has seen a half-written file. The work file is kept from one
    version to the next, as the pipeline keeps it: facts are replaced day by day, and the days are logged, so a
    publish after the first two brings its standby up to date in place."""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.version as select ? as v", [version])
        con.execute("create table if not exists marts.facts (i bigint, day date, v integer)")
        con.execute("delete from marts.facts")
        con.execute(
            "insert into marts.facts select range, date '2025-03-01' + (range % 10)::int, ? from range(?)",
            [version, ROWS],
        )
        record(con, [Change("marts.facts", "day", DAY_ONE, DAY_ONE + timedelta(days=10))])
        con.execute("checkpoint")


READER = textwrap.dedent(
    """
    import sys, time, duckdb
    ROWS = int(sys.argv[3])
    path, stop = sys.argv[1], time.time() + float(sys.argv[2])
    opened = versions = 0
    seen = set()
    while time.time() < stop:
        con = duckdb.connect(path, read_only=True)
        v = con.execute("select v from marts.version").fetchall()[0][0]
        n, w = con.execute("select count(*), min(v) = max(v) and min(v) = ? from marts.facts", [v]).fetchall()[0]
        con.close()
        assert n == ROWS and w, f"inconsistent version {v}: {n} rows"
        opened += 1
        seen.add(v)
    print(opened, len(seen))
"""
)


def test_a_reader_looping_through_twenty_publishes_sees_only_complete_versions(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 0)
    publish_warehouse(work, published)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(published), "8", str(ROWS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for version in range(1, 21):
        build_version(work, version)
        publish_warehouse(work, published)
    out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    opened, versions = map(int, out.split())
    assert opened > 20 and versions > 1
    with open_published(published) as con:
        assert con.execute("select v from marts.version").fetchall() == [(20,)]


PUBLISHER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pipelines.lib.publish import publish_warehouse
    publish_warehouse(Path(sys.argv[1]), Path(sys.argv[2]))
""")


def test_a_publish_killed_at_any_point_leaves_the_published_file_unchanged(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 1)
    publish_warehouse(work, published)
    build_version(work, 2)
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    for delay in (0.05, 0.2, 0.4, 0.8):
        proc = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(work), str(published)], env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with open_published(published) as con:  # opens, and holds one complete version
            v = con.execute("select v from marts.version").fetchall()[0][0]
            assert con.execute("select count(*), min(v), max(v) from marts.facts").fetchall() == [(ROWS, v, v)]
    # the next publish converges and sweeps the killed runs' leftovers
    publish_warehouse(work, published)
    assert list(tmp_path.glob(".warehouse.duckdb.*.tmp")) == []
    with open_published(published) as con:
        assert con.execute("select v from marts.version").fetchall() == [(2,)]


def test_stale_copies_of_dead_publishers_are_removed_and_live_ones_kept(tmp_path):
    published = tmp_path / "warehouse.duckdb"
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".warehouse.duckdb.{dead.pid}.tmp"
    live = tmp_path / f".warehouse.duckdb.{os.getpid()}.tmp"
    stale.write_text("x")
    live.write_text("x")
    assert remove_stale_copies(published) == [stale]
    assert live.exists() and not stale.exists()
