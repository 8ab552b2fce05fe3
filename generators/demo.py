"""`python -m generators.demo [--dataset NAME] [SIMULATOR ARGS]`: land a freshly simulated fleet (or a public
trace), then materialize every asset through the pipeline's own Dagster jobs, publish, and print the summary.

    python -m generators.demo                          # the default simulated fleet (make demo)
    python -m generators.demo --days 7 --seed 3        # simulator knobs (make demo SIM_ARGS="--days 7 --seed 3")
    python -m generators.demo --dataset philly-2017    # a public trace (make demo DATASET=philly-2017)
    python -m generators.demo --telemetry prometheus   # GPU telemetry pulled from a local Prometheus (make demo
                                                       # TELEMETRY=prometheus)"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from generators.prometheus import start_local_prometheus
from generators.sim.__main__ import main as simulate
from generators.traces import DATASETS, land
from pipelines.cli import materialize_all, summary
from pipelines.ingest.landing import landed_partitions
from pipelines.lib import settings


def _path(var: str, default: Path) -> Path:
    return Path(os.getenv(var) or default).resolve()


def traces_dir() -> Path:
    """The public traces (see docs/datasets.md): a sibling of the repository unless TRACES_DIR says otherwise."""
    return _path("TRACES_DIR", settings.ROOT.parent / "shared" / "traces")


def dataset_root(name: str) -> Path:
    """Where a public-trace dataset's landing area and working warehouse live, apart from the simulator's."""
    return _path("DATASETS_DIR", settings.ROOT / "data" / "datasets") / name


def land_dataset(name: str, epoch: str | None = None) -> None:
    """A fresh landing area and working warehouse for a public trace (apart from the simulator's), then its
    account: every trace row written or rejected. The published warehouse is the usual one."""
    root = dataset_root(name)
    os.environ["LANDING_DIR"] = str(root / "landing")
    os.environ["WAREHOUSE_WORK_PATH"] = str(root / "build" / "warehouse.duckdb")
    shutil.rmtree(root / "build", ignore_errors=True)  # a dataset is rebuilt whole: no rows of an earlier build
    options = {"epoch": datetime.fromisoformat(epoch).replace(tzinfo=UTC)} if epoch else {}
    account = land(name, traces_dir(), settings.landing_dir(), **options)
    for trace_file, a in account.items():
        rejected = ", ".join(f"{n:,} {reason}" for reason, n in a["rejected"].items()) or "none"
        print(f"{trace_file}: {a['read']:,} rows read, {a['written']:,} written, rejected: {rejected}", flush=True)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        "python -m generators.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--dataset", choices=sorted(DATASETS), help="build from this public trace, not the simulator")
    p.add_argument(
        "--telemetry",
        choices=["files", "prometheus"],
        default="files",
        help="prometheus: serve the simulated columnar telemetry from a local Prometheus and pull it from there",
    )
    p.add_argument("--epoch", help="anchor of a trace's relative times (alibaba-gpu-2023), e.g. 2023-01-01")
    # every other argument is the simulator's (python -m generators.sim --help lists them)
    args, sim_args = p.parse_known_args(argv)
    if args.dataset and args.telemetry == "prometheus":
        p.error("--telemetry prometheus serves the simulator's telemetry; it does not apply to --dataset")
    if args.dataset and sim_args:
        p.error(f"simulator arguments ({' '.join(sim_args)}) do not apply to --dataset")
    if args.dataset:
        land_dataset(args.dataset, args.epoch)
    else:
        simulate(["--out", str(settings.landing_dir()), *sim_args])
    record_replay_window()
    if args.telemetry == "prometheus":
        with serve_from_prometheus() as prom:
            materialize_all()
            print(pulled_line(prom))
    else:
        materialize_all()
    print(summary())


def record_replay_window() -> None:
    """A replay's partitions are its landed days: none roll on to today (pipelines/lib/settings.py)."""
    days = landed_partitions(settings.landing_dir())
    window = settings.replay_window_file()
    window.parent.mkdir(parents=True, exist_ok=True)
    window.write_text(json.dumps({"first": days[0], "last": days[-1]}) if days else "{}")


@contextmanager
def serve_from_prometheus():
    """The simulated columnar telemetry moved out of the landing area into a local Prometheus (backfilled with
    promtool, served on 127.0.0.1), and the warehouse pointed at it (PROMETHEUS_URL) while it runs."""
    landing = settings.landing_dir()
    parquet = sorted((landing / "gpu_samples").rglob("*.parquet"))
    if not parquet:
        raise SystemExit(f"no columnar telemetry under {landing / 'gpu_samples'} to serve from Prometheus")
    home = settings.work_db().parent / "prometheus"
    shutil.rmtree(home, ignore_errors=True)
    moved = home / "gpu_samples"
    shutil.move(landing / "gpu_samples", moved)
    served = sorted(moved.rglob("*.parquet"))
    prom = start_local_prometheus(served, home / "tsdb", log=home / "prometheus.log")
    print(
        f"serve    {prom.samples:,} samples of {len(served)} host-day(s) of GPU telemetry from Prometheus at {prom.url}"
    )
    previous = os.environ.get("PROMETHEUS_URL")
    os.environ["PROMETHEUS_URL"] = prom.url
    try:
        yield prom
    finally:
        prom.stop()
        if previous is None:
            os.environ.pop("PROMETHEUS_URL", None)
        else:
            os.environ["PROMETHEUS_URL"] = previous


def pulled_line(prom) -> str:
    with duckdb.connect(str(settings.work_db()), read_only=True) as con:
        queries, days, rows = con.execute(
            "select count(*), count(distinct partition_date), coalesce(sum(rows_loaded), 0) from raw.load_audit "
            "where table_name = 'prometheus_samples'"
        ).fetchall()[0]
    return (
        f"pulled   {queries} Prometheus queries over {days} day(s) from {prom.url}: {rows:,} GPU samples "
        "into raw.prometheus_samples (the marts read them as they read columnar files)"
    )


if __name__ == "__main__":
    sys.exit(main())
