"""`python -m bench.prometheus_pull --gpus 200`: the Prometheus pull's throughput against a local Prometheus.

One day of the bench fleet's columnar samples (1-minute samples, every DCGM field) is backfilled into a local
Prometheus (generators/prometheus.py); then the day is pulled (24 hourly queries over HTTP, JSON to columns in
DuckDB) and replaced in a fresh raw DuckDB file through the columnar loader. Prints metric samples per second
into raw, the pull alone and pull + load (a metric sample is one value of one DCGM field of one GPU)."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb

from generators.fleet_scale import BenchFleet, write
from generators.prometheus import start_local_prometheus
from pipelines.ingest.prometheus import PrometheusConfig, pull_day
from pipelines.ingest.registry import PROMETHEUS
from pipelines.ingest.writer import replace_day


def measure(gpus: int, workers: int, root: Path) -> dict:
    cfg = BenchFleet(gpus=gpus, days=1, slice_minutes=0)
    write(cfg, root)
    parquet = sorted((root / "landing" / "gpu_samples").rglob("*.parquet"))
    started = time.perf_counter()
    with start_local_prometheus(parquet, root / "tsdb") as prom:
        backfill_s = time.perf_counter() - started
        day = str(cfg.date_of(0))[:10]
        scratch = root / "scratch"
        scratch.mkdir()
        started = time.perf_counter()
        pulled = pull_day(PrometheusConfig(prom.url, workers=workers), day, scratch)
        pull_s = time.perf_counter() - started
        with duckdb.connect(str(root / "warehouse.duckdb")) as con:
            summary = replace_day(con, PROMETHEUS, day, pulled.files)
        total_s = time.perf_counter() - started
    return {
        "gpus": cfg.hosts * 8,
        "metric_samples": pulled.samples,
        "rows_loaded": summary["rows_loaded"],
        "response_mb": round(pulled.response_bytes / 1e6, 1),
        "backfill_s": round(backfill_s, 1),
        "pull_s": round(pull_s, 2),
        "pull_and_load_s": round(total_s, 2),
        "pull_samples_per_s": round(pulled.samples / pull_s),
        "prometheus_samples_per_s": round(pulled.samples / total_s),
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser("python -m bench.prometheus_pull", description=__doc__)
    p.add_argument("--gpus", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(args.gpus, args.workers, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
