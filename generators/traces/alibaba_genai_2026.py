"""alibaba-genai-2026: Alibaba's GenAI serving traces (cluster-trace-v2026-GenAI).

- LoRA text-to-image request trace -> per-request logs, one model per checkpoint version
  (`checkpoint_model_version_id`), latency = exec_time_seconds; a request with no checkpoint cannot be attributed
  to a model and is rejected. gmt_create has no zone: read as UTC.
- per-container GPU duty cycle (%) and memory used (bytes) -> columnar GPU telemetry (DCGM_FI_DEV_GPU_UTIL,
  DCGM_FI_DEV_FB_USED in MiB), joined on (container, timestamp). The containers are anonymised and not linked to
  hosts, so each container stands in as a one-GPU host of an unknown model in a `genai` inference cluster. The
  timestamps are shifted by the publisher: this telemetry cannot be lined up with the request trace.

The QPS, queue and latency series are not read: they are per container, and a container names no model."""

from __future__ import annotations

import polars as pl

from .account import DatasetLanding

REQUESTS = "alibaba/v2026_genai_lora_request_trace.csv.gz"
DUTY = "alibaba/v2026_genai_pod_gpu_duty_cycle_anon.csv.gz"
MEMORY = "alibaba/v2026_genai_pod_gpu_memory_used_bytes_anon.csv.gz"
CLUSTER = "genai"

COVERAGE = {
    "inventory": ("sample", "143 anonymised serving containers stand in for hosts (one GPU each, model unknown)"),
    "gpu_telemetry": ("sample", "duty cycle and memory of 143 containers for about 23 hours, shifted timestamps"),
    "jobs": ("none", "no scheduler records"),
    "traffic": ("sample", "26,823 text-to-image requests to LoRA checkpoints, not the whole service"),
    "cost": ("none", "no rates"),
}


def _requests(out: DatasetLanding) -> None:
    raw = pl.read_csv(out.trace(REQUESTS), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(REQUESTS, raw.height)
    at = pl.col("gmt_create").str.to_datetime("%Y-%m-%d %H:%M:%S", strict=False)
    latency = pl.col("exec_time_seconds").cast(pl.Float64, strict=False)
    checks = [
        (at.is_null(), "bad_timestamp", "gmt_create is not a date and time"),
        (
            pl.col("checkpoint_model_version_id").fill_null("") == "",
            "no_model",
            "no checkpoint_model_version_id: the request cannot be attributed to a model",
        ),
        (latency < 0, "negative_duration", "exec_time_seconds is negative"),
    ]
    frame = raw
    for cond, reason, message in checks:
        out.reject(REQUESTS, frame.filter(cond), reason, message)
        frame = frame.filter(~cond)
    rows = frame.select(
        TIMESTAMP="gmt_create",
        Model="checkpoint_model_version_id",
        ContextTokens=pl.lit(None, pl.Int64),  # prompt lengths are characters, not tokens
        GeneratedTokens=pl.lit(None, pl.Int64),
        LatencyMs=latency * 1000,
    )
    day = pl.col("TIMESTAMP").str.to_datetime("%Y-%m-%d %H:%M:%S").dt.date()
    out.write_by_day("inference_requests", rows, day, "lora.csv")
    out.written(REQUESTS, rows.height)


def _series(out: DatasetLanding, trace_file: str, name: str) -> pl.DataFrame:
    raw = pl.read_csv(out.trace(trace_file), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(trace_file, raw.height)
    frame = raw.with_columns(
        at=pl.from_epoch(pl.col("timestamp_anon").cast(pl.Float64, strict=False).mul(1e6).cast(pl.Int64), "us"),
        value=pl.col("value").cast(pl.Float64, strict=False),
    )
    bad = pl.col("at").is_null() | pl.col("value").is_null() | pl.col("container_ip").is_null()
    message = "timestamp, value or container missing or not a number"
    out.reject(trace_file, frame.filter(bad).select(raw.columns), "bad_value", message)
    good = frame.filter(~bad)
    # a container reports one value per instant: a repeat is kept once (the first), the others are rejected
    repeat = ~pl.struct("container_ip", "at").is_first_distinct()
    message = "a second value for the same container and instant"
    out.reject(trace_file, good.filter(repeat).select(raw.columns), "duplicate_sample", message)
    good = good.filter(~repeat)
    out.written(trace_file, good.height)
    return good.select("container_ip", "at", pl.col("value").alias(name))


def adapt(out: DatasetLanding) -> None:
    _requests(out)
    duty = _series(out, DUTY, "util")
    memory = _series(out, MEMORY, "fb_bytes")
    samples = duty.join(memory, on=["container_ip", "at"], how="full", coalesce=True).sort("container_ip", "at")
    containers = samples.group_by("container_ip").agg(first=pl.col("at").min()).sort("container_ip")
    out.write(
        "hosts",
        samples["at"].min().date(),
        "genai.csv",
        containers.select(
            host="container_ip",
            cluster=pl.lit(CLUSTER),
            region=pl.lit(None, pl.String),
            gpu_model=pl.lit(None, pl.String),
            gpu_count=pl.lit(1),
            pool=pl.lit("inference"),
            reservation=pl.lit(None, pl.String),
            usd_per_gpu_hour=pl.lit(None, pl.Float64),
            valid_from=pl.col("first").dt.truncate("1d"),
            valid_to=pl.lit(None, pl.Datetime("us")),
        ),
    )
    telemetry = samples.select(
        timestamp=pl.col("at").dt.replace_time_zone("UTC"),
        Hostname="container_ip",
        gpu=pl.lit(0, pl.Int64),
        DCGM_FI_DEV_GPU_UTIL="util",
        DCGM_FI_DEV_FB_USED=pl.col("fb_bytes") / 2**20,
    )
    out.write_by_day("gpu_samples", telemetry, pl.col("timestamp").dt.date(), "genai.parquet")
