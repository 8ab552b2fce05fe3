"""The raw sources: where each lands, its one loader, and the raw table (also the dbt source table) it fills."""

from __future__ import annotations

from .parsers.dcgm import DcgmText
from .parsers.nvidia_smi import NvidiaSmi
from .parsers.parquet import ColumnarParquet
from .parsers.sacct import Sacct
from .parsers.tabular import FLOAT, INT, STR, TS, Tabular
from .rules import line_rules
from .specs import RawSource


def tabular(
    source: str,
    table: str,
    columns: dict,
    description: str,
    optional: set[str] = frozenset(),
    *,
    jsonl: bool = False,
    lists: bool = False,
    extra: str | None = None,
    patterns: tuple[str, ...] | None = None,
    time_column: str | None = None,
) -> RawSource:
    """A CSV (or JSON-lines) export: its landed columns and types, those that may be empty. With `lists`, JSON lines
    and `*.json` List documents (kubectl -o json), one row per item."""
    jsonl = jsonl or lists
    loader = Tabular("jsonl" if jsonl else "csv", columns, frozenset(optional), extra, tuple(line_rules(table)), lists)
    patterns = patterns or (("*.jsonl", "*.json") if lists else ("*.jsonl",) if jsonl else ("*.csv",))
    return RawSource(source, table, patterns, loader, description, time_column)


# a Kubernetes object as kubectl prints it; its kind's fields stay JSON for staging
KUBERNETES_OBJECT = {"apiVersion": STR, "kind": STR, "metadata": STR, "spec": STR, "status": STR}

# pulled, not landed: a day of GPU telemetry read from Prometheus' HTTP API (pipelines/ingest/prometheus.py) into
# the columnar form and loaded by the columnar loader; its Dagster asset exists only where a Prometheus is configured
PROMETHEUS = RawSource(
    "gpu_telemetry",
    "prometheus_samples",
    (),
    ColumnarParquet(),
    "GPU telemetry pulled from Prometheus' HTTP API (the configured DCGM series, raw samples), one row per GPU per "
    "sample in the columnar form; the audit names each query.",
    "measured_at",
)

SOURCES = [
    RawSource(
        "gpu_telemetry",
        "dcgm_samples",
        ("*.prom", "*.prom.gz", "*.txt"),
        DcgmText(),
        "dcgm-exporter Prometheus text, one row per sample line (metric, value, labels).",
        "scraped_at",
    ),
    RawSource(
        "gpu_telemetry",
        "nvidia_smi_samples",
        ("*.csv", "*.csv.gz"),
        NvidiaSmi(),
        "nvidia-smi --query-gpu CSV, one row per GPU per sample; the file is named after its host.",
        "measured_at_local",
    ),
    RawSource(
        "gpu_telemetry",
        "gpu_samples",
        ("*.parquet",),
        ColumnarParquet(),
        "Canonical columnar telemetry (Parquet: one row per GPU per sample, one column per DCGM field), as a "
        "Prometheus export or a telemetry lake hands it over; loaded by DuckDB without Python rows.",
        "measured_at",
    ),
    tabular(
        "inventory",
        "hosts",
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
        "Host inventory snapshot (CMDB export): GPU model and count, pool, reservation, rate, validity.",
        # a CPU-only host has no GPU model; a trace may give no rate
        {"reservation", "valid_to", "region", "gpu_model", "usd_per_gpu_hour"},
    ),
    tabular(
        "inventory",
        "gpu_prices",
        {"gpu_model": STR, "list_usd_per_gpu_hour": FLOAT, "effective_usd_per_gpu_hour": FLOAT},
        "Finance price list per GPU model: list and effective (discounted) $ per GPU-hour.",
    ),
    tabular(
        "inventory",
        "maintenance_windows",
        {"window_id": STR, "host": STR, "starts_at": TS, "ends_at": TS, "kind": STR, "reason": STR},
        "Maintenance calendar: planned windows per host (UTC); unplanned outages show only as telemetry gaps.",
        {"reason", "kind"},
    ),
    RawSource(
        "scheduler",
        "sacct_jobs",
        ("*.txt", "*.log", "*.log.gz"),
        Sacct(),
        "Slurm sacct --parsable2 lines, jobs and job steps, as printed.",
    ),
    tabular(
        "scheduler",
        "k8s_jobs",
        KUBERNETES_OBJECT,
        "Kubernetes batch/v1 Job objects, one JSON per line (`<cluster>.jsonl`) or a `kubectl get jobs -A -o json` "
        "List (`<cluster>.json`, a row per item); metadata/spec/status kept as JSON.",
        {"apiVersion", "status"},
        lists=True,
    ),
    tabular(
        "scheduler",
        "k8s_pods",
        KUBERNETES_OBJECT,
        "Kubernetes v1 Pod objects: a `kubectl get pods -A -o json` List per cluster (`<cluster>.json`, a row per "
        "item) or JSON lines; metadata/spec/status kept as JSON.",
        {"apiVersion", "status"},
        lists=True,
    ),
    tabular(
        "scheduler",
        "k8s_nodes",
        KUBERNETES_OBJECT,
        "Kubernetes v1 Node objects: a `kubectl get nodes -o json` List per cluster (`<cluster>.json`), read for the "
        "GPU Feature Discovery labels (GPU product, count, time-slicing replicas, MIG strategy).",
        {"apiVersion", "spec", "status"},
        lists=True,
    ),
    tabular(
        "training",
        "training_events",
        {"ts": TS, "run_id": STR, "attempt": INT, "scheduler_job_id": STR, "cluster": STR, "event": STR},
        "Training job lifecycle events from the launcher/trainer; event-specific fields in `attributes`.",
        {"attempt", "scheduler_job_id", "cluster"},
        jsonl=True,
        extra="attributes",
    ),
    tabular(
        "registry",
        "model_stage_events",
        {"event_time": TS, "model_name": STR, "version": INT, "from_stage": STR, "to_stage": STR},
        "Model registry stage transitions (experimentation, training, evaluation, deployed, retired).",
        {"version", "from_stage"},
        jsonl=True,
    ),
    tabular(
        "registry",
        "serving_deployments",
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
            "mig_profile": STR,
        },
        "Serving deployments active on the day: model version, host and GPU indices held (with mig_profile: a MIG "
        "instance of that profile on each), start/end.",
        {"ended_at", "team", "mig_profile"},
    ),
    tabular(
        "inference",
        "inference_requests",
        {"TIMESTAMP": TS, "Model": STR, "ContextTokens": INT, "GeneratedTokens": INT, "LatencyMs": FLOAT},
        "Per-request logs in the Azure LLM inference trace shape (+ model and latency when logged).",
        {"Model", "LatencyMs", "ContextTokens", "GeneratedTokens"},
        patterns=("*.csv", "*.csv.gz"),
        time_column="timestamp",
    ),
    tabular(
        "inference",
        "inference_hourly",
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
        "Hourly per-model aggregates from serving stacks that do not log each request.",
        {"model_version", "input_tokens", "output_tokens", "latency_p50_ms", "latency_p99_ms"},
    ),
    tabular("org", "users", {"user_name": STR, "team": STR, "email": STR}, "HR export: user -> team.", {"email"}),
    tabular(
        "org",
        "team_headcount",
        {"team": STR, "month": STR, "headcount": INT},
        "Developers per team per month (YYYY-MM).",
    ),
    # what a public trace's adapter hands over besides the fleet's own sources
    tabular(
        "dataset",
        "dataset_coverage",
        {"dataset": STR, "subject": STR, "coverage": STR, "note": STR},
        "What a public trace covers, per subject (inventory, gpu_telemetry, jobs, traffic, cost): full, sample or "
        "none. Absent for a production fleet, which is covered in full.",
        {"note"},
    ),
    tabular(
        "dataset",
        "adapter_rejects",
        {"dataset": STR, "trace_file": STR, "trace_line": INT, "reason": STR, "message": STR, "raw_text": STR},
        "Rows of a public trace its adapter could not represent in the warehouse, with the reason.",
        {"raw_text"},
    ),
]
BY_TABLE = {s.table: s for s in SOURCES}
