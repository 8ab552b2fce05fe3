"""Publishing: readers only ever see complete versions; a publish killed at any point changes nothing."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.lib.changes import Change, record
from pipelines.lib.publish import open_published, publish_warehouse, remove_stale_copies, stored_as
from pipelines.lib.settings import DEFAULT_STORAGE_VERSION

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


def contents(path) -> dict:
    """Every table's and view's rows (sorted), but the version's own state."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() and table_schema <> 'meta' order by all"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall() for s, t in names}


def replace_days(path, days: list[int], v: int) -> None:
    """Rewrite some days of marts.facts with v, logged as the pipeline's writers log them."""
    with duckdb.connect(str(path)) as con:
        for d in days:
            con.execute("delete from marts.facts where day = date '2025-03-01' + ?::int", [d])
            con.execute("insert into marts.facts select range, date '2025-03-01' + ?::int, ? from range(10)", [d, v])
            start = DAY_ONE + timedelta(days=d)
            record(con, [Change("marts.facts", "day", start, start + timedelta(days=1))])
        con.execute("checkpoint")


def test_a_publish_copies_the_logged_days_that_changed_and_gives_what_a_full_copy_gives(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 1)
    with duckdb.connect(str(work)) as con:
        con.execute("create table marts.dims as select 1 as k")
        con.execute("create table marts.gone as select 1 as k")
        con.execute("create view marts.facts_per_day as select day, count(*) as n from marts.facts group by day")
    first = publish_warehouse(work, published)
    assert first.how == "copied (no standby version)"
    replace_days(work, [2, 3], v=7)  # two days that touch: one range
    replace_days(work, [8], v=8)
    with duckdb.connect(str(work)) as con:  # unlogged changes: whole tables, views, a table dropped
        con.execute("create or replace table marts.dims as select 2 as k")
        con.execute("drop table marts.gone")
        con.execute("create or replace view marts.facts_per_day as select day, max(v) as v from marts.facts group by 1")
        con.execute("create view marts.dims_seen as select * from marts.dims")
    second = publish_warehouse(work, published)
    assert second.how == "synced"
    at = "cast('2025-03-{}T00:00:00+00:00' as DATE)"
    days = f'("day" >= {at} and "day" < {at})'
    assert second.rewritten["marts.facts"] == days.format("03", "05") + " or " + days.format("09", "10")
    assert second.rewritten["marts.dims"] == "true" and "marts.gone" not in second.rewritten
    assert contents(published) == contents(work)
    third = publish_warehouse(work, published)  # nothing logged since: the other version catches up by the same days
    assert third.how == "synced" and contents(published) == contents(work)
    fresh = tmp_path / "fresh" / "warehouse.duckdb"
    publish_warehouse(work, fresh)
    assert contents(published) == contents(fresh)


def test_a_reader_holding_the_standby_gets_a_version_written_in_full_and_keeps_its_own(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 1)
    publish_warehouse(work, published)
    build_version(work, 2)
    assert publish_warehouse(work, published).how == "synced"
    with open_published(published) as reader:  # version 2; the standby is version 1, which nobody holds
        build_version(work, 3)
        assert publish_warehouse(work, published).how == "synced"
        build_version(work, 4)  # the standby is now the version the reader holds
        assert publish_warehouse(work, published).how == "copied (a reader holds the standby version)"
        assert reader.execute("select min(v), max(v), count(*) from marts.facts").fetchall() == [(2, 2, ROWS)]
    with open_published(published) as con:
        assert con.execute("select min(v), max(v), count(*) from marts.facts").fetchall() == [(4, 4, ROWS)]


def test_a_working_file_rebuilt_from_nothing_is_published_in_full(tmp_path):
    """A new change log (its sequence restarted) cannot say what differs from a version made from the old one."""
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 1)
    publish_warehouse(work, published)
    work.unlink()
    build_version(work, 2)
    assert publish_warehouse(work, published).how == "copied (the standby version was made from another state)"
    assert contents(published) == contents(work)


def test_every_connection_of_a_publish_runs_within_the_pipelines_duckdb_budget(tmp_path, monkeypatch):
    """Unbounded, DuckDB keeps every block a publish reads or writes until 80% of the machine is full: a bulk run's
    publish grew with its days (docs/performance.md, issue 20). Copied in full or synced, it keeps to the budget."""
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 1)
    monkeypatch.setenv("DUCKDB_MEMORY_LIMIT", "123MB")
    monkeypatch.setenv("DUCKDB_THREADS", "1")
    connect, budgets = duckdb.connect, []
    with connect(config={"memory_limit": "123MB"}) as con:
        budget = (con.execute("select current_setting('memory_limit')").fetchall()[0][0], 1)

    def spy(*args, **kwargs):
        con = connect(*args, **kwargs)
        budgets.append(con.execute("select current_setting('memory_limit'), current_setting('threads')").fetchall()[0])
        return con

    monkeypatch.setattr(duckdb, "connect", spy)
    assert publish_warehouse(work, published).how == "copied (no standby version)"
    monkeypatch.setattr(duckdb, "connect", connect)
    build_version(work, 2)
    monkeypatch.setattr(duckdb, "connect", spy)
    assert publish_warehouse(work, published).how == "synced"
    assert len(budgets) >= 4 and set(budgets) == {budget}


def in_published_format(path) -> None:
    """An empty DuckDB file in the published storage format (DuckDB keeps a file's format when it writes to it)."""
    with duckdb.connect(str(path), config={"storage_compatibility_version": DEFAULT_STORAGE_VERSION}):
        pass


def test_a_working_file_in_the_published_format_is_published_as_a_file_copy_with_what_duckdbs_copy_gives(
    tmp_path, monkeypatch
):
    """A working file already in the published storage format is published in full as a copy of the file, not every
    block rewritten; one in DuckDB's own newer format (the pipeline's) is published in the readers' format by
    DuckDB's copy."""
    work, newer = tmp_path / "work.duckdb", tmp_path / "newer.duckdb"
    in_published_format(work)
    build_version(work, 1)  # written by a connection without the setting, as dbt's or an analyst's could be
    build_version(newer, 1)
    assert stored_as(work) == DEFAULT_STORAGE_VERSION != stored_as(newer)
    copied_from, copyfile = [], shutil.copyfile
    monkeypatch.setattr(shutil, "copyfile", lambda src, dst: copied_from.append(src) or copyfile(src, dst))
    from_work, from_newer = tmp_path / "a" / "warehouse.duckdb", tmp_path / "b" / "warehouse.duckdb"
    assert (
        publish_warehouse(work, from_work).how
        == publish_warehouse(newer, from_newer).how
        == "copied (no standby version)"
    )
    assert work in copied_from and newer not in copied_from
    assert stored_as(from_work) == stored_as(from_newer) == DEFAULT_STORAGE_VERSION
    assert contents(from_work) == contents(from_newer) == contents(work)


def test_a_changed_view_with_a_lambda_is_synced_from_a_working_file_in_the_published_format(tmp_path):
    """Such a file keeps a view's text in DuckDB 1.x's lambda syntax, which the sync runs to make the view again."""
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    in_published_format(work)
    build_version(work, 1)
    lambda_view = (
        "create or replace view marts.days_over as select list_filter(list(day), lambda d: d > {}) from marts.facts"
    )
    with duckdb.connect(str(work)) as con:
        con.execute(lambda_view.format("date '2025-03-05'"))
    publish_warehouse(work, published)
    build_version(work, 2)
    with duckdb.connect(str(work)) as con:
        con.execute(lambda_view.format("date '2025-03-08'"))
    assert publish_warehouse(work, published).how == "synced"
    assert contents(published) == contents(work)


def test_a_model_that_changes_from_view_to_table_or_back_is_synced(tmp_path):
    """dbt replaces a model whose materialization changed under the same name: the version must follow, a view
    becoming a table (and a table a view) in the same publish as the rows that changed."""
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 1)
    with duckdb.connect(str(work)) as con:
        con.execute("create view marts.per_day as select day, count(*) as n from marts.facts group by day")
        con.execute("create table marts.latest as select max(v) as v from marts.facts")
    publish_warehouse(work, published)
    build_version(work, 2)
    with duckdb.connect(str(work)) as con:
        con.execute("drop view marts.per_day")
        con.execute("create table marts.per_day as select day, count(*) as n from marts.facts group by day")
        con.execute("drop table marts.latest")
        con.execute("create view marts.latest as select max(v) as v from marts.facts")
    assert publish_warehouse(work, published).how == "synced"
    assert contents(published) == contents(work)
    with duckdb.connect(str(published), read_only=True) as con:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_name in ('per_day', 'latest')"
            ).fetchall()
        )
    assert kinds == {"per_day": "BASE TABLE", "latest": "VIEW"}
