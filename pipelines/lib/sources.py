"""The raw sources: where each lands, how it is parsed, which dbt source table it fills.

Landing layout: <landing>/<table>/dt=YYYY-MM-DD/<files>. The table name is also the dbt source table and,
with the source name, the Dagster asset key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from .columnar import replace_partition_columnar
from .parsers.base import Parsed
from .parsers.dcgm import file_context, load_dcgm, parse_dcgm
from .parsers.nvidia_smi import parse_nvidia_smi, parse_nvidia_smi_day
from .parsers.sacct import parse_sacct
from .parsers.tabular import parse_csv, parse_jsonl

STR, INT, FLOAT, TS = pl.String, pl.Int64, pl.Float64, "ts"
# (connection, table, day, paths, landing) -> summary: replaces the day in DuckDB without Python rows
SqlLoader = Callable[[duckdb.DuckDBPyConnection, str, str, list[Path], Path], dict]


@dataclass(frozen=True)
class RawSource:
    source: str  # dbt source name = first part of the asset key
    table: str  # raw table, dbt source table, landing folder
    patterns: tuple[str, ...]
    parse: Callable[[Path], Parsed] | None  # one file as frames; None for a source only DuckDB reads
    description: str
    # for measurements: the time column that must fall near the partition's day (clock skew, misfiled files)
    time_column: str | None = None
    load: SqlLoader | None = None  # set: DuckDB reads and checks the day's files itself (fleet-scale sources)
    # set: the day's files parsed at once, rows and rejects tagged with their file (many small files a day)
    parse_day: Callable[[list[Path]], Parsed] | None = None

    @property
    def key(self) -> list[str]:
        return [self.source, self.table]


def _dcgm(path: Path) -> Parsed:
    scraped_at, host = file_context(path)
    return parse_dcgm(path, scraped_at=scraped_at, default_host=host)


def _host_of(log: Path) -> str:
    return log.name.split(".")[0]


def _csv(columns: dict, optional: set[str] = frozenset()) -> Callable[[Path], Parsed]:
    return lambda path: parse_csv(path, columns, optional)


def _jsonl(columns: dict, optional: set[str] = frozenset(), extra: str | None = None) -> Callable[[Path], Parsed]:
    return lambda path: parse_jsonl(path, columns, optional, extra)


SOURCES = [
    RawSource(
        "gpu_telemetry",
        "dcgm_samples",
        ("*.prom", "*.prom.gz", "*.txt"),
        _dcgm,
        "dcgm-exporter Prometheus text, one row per sample line (metric, value, labels).",
        "scraped_at",
        load_dcgm,
    ),
    RawSource(
        "gpu_telemetry",
        "nvidia_smi_samples",
        ("*.csv", "*.csv.gz"),
        lambda p: parse_nvidia_smi(p, hostname=_host_of(p)),
        "nvidia-smi --query-gpu CSV, one row per GPU per sample; the file is named after its host.",
        "measured_at_local",
        parse_day=lambda paths: parse_nvidia_smi_day(paths, [_host_of(p) for p in paths]),
    ),
    RawSource(
        "gpu_telemetry",
        "gpu_samples",
        ("*.parquet",),
        None,
        "Canonical columnar telemetry (Parquet: one row per GPU per sample, one column per DCGM field), as a "
        "Prometheus export or a telemetry lake hands it over; loaded by DuckDB without Python rows.",
        "measured_at",
        replace_partition_columnar,
    ),
    RawSource(
        "inventory",
        "hosts",
        ("*.csv",),
        _csv(
            {
                "host": STR,
                "cluster": STR,
                "region": STR,
                "gpu_model": STR,
                "gpu_count": INT,
                "pool": STR,
                "reservation": STR,
                "usd_per_gpu_hour": FLOAT,
                "valid_from": TS,
                "valid_to": TS,
            },
            # a CPU-only host has no GPU model; a trace may give no rate
            {"reservation", "valid_to", "region", "gpu_model", "usd_per_gpu_hour"},
        ),
        "Host inventory snapshot (CMDB export): GPU model and count, pool, reservation, rate, validity.",
    ),
    RawSource(
        "inventory",
        "gpu_prices",
        ("*.csv",),
        _csv({"gpu_model": STR, "list_usd_per_gpu_hour": FLOAT, "effective_usd_per_gpu_hour": FLOAT}),
        "Finance price list per GPU model: list and effective (discounted) $ per GPU-hour.",
    ),
    RawSource(
        "inventory",
        "maintenance_windows",
        ("*.csv",),
        _csv(
            {"window_id": STR, "host": STR, "starts_at": TS, "ends_at": TS, "kind": STR, "reason": STR},
            {"reason", "kind"},
        ),
        "Maintenance calendar: planned windows per host (UTC); unplanned outages show only as telemetry gaps.",
    ),
    RawSource(
        "scheduler",
        "sacct_jobs",
        ("*.txt", "*.log", "*.log.gz"),
        parse_sacct,
        "Slurm sacct --parsable2 lines, jobs and job steps, as printed.",
    ),
    RawSource(
        "scheduler",
        "k8s_jobs",
        ("*.jsonl",),
        _jsonl({"apiVersion": STR, "kind": STR, "metadata": STR, "spec": STR, "status": STR}, {"apiVersion", "status"}),
        "Kubernetes batch/v1 Job objects, one JSON per line (metadata/spec/status kept as JSON).",
    ),
    RawSource(
        "training",
        "training_events",
        ("*.jsonl",),
        _jsonl(
            {"ts": TS, "run_id": STR, "attempt": INT, "scheduler_job_id": STR, "cluster": STR, "event": STR},
            {"attempt", "scheduler_job_id", "cluster"},
            extra="attributes",
        ),
        "Training job lifecycle events from the launcher/trainer; event-specific fields in `attributes`.",
    ),
    RawSource(
        "registry",
        "model_stage_events",
        ("*.jsonl",),
        _jsonl(
            {"event_time": TS, "model_name": STR, "version": INT, "from_stage": STR, "to_stage": STR},
            {"version", "from_stage"},
        ),
        "Model registry stage transitions (experimentation, training, evaluation, deployed, retired).",
    ),
    RawSource(
        "registry",
        "serving_deployments",
        ("*.csv",),
        _csv(
            {
                "deployment_id": STR,
                "model_name": STR,
                "model_version": INT,
                "cluster": STR,
                "host": STR,
                "gpu_indices": STR,
                "started_at": TS,
                "ended_at": TS,
                "team": STR,
            },
            {"ended_at", "team"},
        ),
        "Serving deployments active on the day: model version, host and GPU indices held, start/end.",
    ),
    RawSource(
        "inference",
        "inference_requests",
        ("*.csv", "*.csv.gz"),
        _csv(
            {"TIMESTAMP": TS, "Model": STR, "ContextTokens": INT, "GeneratedTokens": INT, "LatencyMs": FLOAT},
            {"Model", "LatencyMs", "ContextTokens", "GeneratedTokens"},
        ),
        "Per-request logs in the Azure LLM inference trace shape (+ model and latency when logged).",
        "TIMESTAMP",
    ),
    RawSource(
        "inference",
        "inference_hourly",
        ("*.csv",),
        _csv(
            {
                "hour_start": TS,
                "model_name": STR,
                "model_version": INT,
                "requests": INT,
                "input_tokens": INT,
                "output_tokens": INT,
                "latency_p50_ms": FLOAT,
                "latency_p99_ms": FLOAT,
            },
            {"model_version", "input_tokens", "output_tokens", "latency_p50_ms", "latency_p99_ms"},
        ),
        "Hourly per-model aggregates from serving stacks that do not log each request.",
    ),
    RawSource(
        "org",
        "users",
        ("*.csv",),
        _csv({"user_name": STR, "team": STR, "email": STR}, {"email"}),
        "HR export: user -> team.",
    ),
    RawSource(
        "org",
        "team_headcount",
        ("*.csv",),
        _csv({"team": STR, "month": STR, "headcount": INT}),
        "Developers per team per month (YYYY-MM).",
    ),
]
SOURCES += [
    RawSource(
        "dataset",
        "dataset_coverage",
        ("*.csv",),
        _csv({"dataset": STR, "subject": STR, "coverage": STR, "note": STR}, {"note"}),
        "What a public trace covers, per subject (inventory, gpu_telemetry, jobs, traffic, cost): full, sample or "
        "none. Absent for a production fleet, which is covered in full.",
    ),
    RawSource(
        "dataset",
        "adapter_rejects",
        ("*.csv",),
        _csv(
            {"dataset": STR, "trace_file": STR, "trace_line": INT, "reason": STR, "message": STR, "raw_text": STR},
            {"raw_text"},
        ),
        "Rows of a public trace its adapter could not represent in the warehouse, with the reason.",
    ),
]
BY_TABLE = {s.table: s for s in SOURCES}


def landing_files(landing: Path, source: RawSource, partition_date: str) -> list[Path]:
    folder = landing / source.table / f"dt={partition_date}"
    files = {p for pattern in source.patterns for p in folder.glob(pattern) if p.is_file()}
    return sorted(files)


def landed_partitions(landing: Path) -> list[str]:
    return sorted({p.name[3:] for p in landing.glob("*/dt=*") if p.is_dir()})
