"""Where the project keeps its files. Environment variables override; defaults live under the repo's data/."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"


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


def duckdb_config() -> dict[str, int | str]:
    """The budget of every DuckDB database the pipeline writes with: the loader's, the publish's, and dbt's (its
    profile reads the same variables). Without it DuckDB takes every core and 80% of the machine's memory, and its
    buffer pool keeps what it read until that is full: a publish copying a bulk run's days grew with the days."""
    return {
        "threads": int(os.getenv("DUCKDB_THREADS") or 2),
        "memory_limit": os.getenv("DUCKDB_MEMORY_LIMIT") or "4GB",
    }


# the DuckDB storage format of the published file: BI tools embed DuckDB 1.x readers (JDBC, Node, Python), which
# cannot open the 2.x format the pipeline writes. v1.2.0 opens in every DuckDB from 1.2 (February 2025) on;
# v1.0.0 also in 0.10 and 1.0-1.1, for a larger file and a slower publish (docs/architecture.md)
DEFAULT_STORAGE_VERSION = "v1.2.0"


def published_storage_version() -> str:
    return os.getenv("WAREHOUSE_STORAGE_VERSION") or DEFAULT_STORAGE_VERSION


def replay_window_file() -> Path:
    """Where a replay of recorded days (the demo, a public trace) writes its first and last day, beside the work
    database: a replay's partitions end at its last day instead of rolling on to today."""
    return work_db().parent / "replay_window.json"


def configured_first_partition() -> str | None:
    """The first partition day set by configuration: WAREHOUSE_FIRST_PARTITION, else a replay's first day."""
    return os.getenv("WAREHOUSE_FIRST_PARTITION") or _replay_window().get("first")


def partition_window() -> tuple[str, str | None]:
    """The first and last day of Dagster's daily partitions, read once, when the definitions load.
    First: configuration (above), else the earliest day landed, else today. Last: WAREHOUSE_LAST_PARTITION, else a
    replay's last day, else none: the partitions roll on, today's opening at midnight UTC (a live fleet)."""
    first = configured_first_partition() or _earliest_landed_day() or f"{datetime.now(UTC):%Y-%m-%d}"
    last = os.getenv("WAREHOUSE_LAST_PARTITION") or _replay_window().get("last")
    return first, last


def _replay_window() -> dict[str, str]:
    path = replay_window_file()
    return json.loads(path.read_text()) if path.is_file() else {}


def _earliest_landed_day() -> str | None:
    days = [p.name[3:] for p in landing_dir().glob("*/dt=*") if p.is_dir() and is_day(p.name[3:])]
    return min(days, default=None)


def is_day(text: str) -> bool:
    """A UTC day written YYYY-MM-DD (a folder `dt=2025-3-4` or `dt=2025-13-01` is not one)."""
    try:
        return date.fromisoformat(text).isoformat() == text
    except ValueError:
        return False


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
        ("gzip", "PROMETHEUS_GZIP", lambda v: v.lower() in ("1", "true", "yes")),
    ):
        if os.getenv(var):
            options[key] = kind(os.environ[var])
    return options
