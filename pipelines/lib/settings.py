"""Where the project keeps its files. Environment variables override; defaults live under the repo's data/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
# the first day of Dagster's daily partitions: the day the dbt microbatch models begin, written once, in dbt
FIRST_PARTITION: str = yaml.safe_load((DBT_DIR / "dbt_project.yml").read_text())["vars"]["first_partition_day"]


def _path(var: str, default: str) -> Path:
    return Path(os.getenv(var) or ROOT / default).resolve()


def landing_dir() -> Path:
    return _path("LANDING_DIR", "data/landing")


def work_db() -> Path:
    """The pipeline's own DuckDB file: the only file it writes to."""
    return _path("WAREHOUSE_WORK_PATH", "data/build/warehouse.duckdb")


def published_db() -> Path:
    """What analysts and BI tools open, read-only; replaced atomically by the publish asset."""
    return _path("WAREHOUSE_PATH", "data/warehouse.duckdb")


def report_html() -> Path:
    """The fleet report (one self-contained HTML page), beside the published warehouse; rebuilt after each publish."""
    return published_db().parent / "report" / "index.html"


# the DuckDB storage format of the published file: BI tools embed DuckDB 1.x readers (JDBC, Node, Python), which
# cannot open the 2.x format the pipeline writes. v1.2.0 opens in every DuckDB from 1.2 (February 2025) on;
# v1.0.0 also in 0.10 and 1.0-1.1, for a larger file and a slower publish (docs/architecture.md)
DEFAULT_STORAGE_VERSION = "v1.2.0"


def published_storage_version() -> str:
    return os.getenv("WAREHOUSE_STORAGE_VERSION") or DEFAULT_STORAGE_VERSION


# GPU telemetry pulled from Prometheus (pipelines/ingest/prometheus.py; docs/sources.md): the source exists only
# where PROMETHEUS_URL is set. The bearer token is read from the variable PROMETHEUS_TOKEN_ENV names (default
# PROMETHEUS_TOKEN), never from configuration; metrics and labels default to the columnar form's fields and labels.
def prometheus_url() -> str | None:
    return os.getenv("PROMETHEUS_URL") or None


def prometheus_options() -> dict:
    """The pull's options that are set in the environment (the rest keep their defaults)."""
    options: dict = {}
    if os.getenv("PROMETHEUS_TOKEN_ENV"):
        options["token_env"] = os.environ["PROMETHEUS_TOKEN_ENV"]
    if os.getenv("PROMETHEUS_METRICS"):  # comma-separated DCGM field names
        options["metrics"] = [m.strip() for m in os.environ["PROMETHEUS_METRICS"].split(",") if m.strip()]
    if os.getenv("PROMETHEUS_LABELS"):  # JSON: raw column -> [label, ...], first present wins
        options["labels"] = json.loads(os.environ["PROMETHEUS_LABELS"])
    for key, var, kind in (
        ("timeout_s", "PROMETHEUS_TIMEOUT_S", float),
        ("retries", "PROMETHEUS_RETRIES", int),
        ("backoff_s", "PROMETHEUS_BACKOFF_S", float),
        ("workers", "PROMETHEUS_WORKERS", int),
    ):
        if os.getenv(var):
            options[key] = kind(os.environ[var])
    return options
