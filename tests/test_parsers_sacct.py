import base64
import gzip
import json

import duckdb
import polars as pl
import pytest
from conftest import FIXTURES, build_partial_warehouse

from pipelines.ingest.landing import landed
from pipelines.ingest.parsers.hostlist import compress_hostlist, expand_hostlist
from pipelines.ingest.parsers.sacct import decode_jobstats, parse_sacct
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day


def test_xdmod_unit_log_without_header():
    parsed = parse_sacct(FIXTURES / "slurm" / "xdmod_unit_accounting-logs.log")
    assert parsed.rejects.is_empty()
    assert parsed.rows["job_id"].to_list() == ["4103947", "4107166", "4107219", "5692623"]
    gpu_job = parsed.rows.filter(pl.col("job_id") == "5692623").row(0, named=True)
    assert gpu_job["alloc_tres"] == "gres/gpu=2" and gpu_job["req_tres"] == ""
    assert gpu_job["eligible"] == "Unknown"
    assert gpu_job["node_names"] == ["cpn-k16-35-01", "cpn-k16-37-01"]
    cancelled = parsed.rows.filter(pl.col("job_id") == "4107166").row(0, named=True)
    assert cancelled["state"] == "CANCELLED by 102216"
    big = parsed.rows.filter(pl.col("job_id") == "4103947").row(0, named=True)
    assert len(big["node_names"]) == 32 and big["n_nodes"] == "32"  # the NodeList expands to NNodes hosts


def test_job_arrays_keep_their_ids():
    parsed = parse_sacct(FIXTURES / "slurm" / "xdmod_unit_accounting-logs-with-job-arrays.log")
    assert parsed.rejects.is_empty()
    assert "4103947_[9-11,20]" in parsed.rows["job_id"].to_list()
    assert set(parsed.rows["job_id_raw"]) == {"4103947"}


def test_real_phillips_log(traces):
    parsed = parse_sacct(traces / "samples" / "slurm" / "xdmod_phillips_sacct_parsable2.log.gz")
    assert parsed.lines_read == 4285  # the README's line count
    assert parsed.rejects.is_empty()
    gpu_jobs = parsed.rows.filter(pl.col("alloc_tres").str.contains("gres/gpu"))["job_id"].unique()
    assert sorted(gpu_jobs) == ["163485", "196835"]  # "Only 2 jobs carry gres/gpu in AllocTRES"


def test_header_mode_missing_column_and_bad_lines(tmp_path):
    f = tmp_path / "sacct.txt"
    f.write_text(
        "JobID|Cluster|Account|User|Submit|Start|End|State|AllocTRES|NodeList\n"
        "7|c|t|u|2025-01-01T00:00:00|Unknown|Unknown|PENDING||None assigned\n"
        "8|c|t|u|2025-01-01T00:00:00|2025-01-01T00:01:00|Unknown|RUNNING|gres/gpu=4|n[1-2]\n"
        "9|c|t|u|yesterday|Unknown|Unknown|PENDING||None assigned\n"
        "10|c|t\n"
    )
    parsed = parse_sacct(f)
    assert parsed.rows["job_id"].to_list() == ["7", "8"]
    assert parsed.rows["node_names"].to_list() == [[], ["n1", "n2"]]
    assert parsed.rejects.sort("source_line").select("source_line", "reason").rows() == [
        (4, "bad_timestamp"),
        (5, "field_count"),
    ]
    g = tmp_path / "no_alloc.txt"
    g.write_text("JobID|Cluster|State\n1|c|RUNNING\n")
    bad = parse_sacct(g)
    assert bad.rows.is_empty() and set(bad.rejects["reason"]) == {"missing_column"}


def test_a_line_without_a_job_id_is_quarantined_not_keyed_by_its_cluster(tmp_path):
    """Through the production load path: the line lands in raw.quarantine with file, line and reason, never as a
    job whose key is only `slurm:<cluster>:`, and the audit reconciles."""
    day, name = "2025-03-03", "s.txt"
    landing = tmp_path / "landing"
    path = landing / "sacct_jobs" / f"dt={day}" / name
    path.parent.mkdir(parents=True)
    path.write_text(
        "JobID|Cluster|Account|User|Submit|Start|End|State|AllocTRES|NodeList\n"
        "7|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|Unknown|RUNNING|gres/gpu=8|n[1-2]\n"
        "|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|Unknown|RUNNING|gres/gpu=8|n3\n"
        " |c|t|u|2025-03-03T00:00:00|None|None|PENDING||None assigned\n"
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        replace_day(con, BY_TABLE["sacct_jobs"], day, landed([path], landing))
        assert con.execute("select job_id from raw.sacct_jobs").fetchall() == [("7",)]
        quarantined = con.execute(
            "select source_file, source_line, reason from raw.quarantine order by source_line"
        ).fetchall()
        assert quarantined == [
            (f"sacct_jobs/dt={day}/{name}", 3, "missing_job_id"),
            (f"sacct_jobs/dt={day}/{name}", 4, "missing_job_id"),
        ]
        read, loaded, rejected = con.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw.load_audit"
        ).fetchall()[0]
        assert (read, loaded, rejected) == (3, 1, 2) and read == loaded + rejected


@pytest.mark.parametrize(
    "expr, hosts",
    [
        ("d09n04s[01-02],d09n05s02", ["d09n04s01", "d09n04s02", "d09n05s02"]),
        ("d13n[03,05,07-08,16]", ["d13n03", "d13n05", "d13n07", "d13n08", "d13n16"]),
        ("cpn-f13-03-[01-02]", ["cpn-f13-03-01", "cpn-f13-03-02"]),
        ("None assigned", []),
    ],
)
def test_hostlist_expansion(expr, hosts):
    assert expand_hostlist(expr) == hosts


def test_hostlist_compress_round_trips():
    hosts = ["gpu-h100-001", "gpu-h100-002", "gpu-h100-003", "gpu-h100-007", "login"]
    assert compress_hostlist(hosts) == "gpu-h100-[001-003,007],login"
    assert expand_hostlist(compress_hostlist(hosts)) == sorted(hosts)


def test_jobstats_admin_comment_is_decoded_and_a_bad_summary_never_rejects_its_job():
    # built with jobstats' own encoding (tests/fixtures/README.md): JS1: + base64(gzip(json.dumps(..., indent=4)))
    parsed = parse_sacct(FIXTURES / "slurm" / "jobstats_admin_comment.txt")
    assert parsed.rejects.is_empty()  # every job line loads, its summary good or bad
    rows = {r["job_id"]: r for r in parsed.rows.to_dicts()}
    summary = json.loads(rows["46915114"]["jobstats"])
    assert summary["nodes"]["della-l04g11"]["gpu_utilization"] == {"2": 80.0, "3": 40.0}
    assert summary["total_time"] == 7200 and rows["46915114"]["jobstats_problem"] is None
    assert len(json.loads(rows["46915115"]["jobstats"])["nodes"]) == 2
    # JS1:Short is jobstats' "too short to summarise": no summary and no problem
    assert rows["46915116"]["jobstats"] is None and rows["46915116"]["jobstats_problem"] is None
    # a cut-off blob: flagged on the job, which still loads
    assert rows["46915117"]["jobstats"] is None
    assert rows["46915117"]["jobstats_problem"].startswith("bad_jobstats:")
    assert rows["46915118"]["jobstats"] is None and rows["46915118"]["jobstats_problem"] is None
    assert rows["46915114"]["node_names"] == ["della-l04g11"]


@pytest.mark.parametrize(
    ("comment", "problem"),
    [
        ("JS1:not base64!", "bad_jobstats"),
        ("JS1:" + base64.b64encode(b"not gzip").decode(), "bad_jobstats"),
        ("JS1:" + base64.b64encode(gzip.compress(b"[1, 2]")).decode(), "bad_jobstats"),
        ("JS1:None", None),
        ("a site's own note", None),
    ],
)
def test_decode_jobstats_problems(comment, problem):
    summary, said = decode_jobstats(comment)
    assert summary is None
    assert (said.split(":")[0] if said else None) == problem


def test_jobstats_summaries_reach_dbt_as_per_job_gpu_utilisation(tmp_path):
    """The fixture through the production load path and dbt: jobstats' own encoding, decoded at load, summarised
    per job by int_jobstats_rolled_to_jobs (the formula's hand-computed rows are its dbt unit test)."""
    day = "2025-03-03"
    landing = tmp_path / "landing"
    path = landing / "sacct_jobs" / f"dt={day}" / "della.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes((FIXTURES / "slurm" / "jobstats_admin_comment.txt").read_bytes())
    work = tmp_path / "w.duckdb"
    build_partial_warehouse(work, landing, [day], "+int_jobstats_rolled_to_jobs")
    with duckdb.connect(str(work), read_only=True) as con:
        assert con.execute(
            "select count(*), count(jobstats), count(jobstats_problem) from raw.sacct_jobs"
        ).fetchall() == [(5, 2, 1)]
    with duckdb.connect(str(work), read_only=True) as con:
        rows = con.execute(
            "select scheduler_job_id, jobstats_gpus, jobstats_gpu_util_ratio, jobstats_gpu_mem_peak_used_ratio "
            "from intermediate.int_jobstats_rolled_to_jobs order by 1"
        ).fetchall()
    assert rows == [("46915114", 2, pytest.approx(0.6), 0.375), ("46915115", 2, 0.75, 0.5)]
