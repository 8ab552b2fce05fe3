"""Public-trace adapters, on the shipped trace files (`../shared/traces`, skipped only when that folder is absent):
the figures the publishers state survive the trip into the landing area, every trace row is written or rejected
with a reason, and what lands loads through the production loaders."""

import json
import os
import subprocess
from datetime import UTC, datetime

import duckdb
import polars as pl
import pytest
from conftest import build_partial_warehouse

from generators.traces import DATASETS, land
from pipelines.ingest.landing import landed_partitions
from pipelines.ingest.parsers.hostlist import expand_hostlist
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day
from pipelines.lib import settings


@pytest.fixture(scope="module")
def landed(traces, tmp_path_factory):
    """Each dataset landed once for the module: name -> (landing folder, account)."""
    out = {}
    for name in DATASETS:
        landing = tmp_path_factory.mktemp(name)
        out[name] = (landing, land(name, traces, landing))
    return out


def frames(landing, table: str) -> pl.DataFrame:
    files = sorted((landing / table).glob("dt=*/*"))
    read = {".csv": pl.read_csv, ".parquet": pl.read_parquet, ".jsonl": pl.read_ndjson}
    return pl.concat([read[f.suffix](f, **({"infer_schema": False} if f.suffix == ".csv" else {})) for f in files])


def load(landing, table: str, tmp_path) -> duckdb.DuckDBPyConnection:
    """Every landed day of `table` through its production loader into a scratch warehouse."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("set TimeZone = 'UTC'")
    source = BY_TABLE[table]
    for day in landed_partitions(landing):
        files = source.files(landing, day)
        if files:
            replace_day(con, source, day, files)
    return con


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_trace_row_is_written_or_rejected_with_a_reason(landed, name):
    landing, account = landed[name]
    assert account, "the adapter read no trace file"
    for trace_file, a in account.items():
        assert a["read"] > 0, trace_file
        assert a["read"] == a["written"] + sum(a["rejected"].values()), trace_file
    rejects = frames(landing, "adapter_rejects")
    assert rejects.height == sum(sum(a["rejected"].values()) for a in account.values())
    assert json.loads((landing / "_dataset.json").read_text())["traces"] == account
    coverage = frames(landing, "dataset_coverage")
    assert dict(coverage.select("subject", "coverage").iter_rows()) == {
        s: level for s, (level, _) in DATASETS[name].coverage.items()
    }


def test_alibaba_gpu_2023_keeps_the_published_node_gpu_and_pod_counts(landed, tmp_path):
    landing, account = landed["alibaba-gpu-2023"]
    hosts = frames(landing, "hosts").with_columns(pl.col("gpu_count").cast(pl.Int64))
    # the publisher's README: 1,523 nodes, 1,213 of them with GPUs, 6,212 GPUs
    assert hosts.height == 1523
    assert hosts.filter(pl.col("gpu_count") > 0).height == 1213
    assert hosts["gpu_count"].sum() == 6212
    assert hosts.filter(pl.col("gpu_count") == 0)["gpu_model"].null_count() == 310  # CPU-only nodes kept as such
    con = load(landing, "k8s_jobs", tmp_path)
    phases = dict(
        con.execute(
            "select coalesce(status ->> '$.conditions[0].type', case when status ->> '$.startTime' is null "
            "then 'Pending' else 'Running' end), count(*) from raw.k8s_jobs group by 1"
        ).fetchall()
    )
    assert phases == {"Running": 5193, "Failed": 1870, "Pending": 897, "Complete": 192}
    shared = con.execute(
        "select count(*) from raw.k8s_jobs where metadata ->> '$.annotations.\"alibabacloud.com/gpu-milli\"' "
        "is not null"
    ).fetchall()[0][0]
    assert shared == 3078  # one-GPU pods holding a share of their GPU
    assert con.execute("select count(*) from raw.quarantine").fetchall()[0][0] == 0


def test_alibaba_times_are_anchored_at_the_epoch(traces, tmp_path):
    land("alibaba-gpu-2023", traces, tmp_path, epoch=datetime(2024, 5, 1, tzinfo=UTC))
    jobs = frames(tmp_path, "k8s_jobs")
    created = jobs.select(pl.col("metadata").struct.field("creationTimestamp")).to_series()
    assert created.min() == "2024-05-01T00:00:00Z"  # openb-pod-0000 is created at second 0
    with pytest.raises(ValueError, match="takes no option epoch"):
        land("azure-llm-2023", traces, tmp_path / "x", epoch=datetime(2024, 5, 1, tzinfo=UTC))


def test_philly_2017_machines_jobs_and_missing_readings(landed, traces, tmp_path):
    landing, account = landed["philly-2017"]
    listed = pl.read_csv(traces / "philly" / "philly_cluster_machine_list.csv", infer_schema=False)
    listed = listed.select(pl.col(" number of GPUs").str.strip_chars().cast(pl.Int64)).to_series()
    assert listed.len() == 552 and listed.sum() == 2490  # the machine list's own figures
    hosts = frames(landing, "hosts").with_columns(pl.col("gpu_count").cast(pl.Int64))
    assert hosts.height == 552 and hosts["gpu_count"].sum() > 2490  # raised where jobs were placed on more GPUs
    # every job fits the machines it was placed on: its GPUs never outnumber theirs
    capacity = dict(hosts.select("host", "gpu_count").iter_rows())
    jobs = pl.concat(
        pl.read_csv(f, separator="|", infer_schema=False) for f in sorted((landing / "sacct_jobs").glob("dt=*/*.txt"))
    )
    over = [
        job
        for job, tres, nodes in jobs.select("JobID", "AllocTRES", "NodeList").iter_rows()
        if int(tres.removeprefix("gres/gpu=")) > sum(capacity[n] for n in expand_hostlist(nodes))
    ]
    assert jobs.height == 5910 and over == []
    con = load(landing, "sacct_jobs", tmp_path)
    assert con.execute("select count(*) from raw.sacct_jobs").fetchall()[0][0] == 5910
    states = dict(con.execute("select state, count(*) from raw.sacct_jobs group by 1").fetchall())
    assert set(states) == {"COMPLETED", "FAILED"}
    # times are Pacific local time in the trace; 2017-10-07 01:13:30 PDT is 08:13:30 UTC
    start = con.execute("select start from raw.sacct_jobs where job_id = 'application_1506638472019_14199'")
    assert start.fetchall()[0][0] == "2017-10-07T08:13:30"
    samples = frames(landing, "gpu_samples")
    assert samples.filter(pl.col("DCGM_FI_DEV_GPU_UTIL") == -1).is_empty()  # the sentinel is never a reading
    assert samples["DCGM_FI_DEV_GPU_UTIL"].null_count() > 0  # ... it is a missing one
    util = account["philly/dre_gpu_util_windows_long.csv.gz"]
    assert util["read"] == 562828  # the publisher's row count
    assert util["written"] == 562828  # every reading is of a GPU the inventory has (placements prove them)


def test_azure_llm_2023_loads_every_request_under_its_service(landed, tmp_path):
    landing, _ = landed["azure-llm-2023"]
    con = load(landing, "inference_requests", tmp_path)
    by_model = dict(con.execute("select model, count(*) from raw.inference_requests group by 1").fetchall())
    assert by_model == {"code": 8819, "conversation": 19366}  # the files' row counts
    assert con.execute("select count(*) from raw.quarantine").fetchall()[0][0] == 0


def test_alibaba_genai_2026_attributes_every_request_to_a_model(landed, traces, tmp_path):
    landing, account = landed["alibaba-genai-2026"]
    con = load(landing, "inference_requests", tmp_path)
    loaded, unattributed, models = con.execute(
        "select count(*), count(*) filter (where model is null), count(distinct model) from raw.inference_requests"
    ).fetchall()[0]
    lora = account["alibaba/v2026_genai_lora_request_trace.csv.gz"]
    assert lora["read"] == 26823 and loaded == lora["written"] == 26823 - lora["rejected"]["no_model"]
    genai = traces / "alibaba"
    versions = duckdb.sql(
        f"select count(distinct checkpoint_model_version_id) from '{genai}/v2026_genai_lora_request_trace.csv.gz'"
    ).fetchall()[0][0]
    assert unattributed == 0 and models == versions
    containers = duckdb.sql(
        f"select count(distinct container_ip) from read_csv(['{genai}/v2026_genai_pod_gpu_duty_cycle_anon.csv.gz', "
        f"'{genai}/v2026_genai_pod_gpu_memory_used_bytes_anon.csv.gz'], union_by_name = true)"
    ).fetchall()[0][0]
    samples = frames(landing, "gpu_samples")
    assert samples["Hostname"].n_unique() == containers  # one stand-in host per serving container
    assert frames(landing, "hosts").height == containers


@pytest.fixture(scope="module")
def demo(project_env, traces, tmp_path_factory):
    """The README's `make demo DATASET=...` on the smallest trace, azure-llm-2023 (one hour of two services'
    requests), in its own folders (tests/test_readme.py counts on this run): its stdout and published file."""
    name = "azure-llm-2023"
    root = tmp_path_factory.mktemp(name)
    env = os.environ | {
        "DATASETS_DIR": str(root / "datasets"),
        "TRACES_DIR": str(traces),
        "WAREHOUSE_PATH": str(root / "published.duckdb"),
    }
    done = subprocess.run(
        ["make", "demo", f"DATASET={name}", f"DAGSTER_HOME={root / 'dagster_home'}"],
        cwd=settings.ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout, root / "published.duckdb"


def test_make_demo_of_a_trace_publishes_its_warehouse_and_states_its_coverage(demo):
    stdout, published = demo
    assert "traffic:   28,185 inference requests" in stdout  # the summary states the trace's own requests
    coverage = dict(query(published, "select subject, coverage from marts.dim_dataset_coverage"))
    assert coverage == {s: level for s, (level, _) in DATASETS["azure-llm-2023"].coverage.items()}
    assert query(published, "select inference_requests, telemetry_coverage from marts.rpt_fleet_summary") == [
        (28185, "none")
    ]


@pytest.fixture(scope="module")
def trace_warehouses(landed, tmp_path_factory):
    """alibaba-gpu-2023 (sampled pods, no telemetry): every landed day through the production loaders, then the
    marts the tests read built by dbt. (`make demo DATASET=alibaba-gpu-2023` builds the same models through Dagster,
    its GPU-telemetry models a batch per day of the trace's five months, ~1,200 batches and minutes, with no
    telemetry to put in them: here they are built on its first day. philly-2017's coverage rules are covered by the
    dbt unit test a_sampled_trace_leaves_downtime_and_idle_unmeasured.)"""
    landing, _ = landed["alibaba-gpu-2023"]
    work = tmp_path_factory.mktemp("alibaba-gpu-2023-warehouse") / "warehouse.duckdb"
    marts = "+rpt_fleet_summary +fct_jobs +dim_dataset_coverage +fct_gpu_capacity_hourly"
    build_partial_warehouse(work, landing, landed_partitions(landing), f"{marts} +stg_dataset__adapter_rejects", True)
    return {"alibaba-gpu-2023": work}


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_alibaba_warehouse_without_telemetry_reports_no_utilisation(trace_warehouses):
    db = trace_warehouses["alibaba-gpu-2023"]
    assert query(db, "select count(*) from marts.fct_gpu_capacity_hourly") == [(0,)]
    summary = query(
        db, "select allocated_gpu_util_ratio, allocated_ratio, telemetry_coverage from marts.rpt_fleet_summary"
    )
    assert summary == [(None, None, "none")]  # NULL, never 0 %
    jobs = query(
        db,
        "select count(*), count(*) filter (where final_state = 'pending'), min(gpus) filter (where gpus > 0) "
        "from marts.fct_jobs where scheduler = 'kubernetes'",
    )[0]
    assert jobs[0] == 8152 and jobs[1] == 897  # every pod, the Pending ones as queued demand
    assert 0 < jobs[2] < 1  # a share of one GPU
    coverage = dict(query(db, "select subject, coverage from marts.dim_dataset_coverage"))
    assert coverage == {
        "inventory": "full",
        "gpu_telemetry": "none",
        "jobs": "sample",
        "traffic": "none",
        "cost": "none",
    }
    rejects = query(db, "select count(*) from staging.stg_dataset__adapter_rejects")
    assert rejects == [(0,)]


def test_alibaba_job_gpu_hours_are_the_pods_own_times(trace_warehouses, traces):
    """Every started pod held its GPUs (or its gpu_milli share of one) from scheduled to deleted, whatever its
    last phase: the warehouse's job GPU-hours equal that sum taken straight from the pod list."""
    pods = f"read_csv('{traces / 'alibaba' / 'v2023_openb_pod_list_default.csv'}')"
    share = "case when num_gpu = 1 and gpu_milli < 1000 then gpu_milli / 1000 else num_gpu end"
    expected, running = duckdb.sql(
        f"select sum({share} * (deletion_time - scheduled_time) / 3600) filter (where pod_phase <> 'Pending'), "
        f"count(*) filter (where pod_phase = 'Running') from {pods}"
    ).fetchall()[0]
    db = trace_warehouses["alibaba-gpu-2023"]
    measured, deleted = query(
        db,
        "select sum(gpu_hours), count(*) filter (where final_state = 'deleted_while_running') from marts.fct_jobs",
    )[0]
    assert float(measured) == pytest.approx(expected, rel=1e-9)
    assert deleted == running  # a Running pod was deleted while running, not still running at the trace end
    assert query(db, "select count(*) from marts.fct_jobs where final_state = 'running'") == [(0,)]


def test_alibaba_jobs_fit_the_cluster_they_ran_on(trace_warehouses):
    """No negative durations, and at no instant do the pods running hold more GPUs than the cluster has (the
    pod list names no node, so the cluster is the finest capacity a pod can be checked against)."""
    db = trace_warehouses["alibaba-gpu-2023"]
    assert query(db, "select count(*) from marts.fct_jobs where wait_s < 0 or wall_s < 0") == [(0,)]
    peak, capacity = query(
        db,
        """
        with changes as (
            select started_at as changed_at, gpus from marts.fct_jobs
            where scheduler = 'kubernetes' and started_at is not null
            union all
            select ended_at, -gpus from marts.fct_jobs
            where scheduler = 'kubernetes' and started_at is not null and ended_at is not null
        ),
        -- at one instant, the pods that end free their GPUs before those that start take theirs
        running as (select sum(gpus) over (order by changed_at, gpus rows unbounded preceding) as gpus from changes)
        select (select max(gpus) from running),
            (select sum(gpu_count) from staging.stg_inventory__hosts where cluster = 'openb')
        """,
    )[0]
    assert capacity == 6212
    assert 0 < peak <= capacity
