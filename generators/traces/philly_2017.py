"""philly-2017: Microsoft's Philly cluster (ATC'19), through the DRE sample of 5,910 multi-GPU jobs.

- machine list -> host inventory (552 machines, 2,490 GPUs; the GPU model is not published, only its memory);
  where jobs were placed on more GPUs of a machine than the list gives it (gpu7 of a "2-GPU" machine), the
  machine has at least those: its count is raised to the placements' evidence;
- DRE jobs -> Slurm accounting lines (`sacct -P`): virtual cluster as the account (team), hashed user, final
  placement as the node list; Pass/Failed -> COMPLETED/FAILED;
- per-GPU utilisation windows (10 minutes before to 3 after each job's start) -> columnar GPU telemetry, labelled
  with the job (`hpc_job`); the `-1` sentinel and empty cells are missing readings (NULL), never 0 %.

Times are local cluster time (US Pacific, zone dropped by the trace): converted to UTC. The host CPU/memory
windows are not read (the warehouse keeps GPU telemetry only)."""

from __future__ import annotations

from datetime import date

import polars as pl

from .account import DatasetLanding

MACHINES = "philly/philly_cluster_machine_list.csv"
JOBS = "philly/dre_jobs.csv"
PLACEMENT = "philly/dre_job_gpus.csv.gz"
GPU_UTIL = "philly/dre_gpu_util_windows_long.csv.gz"
CLUSTER = "philly"
ZONE = "America/Los_Angeles"
STATES = {"Pass": "COMPLETED", "Failed": "FAILED"}

COVERAGE = {
    "inventory": ("full", "all 552 machines of the machine list, GPU counts raised to what job placements prove"),
    "gpu_telemetry": ("sample", "14 minutes around each sampled job's start, on that job's GPUs only"),
    "jobs": ("sample", "DRE sample: single-attempt Pass/Failed jobs of 2+ GPUs and 5+ minutes, not the job mix"),
    "traffic": ("none", "a training cluster: no serving"),
    "cost": ("none", "no rates"),
}


def _utc(column: str) -> pl.Expr:
    local = pl.col(column).str.strip_chars().str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    return local.dt.replace_time_zone(ZONE, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def _machines(out: DatasetLanding) -> pl.DataFrame:
    raw = pl.read_csv(out.trace(MACHINES), infer_schema=False).with_row_index("trace_line", offset=1)
    raw = raw.rename({c: c.strip() for c in raw.columns})
    out.read(MACHINES, raw.height)
    machines = raw.with_columns(
        host=pl.col("machineId").str.strip_chars(),
        gpu_count=pl.col("number of GPUs").str.strip_chars().cast(pl.Int64, strict=False),
        memory=pl.col("single GPU mem").str.strip_chars(),
    )
    bad = machines.filter(pl.col("gpu_count").is_null() | (pl.col("gpu_count") < 0))
    out.reject(MACHINES, bad.select(raw.columns), "bad_gpu_count", "number of GPUs is not a count")
    return machines.filter(pl.col("gpu_count") >= 0)


def _jobs(out: DatasetLanding) -> pl.DataFrame:
    raw = pl.read_csv(out.trace(JOBS), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(JOBS, raw.height)
    jobs = raw.with_columns(
        submit=_utc("submitted_time"),
        start=_utc("start_time"),
        end=_utc("end_time"),
        gpus=pl.col("num_gpus").cast(pl.Int64, strict=False),
        state=pl.col("status").replace_strict(STATES, default=None),
    )
    checks = [
        (
            pl.any_horizontal(pl.col("submit", "start", "end").is_null()),
            "bad_timestamp",
            "a time is missing or not a local time",
        ),
        (pl.col("state").is_null(), "unknown_status", "status is neither Pass nor Failed"),
        (pl.col("gpus").is_null() | (pl.col("gpus") < 1), "bad_gpu_count", "num_gpus is not a positive count"),
        (
            (pl.col("start") < pl.col("submit")) | (pl.col("end") < pl.col("start")),
            "negative_duration",
            "the job starts before it is submitted or ends before it starts",
        ),
    ]
    for cond, reason, message in checks:
        out.reject(JOBS, jobs.filter(cond).select(raw.columns), reason, message)
        jobs = jobs.filter(~cond)
    return jobs


def _sacct(jobs: pl.DataFrame, placement: pl.DataFrame) -> pl.DataFrame:
    nodes = placement.group_by("jobid").agg(NodeList=pl.col("machine").unique().sort().str.join(","))
    slurm_time = "%Y-%m-%dT%H:%M:%S"
    return jobs.join(nodes, on="jobid", how="left").select(
        JobID="jobid",
        Cluster=pl.lit(CLUSTER),
        Account="vc",
        User="user",
        Submit=pl.col("submit").dt.strftime(slurm_time),
        Start=pl.col("start").dt.strftime(slurm_time),
        End=pl.col("end").dt.strftime(slurm_time),
        State="state",
        NNodes=pl.col("num_machines"),
        AllocTRES=pl.format("gres/gpu={}", "gpus"),
        NodeList=pl.col("NodeList").fill_null("None assigned"),
    )


def _gpu_index(column: str) -> pl.Expr:
    """`gpu3` -> 3, as the placement and utilisation files name a machine's GPUs."""
    return pl.col(column).str.strip_prefix("gpu").cast(pl.Int64, strict=False)


def _telemetry(out: DatasetLanding, machines: pl.DataFrame) -> pl.DataFrame:
    raw = pl.read_csv(out.trace(GPU_UTIL), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(GPU_UTIL, raw.height)
    value = pl.col("value").cast(pl.Float64, strict=False)
    samples = raw.with_columns(
        timestamp=_utc("ts_minute"),
        gpu=_gpu_index("gpu"),
        # DRE's -1 and empty cells are readings that are missing, not an idle GPU
        util=pl.when(value == -1).then(None).otherwise(value),
    ).join(machines.select(machine="host", gpu_count="gpu_count"), on="machine", how="left")
    checks = [
        (pl.col("metric") != "gpu_util", "unknown_metric", "only gpu_util windows are GPU telemetry"),
        (pl.col("timestamp").is_null(), "bad_timestamp", "ts_minute is not a local time"),
        (pl.col("gpu_count").is_null(), "host_not_in_inventory", "the machine is not in the machine list"),
        (
            pl.col("gpu").is_null() | (pl.col("gpu") >= pl.col("gpu_count")),
            "gpu_not_in_inventory",
            "the GPU index is beyond the machine's GPU count (the machine list's, or the GPUs jobs were placed on)",
        ),
        (
            pl.col("util").is_not_null() & ~pl.col("util").is_between(0, 100),
            "out_of_range",
            "utilisation outside 0-100 %",
        ),
    ]
    for cond, reason, message in checks:
        out.reject(GPU_UTIL, samples.filter(cond).select(raw.columns), reason, message)
        samples = samples.filter(~cond)
    return samples.select(
        "timestamp",
        Hostname="machine",
        gpu="gpu",
        hpc_job="jobid",
        DCGM_FI_DEV_GPU_UTIL="util",
    )


def _placement(out: DatasetLanding, jobs: pl.DataFrame) -> pl.DataFrame:
    placement = pl.read_csv(out.trace(PLACEMENT), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(PLACEMENT, placement.height)
    orphan = ~pl.col("jobid").is_in(jobs["jobid"].implode())
    out.reject(PLACEMENT, placement.filter(orphan), "job_not_loaded", "the placement's job was rejected or is absent")
    placement = placement.filter(~orphan)
    out.written(PLACEMENT, placement.height)
    return placement


def _proven_gpu_counts(machines: pl.DataFrame, placement: pl.DataFrame) -> pl.DataFrame:
    """The machine list says 2 GPUs for 321 machines, yet jobs ran on gpu0-gpu7 of 238 of them: a machine has at
    least the GPUs jobs were placed on, so its count is the larger of the two."""
    placed = placement.group_by(host="machine").agg(placed=_gpu_index("gpu").max() + 1)
    return (
        machines.join(placed, on="host", how="left")
        .with_columns(gpu_count=pl.max_horizontal("gpu_count", pl.col("placed").fill_null(0)))
        .drop("placed")
    )


def adapt(out: DatasetLanding) -> None:
    jobs = _jobs(out)
    placement = _placement(out, jobs)
    machines = _proven_gpu_counts(_machines(out), placement)
    first_day: date = jobs["submit"].min().date()
    out.write(
        "hosts",
        first_day,
        "philly.csv",
        machines.select(
            "host",
            cluster=pl.lit(CLUSTER),
            region=pl.lit(None, pl.String),
            # the machine list gives the GPU's memory, not its model
            gpu_model=pl.format("{} GPU", "memory"),
            gpu_count="gpu_count",
            pool=pl.lit("training"),
            reservation=pl.lit(None, pl.String),
            usd_per_gpu_hour=pl.lit(None, pl.Float64),
            valid_from=pl.lit(first_day).cast(pl.Datetime("us")),
            valid_to=pl.lit(None, pl.Datetime("us")),
        ),
    )
    out.written(MACHINES, machines.height)
    out.write("sacct_jobs", jobs["end"].max().date(), "philly.txt", _sacct(jobs, placement))
    out.written(JOBS, jobs.height)
    # the user's team: the virtual cluster they submitted most jobs to
    users = jobs.group_by("user").agg(team=pl.col("vc").mode().sort().first()).sort("user")
    out.write(
        "users", first_day, "philly.csv", users.select(user_name="user", team="team", email=pl.lit(None, pl.String))
    )

    samples = _telemetry(out, machines)
    out.write_by_day("gpu_samples", samples, pl.col("timestamp").dt.date(), "philly.parquet")
    out.written(GPU_UTIL, samples.height)
