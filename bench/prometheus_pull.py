"""`python -m bench.prometheus_pull --gpus 200`: the Prometheus pull's throughput against a local Prometheus.

One day of the bench fleet's columnar samples (1-minute samples, every DCGM field) is backfilled into a local
Prometheus (generators/prometheus.py); then the day is pulled (24 hourly queries over HTTP, JSON to columns in
DuckDB) and replaced in a fresh raw DuckDB file through the columnar loader. Prints metric samples per second
into raw (pull + load; a metric sample is one value of one DCGM field of one GPU) and its parts: the server's
answers alone (fetched and thrown away), the pull, the load, and the CPU per sample of the client and of the
server, which share the machine's cores here. `measure()` is the same, for another bench to call."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from generators.fleet_scale import BenchFleet, write
from generators.prometheus import start_local_prometheus
from pipelines.ingest.prometheus import CHUNK, PrometheusConfig, pull_day, selector
from pipelines.ingest.registry import PROMETHEUS
from pipelines.ingest.writer import replace_day


def measure(gpus: int, workers: int, root: Path) -> dict:
    """Backfill, serve and pull one day of `gpus` GPUs under `root` (an empty directory); the figures."""
    fleet = BenchFleet(gpus=gpus, days=1, slice_minutes=0)
    write(fleet, root)
    parquet = sorted((root / "landing" / "gpu_samples").rglob("*.parquet"))
    started = time.perf_counter()
    with start_local_prometheus(parquet, root / "tsdb") as prom:
        backfill_s = time.perf_counter() - started
        day = str(fleet.date_of(0))[:10]
        cfg = PrometheusConfig(prom.url, workers=workers)
        server = _Cpu(prom.process.pid)

        answers = _Clock(server)
        with answers:
            _fetch_and_discard(cfg, day)
        scratch = root / "scratch"
        scratch.mkdir()
        pull = _Clock(server)
        with pull:
            pulled = pull_day(cfg, day, scratch)
        load = _Clock(server)
        with load, duckdb.connect(str(root / "warehouse.duckdb")) as con:
            summary = replace_day(con, PROMETHEUS, day, pulled.files)

    n = pulled.samples
    total_s = pull.wall + load.wall
    return {
        "gpus": fleet.hosts * 8,
        "workers": workers,
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),  # other work on the machine (the server is idle at rest)
        "metric_samples": n,
        "rows_loaded": summary["rows_loaded"],
        "response_mb": round(pulled.response_bytes / 1e6, 1),
        "backfill_s": round(backfill_s, 1),
        "answers_alone_s": round(answers.wall, 2),  # the server evaluating and sending, the client discarding
        "answers_server_cpu_s": _round(answers.server),
        "pull_s": round(pull.wall, 2),  # download and JSON -> columnar Parquet, hours overlapped
        "load_s": round(load.wall, 2),  # the Parquet checked and replaced into raw
        "pull_and_load_s": round(total_s, 2),
        "pull_samples_per_s": round(n / pull.wall),
        "prometheus_samples_per_s": round(n / total_s),
        # what a server on other cores would leave: the client's CPU alone, and the server's during the pull
        "client_cpu_us_per_sample": round((pull.client + load.client) / n * 1e6, 2) if n else None,
        "server_cpu_us_per_sample": _round(pull.server / n * 1e6 if n and pull.server is not None else None),
    }


def _fetch_and_discard(cfg: PrometheusConfig, day: str) -> int:
    """The day's 24 queries asked as the pull asks them, the answers read and dropped: the server's part."""
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC)
    query = f"{selector(cfg.metrics)}[1h]"

    def fetch(hour: datetime) -> int:
        at = hour + CHUNK - timedelta(milliseconds=1)
        params = {"query": query, "time": f"{at.timestamp():.3f}"}
        with session.get(cfg.url + "/api/v1/query", params=params, stream=True) as answer:
            answer.raise_for_status()
            return sum(len(block) for block in answer.iter_content(1 << 20))

    with cfg.session() as session, ThreadPoolExecutor(cfg.workers) as pool:
        return sum(pool.map(fetch, [start + i * CHUNK for i in range(24)]))


class _Cpu:
    """A process's CPU seconds so far, from /proc (None where there is none)."""

    def __init__(self, pid: int):
        self.stat = Path(f"/proc/{pid}/stat")

    def seconds(self) -> float | None:
        if not self.stat.exists():
            return None
        fields = self.stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class _Clock:
    """Wall time, this process's CPU and the server's CPU over a `with` block."""

    def __init__(self, server: _Cpu):
        self.server_cpu = server

    def __enter__(self) -> _Clock:
        self._wall, self._client, self._server = time.perf_counter(), time.process_time(), self.server_cpu.seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.client = time.process_time() - self._client
        after = self.server_cpu.seconds()
        self.server = None if after is None or self._server is None else after - self._server


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser("python -m bench.prometheus_pull", description=__doc__)
    p.add_argument("--gpus", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(measure(args.gpus, args.workers, Path(tmp)), indent=2))


if __name__ == "__main__":
    main()
