"""replace_day: a day is replaced whole, in one transaction, and every line is accounted for."""

import duckdb
import pytest
from conftest import FIXTURES

from pipelines.ingest.landing import landed
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.specs import Batch, RawSource
from pipelines.ingest.writer import replace_day

SACCT = BY_TABLE["sacct_jobs"]


def land(landing, day, name, text):
    f = landing / "sacct_jobs" / f"dt={day}" / name
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(text)
    return f


def load(con, landing, day):
    return replace_day(con, SACCT, day, landed(sorted((landing / "sacct_jobs" / f"dt={day}").glob("*")), landing))


def table_digest(con, table):
    return con.execute(f"select count(*), sum(hash(t)) from {table} t").fetchall()


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def test_reloading_a_day_replaces_it_without_duplicates(tmp_path, con):
    landing = tmp_path / "landing"
    land(landing, "2015-07-01", "a.log", (FIXTURES / "slurm" / "xdmod_unit_accounting-logs.log").read_text())
    land(
        landing,
        "2015-07-02",
        "b.log",
        (FIXTURES / "slurm" / "xdmod_unit_accounting-logs-with-job-arrays.log").read_text(),
    )
    load(con, landing, "2015-07-01")
    load(con, landing, "2015-07-02")
    before = table_digest(con, "raw.sacct_jobs")
    summary = load(con, landing, "2015-07-01")
    assert summary == {"files": 1, "rows_read": 4, "rows_loaded": 4, "rows_quarantined": 0}
    assert table_digest(con, "raw.sacct_jobs") == before
    assert con.execute(
        "select partition_date::varchar, count(*) from raw.sacct_jobs group by 1 order by 1"
    ).fetchall() == [("2015-07-01", 4), ("2015-07-02", 6)]


def test_changed_file_replaces_its_rows_and_audit_reconciles(tmp_path, con):
    landing = tmp_path / "landing"
    f = land(
        landing,
        "2025-03-03",
        "s.txt",
        "JobID|Cluster|Account|User|Submit|Start|End|State|AllocTRES|NodeList\n"
        "1|c|t|u|2025-03-03T00:00:00|Unknown|Unknown|PENDING||None assigned\n",
    )
    load(con, landing, "2025-03-03")
    f.write_text(
        f.read_text() + "2|c|t|u|2025-03-03T01:00:00|Unknown|Unknown|PENDING||None assigned\n"
        "3|c|t|u|garbage|Unknown|Unknown|PENDING||None assigned\n"
    )
    load(con, landing, "2025-03-03")
    assert con.execute("select job_id from raw.sacct_jobs order by 1").fetchall() == [("1",), ("2",)]
    audit = con.execute(
        "select rows_read, rows_loaded, rows_quarantined, status, file_sha256 is not null from raw.load_audit"
    ).fetchall()
    assert audit == [(3, 2, 1, "partial", True)]
    q = con.execute("select source_file, source_line, reason from raw.quarantine").fetchall()
    assert q == [("sacct_jobs/dt=2025-03-03/s.txt", 4, "bad_timestamp")]


def test_a_day_whose_files_vanished_is_emptied(tmp_path, con):
    landing = tmp_path / "landing"
    f = land(landing, "2025-03-03", "s.log", (FIXTURES / "slurm" / "xdmod_unit_accounting-logs.log").read_text())
    load(con, landing, "2025-03-03")
    f.unlink()
    assert load(con, landing, "2025-03-03")["rows_loaded"] == 0
    assert con.execute("select count(*) from raw.sacct_jobs").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.load_audit").fetchall() == [(0,)]


def test_failed_write_rolls_back_the_whole_day(tmp_path, con):
    landing = tmp_path / "landing"
    land(landing, "2025-03-03", "a.log", (FIXTURES / "slurm" / "xdmod_unit_accounting-logs.log").read_text())
    load(con, landing, "2025-03-03")
    before = table_digest(con, "raw.sacct_jobs")
    # the new version of the day has a bad line, and the quarantine table cannot take it: the insert into
    # raw.quarantine fails after raw.sacct_jobs was already rewritten inside the transaction
    land(landing, "2025-03-03", "a.log", "4103947|x\n")
    con.execute(
        "create or replace table raw.quarantine (table_name varchar, partition_date date, "
        "source_file varchar, source_line date, reason varchar, message varchar, raw_text varchar)"
    )
    with pytest.raises(duckdb.Error):
        load(con, landing, "2025-03-03")
    assert table_digest(con, "raw.sacct_jobs") == before


def test_a_source_that_gains_a_column_widens_its_table(tmp_path, con):
    deployments = BY_TABLE["serving_deployments"]
    landing = tmp_path / "landing"
    old = landing / "serving_deployments" / "dt=2025-03-03" / "d.csv"
    new = landing / "serving_deployments" / "dt=2025-03-04" / "d.csv"
    for f in (old, new):
        f.parent.mkdir(parents=True)
    header = "deployment_id,model_name,model_version,cluster,host,gpu_indices,started_at,ended_at"
    old.write_text(header + "\nd1,m,1,c,h,0,2025-03-03 00:00:00,\n")
    new.write_text(header + ",team\nd1,m,1,c,h,0,2025-03-03 00:00:00,,vision\n")
    for day, f in (("2025-03-03", old), ("2025-03-04", new)):
        # the table is created from the first export, which had no team column
        if day == "2025-03-03":
            con.execute("create schema raw")
            frame = deployments.loader.parse(f).rows.drop("team")
            con.register("first", frame)
            con.execute(
                "create table raw.serving_deployments as select *, date '2025-03-03' as partition_date, "
                "'' as source_file from first limit 0"
            )
        replace_day(con, deployments, day, landed([f], landing))
    rows = con.execute("select partition_date::varchar, team from raw.serving_deployments order by 1").fetchall()
    assert rows == [("2025-03-03", None), ("2025-03-04", "vision")]


class LosesARow:
    """A loader whose batch yields one row fewer than its files hold (a reader that drops a line)."""

    raw_columns = {"source_line": "bigint", "value": "bigint"}

    def __call__(self, con, day, files, scratch):
        sql = (
            f"select '{files[0].name}' as source_file, 1::bigint as source_line, 7::bigint as value, "
            "null::varchar as reject_reason, null::varchar as reject_message, null::varchar as reject_text"
        )
        return Batch(sql, rows_read=lambda: {files[0].name: 2})


def test_a_day_whose_lines_do_not_reconcile_is_not_replaced(tmp_path, con):
    landing = tmp_path / "landing"
    source = RawSource("test", "lossy", ("*.txt",), LosesARow(), "a source whose reader loses a line")
    f = landing / "lossy" / "dt=2025-03-03" / "a.txt"
    f.parent.mkdir(parents=True)
    f.write_text("7\n8\n")
    with pytest.raises(RuntimeError, match="read 2 != loaded 1 \\+ quarantined 0"):
        replace_day(con, source, "2025-03-03", landed([f], landing))
    assert con.execute("select count(*) from information_schema.tables where table_name = 'lossy'").fetchall() == [
        (0,)
    ]  # rolled back whole: not even the table was created


def test_the_same_bytes_delivered_twice_in_a_day_are_read_once(tmp_path, con):
    """A re-sent export under a second name must not double the day's jobs; the file later in name order is the
    copy, audited as such."""
    landing = tmp_path / "landing"
    text = (FIXTURES / "slurm" / "xdmod_unit_accounting-logs.log").read_text()
    land(landing, "2015-07-01", "jobs.log", text)
    land(landing, "2015-07-01", "jobs_resent.log", text)
    summary = load(con, landing, "2015-07-01")
    once = text.count("\n")
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"] <= once
    audit = con.execute("select source_file, rows_read, status from raw.load_audit order by source_file").fetchall()
    assert [(name.rsplit("/", 1)[1], status) for name, _, status in audit] == [
        ("jobs.log", "loaded"),
        ("jobs_resent.log", "duplicate"),
    ]
    assert audit[1][1] == 0 and con.execute("select count(distinct source_file) from raw.sacct_jobs").fetchall() == [
        (1,)
    ]


def test_a_file_that_cannot_be_read_is_audited_and_the_rest_of_the_day_loads(tmp_path, con):
    """A truncated gzip, a file named .gz that is not gzip, and a dangling link each stopped the whole day."""
    import gzip

    good = "JobID|Cluster|Account|User|Submit|Start|End|State|AllocTRES|NodeList\n"
    good += "7|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|2025-03-03T02:00:00|COMPLETED|gres/gpu=8|n1\n"
    landing = tmp_path / "landing"
    land(landing, "2025-03-03", "good.log", good)
    folder = landing / "sacct_jobs" / "dt=2025-03-03"
    (folder / "truncated.log.gz").write_bytes(gzip.compress(good.encode() * 50)[:-30])
    (folder / "fake.log.gz").write_bytes(b"not gzip at all\n")
    (folder / "gone.log").symlink_to(tmp_path / "nowhere.log")
    files = SACCT.files(landing, "2025-03-03")
    summary = replace_day(con, SACCT, "2025-03-03", files)
    assert summary["rows_loaded"] == 1
    audit = con.execute("select source_file, status, problem from raw.load_audit order by 1").fetchall()
    by_name = {name.rsplit("/", 1)[1]: (status, problem) for name, status, problem in audit}
    assert by_name["good.log"] == ("loaded", None)
    assert by_name["truncated.log.gz"][0] == by_name["fake.log.gz"][0] == by_name["gone.log"][0] == "unreadable"
    assert "EOFError" in by_name["truncated.log.gz"][1] and "BadGzipFile" in by_name["fake.log.gz"][1]
    assert "FileNotFoundError" in by_name["gone.log"][1] and str(tmp_path) not in by_name["gone.log"][1]


def test_day_folders_that_are_not_partition_days_are_reported_not_loaded(tmp_path):
    from pipelines.ingest.landing import landed_partitions, stray_day_folders

    for day in ("2025-03-03", "2025-13-01", "2015-12-31", "2025-3-4", "yesterday"):
        (tmp_path / "hosts" / f"dt={day}").mkdir(parents=True)
    assert landed_partitions(tmp_path, first="2016-01-01") == ["2025-03-03"]
    assert stray_day_folders(tmp_path, first="2016-01-01") == [
        "hosts/dt=2015-12-31",  # before the first partition
        "hosts/dt=2025-13-01",
        "hosts/dt=2025-3-4",
        "hosts/dt=yesterday",
    ]
