"""`make bench`: the warehouse at fleet scale, measured against a hand-written SQL floor and a pandas peer.

    python -m bench.run --gpus 10000 --days 7            # the default scale: 100.8 million GPU samples
    python -m bench.run --smoke --out smoke.json           # the same code on a toy fleet (make test runs this)

One run, on the same generated data: ingest throughput per raw format, the whole pipeline through Dagster and
dbt, the floor, the peer, the fixed overhead; then a warehouse grown to half a year of history, timing one more
day at several lengths of history and the analysts' queries on it; then the Prometheus pull. Prints a table and
writes the figures as JSON (bench/results/latest.json by default)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from bench.floor import run_floor
from bench.measure import Measured, run_measured
from bench.peer import pandas_daily_utilisation
from bench.prometheus_pull import measure as measure_prometheus_pull
from bench.queries import time_queries
from generators.fleet_scale import BenchFleet, write
from pipelines.ingest.landing import landed
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day
from pipelines.lib import settings

RESULTS = settings.ROOT / "bench" / "results"
WORK = settings.ROOT / "data" / "bench"
DCGM_FAMILIES = 9  # metric lines per GPU sample in the rendered dcgm-exporter text


@dataclass(frozen=True)
class Plan:
    gpus: int
    days: int
    history_gpus: int
    # the lengths of history (days built) at which one more day is timed; the first is the 2-day warehouse the
    # others are compared with, the last is the one the analysts' queries are timed on
    history_points: tuple[int, ...]
    prometheus_gpus: int = 200
    overhead_gpus: int = 16
    overhead_runs: int = 3
    # each timed day of the history is run this many times and the least counts, as for the fixed overhead: on a
    # shared machine noise only adds time (docs/performance.md)
    day_runs: int = 3
    threads: int = 2
    memory_limit: str = "4GB"
    slice_minutes: int = 10
    scale_only: bool = False
    with_history: bool = True


def fleet_at(root: Path, cfg: BenchFleet) -> tuple[Path, dict]:
    """Generate the fleet under root, or reuse it when the same configuration is already there."""
    marker = root / "fleet.json"
    wanted = json.dumps(asdict(cfg), default=str, sort_keys=True)
    if marker.exists() and json.loads(marker.read_text())["config"] == wanted:
        return root / "landing", json.loads(marker.read_text())["figures"] | {"generate_s": None}
    start = time.perf_counter()
    figures = write(cfg, root)
    figures["generate_s"] = round(time.perf_counter() - start, 2)
    marker.write_text(json.dumps({"config": wanted, "figures": figures}))
    return root / "landing", figures


class Workspace:
    """A fresh warehouse (work file, published file, Dagster instance) reading one landing area."""

    def __init__(self, root: Path, landing: Path, plan: Plan):
        self.root, self.landing, self.plan = root, landing, plan
        if root.exists():
            shutil.rmtree(root)
        (root / "dagster_home").mkdir(parents=True)
        shutil.copy(settings.ROOT / "dagster.yaml", root / "dagster_home" / "dagster.yaml")
        # as a deployment does once (make setup): dbt parses the project for this warehouse's profile, so every
        # run after reuses the parse instead of paying for a full one (the profile holds the file's path)
        subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "parse", "--quiet", "--profiles-dir", "."],
            cwd=settings.DBT_DIR,
            env=self.env(),
            check=True,
        )

    @property
    def published(self) -> Path:
        return self.root / "warehouse.duckdb"

    def env(self) -> dict[str, str]:
        return os.environ | {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "LANDING_DIR": str(self.landing),
            "WAREHOUSE_WORK_PATH": str(self.root / "build" / "warehouse.duckdb"),
            "WAREHOUSE_PATH": str(self.published),
            "DAGSTER_HOME": str(self.root / "dagster_home"),
            "DUCKDB_THREADS": str(self.plan.threads),
            "DUCKDB_MEMORY_LIMIT": self.plan.memory_limit,
        }

    def published_bytes(self) -> int:
        return self.published.stat().st_size

    def materialize(self, days: list[str] | None = None, log: str = "materialize") -> Measured:
        cmd = [sys.executable, "-m", "pipelines.cli", "materialize", *(f"--day={d}" for d in days or [])]
        return run_measured(cmd, self.env(), self.root / f"{log}.log", settings.ROOT)

    def rerun(self, day: str, log: str) -> Measured:
        """The day's nightly run again, as when its files are delivered anew: without its load audit rows the
        ingest reads its files again, and the refresh rebuilds what they changed and publishes it."""
        with duckdb.connect(self.env()["WAREHOUSE_WORK_PATH"]) as con:
            con.execute("delete from raw.load_audit where partition_date = ?", [day])
        return self.materialize([day], log=log)


def day_keys(cfg: BenchFleet) -> list[str]:
    return [(cfg.start + timedelta(days=d)).strftime("%Y-%m-%d") for d in range(cfg.days)]


def ingest_throughput(landing: Path, slices: Path, day: str, plan: Plan) -> dict:
    """Each raw format through its loader into a scratch DuckDB file: GPU samples/s and bytes/s."""
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(
            str(Path(tmp) / "ingest.duckdb"), config={"threads": plan.threads, "memory_limit": plan.memory_limit}
        )
        con.execute("set TimeZone = 'UTC'")
        for table, folder, per_sample in (
            ("gpu_samples", landing, 1),
            ("dcgm_samples", slices, DCGM_FAMILIES),
            ("nvidia_smi_samples", slices, 1),
        ):
            files = sorted((folder / table / f"dt={day}").glob("*"))
            start = time.perf_counter()
            summary = replace_day(con, BY_TABLE[table], day, landed(files, folder))
            name = "columnar" if table == "gpu_samples" else table
            out[name] = _rates(summary["rows_loaded"] / per_sample, sum(f.stat().st_size for f in files), start)
            # a row read: a Prometheus sample (one metric of one GPU) for dcgm text, a GPU sample otherwise
            out[name]["rows_per_s"] = round(summary["rows_read"] / out[name]["seconds"])
        con.close()
    return out


def _rates(samples: float, size: int, start: float) -> dict:
    seconds = time.perf_counter() - start
    return {
        "samples": int(samples),
        "bytes": size,
        "seconds": round(seconds, 2),
        "samples_per_s": round(samples / seconds),
        "bytes_per_s": round(size / seconds),
    }


AGREEMENT_SQL = """
with held as (
    select hour_at, host_id, gpu_index, allocation_source, allocation_id,
        held_s - held_idle_s as allocated_active, held_idle_s as allocated_idle
    from warehouse.marts.fct_gpu_holder_hourly
),

free as (
    select hour_at, host_id, gpu_index, down_unplanned_s as down_unplanned, down_planned_s as down_planned,
        reserved_dr_s as reserved_dr, reserved_push_s as reserved_push, idle_hw_mismatch_s as idle_hw_mismatch,
        idle_fragmented_s as idle_fragmented, idle_no_demand_s as idle_no_demand
    from warehouse.marts.fct_gpu_capacity_hourly
),

-- the allocated states per holder, the others per GPU-hour (holder NULL), as the floor has them
marts as (
    select * from (unpivot held on allocated_active, allocated_idle into name capacity_state value seconds)
    union all by name
    select * from (unpivot free on columns(* exclude (hour_at, host_id, gpu_index))
        into name capacity_state value seconds)
),

paired as (
    select f.seconds as floor_s, m.seconds::double as mart_s
    from (select * from floor where seconds <> 0) as f
    full join (select * from marts where seconds <> 0) as m
        on f.hour_at = m.hour_at
        and f.host_id = m.host_id
        and f.gpu_index = m.gpu_index
        and f.capacity_state = m.capacity_state
        and f.allocation_source is not distinct from m.allocation_source
        and f.allocation_id is not distinct from m.allocation_id
)

select
    count(floor_s) as floor_rows,
    count(mart_s) as mart_rows,
    count(*) filter (where abs(coalesce(floor_s, 0) - coalesce(mart_s, 0)) > 1e-6) as differing_rows,
    coalesce(max(abs(coalesce(floor_s, 0) - coalesce(mart_s, 0))), 0) as max_abs_diff_s
from paired
"""


def pipeline_agreement(published: Path, floor: pa.Table) -> dict:
    """The floor must equal the marts: seconds per GPU x hour x holder x capacity state, row for row."""
    with duckdb.connect() as con:
        con.execute("attach ? as warehouse (read_only)", [str(published)])
        con.register("floor", floor)
        row = con.execute(AGREEMENT_SQL).fetchone()
    return dict(zip(("floor_rows", "mart_rows", "differing_rows", "max_abs_diff_s"), row, strict=True))


def machine() -> dict:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    mem = next(int(ln.split()[1]) * 1024 for ln in open("/proc/meminfo") if ln.startswith("MemTotal"))
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def run(plan: Plan, work: Path) -> dict:
    interval = 60
    main_cfg = BenchFleet(gpus=plan.gpus, days=plan.days, slice_minutes=plan.slice_minutes)
    landing, figures = fleet_at(work / f"fleet-{plan.gpus}x{plan.days}", main_cfg)
    days = day_keys(main_cfg)
    res: dict = {
        "gpus": figures["gpus"],
        "days": plan.days,
        "samples": figures["samples"],
        "generate_s": figures["generate_s"],
        "duckdb_threads": plan.threads,
        "duckdb_memory_limit": plan.memory_limit,
        "machine": machine(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    print(f"fleet: {res['gpus']} GPUs x {plan.days} days = {res['samples']:,} GPU samples", flush=True)

    ingest = ingest_throughput(landing, landing.parent / "slices", days[0], plan)
    res["ingest"] = ingest
    res["ingest_samples_per_s"] = {k: v["samples_per_s"] for k, v in ingest.items()}

    ws = Workspace(work / "pipeline", landing, plan)
    res["pipeline_s"], res["peak_rss_bytes"], res["pipeline_cpu_s"] = ws.materialize(log="pipeline")
    print(f"pipeline: {res['pipeline_s']:.1f} s", flush=True)

    start = time.perf_counter()
    floor = run_floor(landing, plan.threads, plan.memory_limit)
    res["floor_s"] = res["fair_floor_s"] = round(time.perf_counter() - start, 2)
    res["agreement"] = pipeline_agreement(ws.published, floor)

    start = time.perf_counter()
    pandas_daily_utilisation(landing, interval)
    res["pandas_s"] = round(time.perf_counter() - start, 2)

    if plan.scale_only:  # a point of the scaling table: the per-scale figures only
        return finish(res)
    if plan.overhead_gpus:
        tiny = BenchFleet(gpus=plan.overhead_gpus, days=1, slice_minutes=0)
        tiny_landing, _ = fleet_at(work / "fleet-overhead", tiny)
        # a fixed cost only gains from noise (a busy disk, a cold page cache after the big run): the least of a
        # few runs, each in a fresh workspace and Dagster instance, is the cost itself
        runs = [
            Workspace(work / "overhead", tiny_landing, plan).materialize(log=f"overhead-{n}")[0]
            for n in range(plan.overhead_runs)
        ]
        res["fixed_overhead_runs_s"] = [round(r, 2) for r in runs]
        res["fixed_overhead_s"] = min(runs)

    if not plan.with_history:
        return finish(res)
    res |= history(plan, work)
    if not plan.overhead_gpus:  # the smoke run's fleets are tiny already: its 1-day build is the overhead
        res["fixed_overhead_s"] = res["one_day_build_s"]
    res |= prometheus_pull(plan, work)
    res["peak_rss_bytes"] = max(res["peak_rss_bytes"], res["history_peak_rss_bytes"])
    return finish(res)


def history(plan: Plan, work: Path) -> dict:
    """One warehouse grown to each length of history, one more day timed at each (ingest, refresh, publish: what
    the nightly run does), compared with the same step on a 2-day warehouse; a 1-day warehouse built from scratch
    for reference; the analysts' queries timed on the longest history."""
    cfg = BenchFleet(gpus=plan.history_gpus, days=plan.history_points[-1] + 1, slice_minutes=0)
    landing, _ = fleet_at(work / f"history-{cfg.gpus}x{cfg.days}", cfg)
    days = day_keys(cfg)
    ws = Workspace(work / "history", landing, plan)
    built, points, peak = 0, [], 0
    for length in plan.history_points:
        point, rss = grow_and_time(ws, days, built, length)
        built, peak = length + 1, max(peak, rss)
        points.append(point)
        print(f"history: day {length + 1} on a {length}-day warehouse: {point['day_s']:.1f} s", flush=True)
    if plan.overhead_gpus:
        one_day_s, rss, _ = Workspace(work / "one-day", landing, plan).materialize(days[:1], log="one-day")
    else:  # the smoke run (history points (2,)): the history's first run built the same day from scratch already
        one_day_s, rss = points[0]["first_run_s"], 0
    queries = time_queries(ws.published)
    last = points[-1]
    return {
        "history_gpus": cfg.hosts * 8,
        "history_days": last["history_days"],
        "history_points": points,
        "day_3_s": points[0]["day_s"],
        "day_last_s": last["day_s"],
        "day_3_cpu_s": points[0]["day_cpu_s"],
        "day_last_cpu_s": last["day_cpu_s"],
        "one_day_build_s": round(one_day_s, 2),
        "published_bytes": last["published_bytes"],
        "published_bytes_per_gpu_day": round(last["published_bytes"] / (cfg.hosts * 8 * (last["history_days"] + 1))),
        "analyst_queries": queries,
        "analyst_query_median_s": queries["median_s"],
        "analyst_query_max_s": queries["max_s"],
        "history_peak_rss_bytes": max(peak, rss),
    }


def grow_and_time(ws: Workspace, days: list[str], built: int, length: int) -> tuple[dict, int]:
    """Grow the warehouse from `built` to `length` days, then time day length + 1. The last grown day is a run of
    its own, as a nightly run is: a publish brings the standby version up to date with what changed since that
    version was published, which after a bulk run is the whole bulk; after a day's run it is two days."""
    bulk_s, rss = 0.0, 0
    if length - 1 > built:
        bulk_s, rss, _ = ws.materialize(days[built : length - 1], log=f"history-to-{length - 1}")
    settle = ws.materialize(days[length - 1 : length], log=f"history-day-{length}")
    runs = [ws.materialize(days[length : length + 1], log=f"history-day-{length + 1}")]
    for n in range(2, ws.plan.day_runs + 1):
        runs.append(ws.rerun(days[length], log=f"history-day-{length + 1}-run-{n}"))
    day = min(runs, key=lambda r: r.wall_s)
    point = {
        "history_days": length,
        "bulk_s": round(bulk_s + settle.wall_s, 2),
        "first_run_s": round(bulk_s or settle.wall_s, 2),
        "day_s": round(day.wall_s, 2),
        "day_cpu_s": round(day.cpu_s, 2),
        "day_runs_s": [round(r.wall_s, 2) for r in runs],
        "day_runs_cpu_s": [round(r.cpu_s, 2) for r in runs],
        "published_bytes": ws.published_bytes(),
    }
    return point, max(rss, settle.peak_rss_bytes, *(r.peak_rss_bytes for r in runs))


def prometheus_pull(plan: Plan, work: Path) -> dict:
    """A day of telemetry pulled from a local Prometheus into raw (bench/prometheus_pull.py)."""
    root = work / "prometheus"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    figures = measure_prometheus_pull(plan.prometheus_gpus, 4, root)
    return {"prometheus": figures, "prometheus_samples_per_s": figures["prometheus_samples_per_s"]}


def finish(res: dict) -> dict:
    """The ratios, from what was measured (None where a part was not run)."""
    res["pandas_to_pipeline"] = round(res["pandas_s"] / res["pipeline_s"], 2)
    if "fixed_overhead_s" not in res:
        return res
    marginal = res["pipeline_s"] - res["fixed_overhead_s"]
    res["pipeline_to_floor"] = round(marginal / res["floor_s"], 2)
    res["pipeline_to_fair_floor"] = res["pipeline_to_floor"]
    res["s_per_million_samples"] = round(marginal / (res["samples"] / 1e6), 3)
    if "day_last_s" in res:
        res["history_day_ratio"] = round(res["day_last_s"] / res["day_3_s"], 3)
        # the same ratio in CPU seconds: what the days cost, whatever else ran on the machine meanwhile
        res["history_day_cpu_ratio"] = round(res["day_last_cpu_s"] / res["day_3_cpu_s"], 3)
        res["incremental_to_one_day"] = round(res["day_last_s"] / res["one_day_build_s"], 2)
    for key in ("pipeline_s", "pipeline_cpu_s", "fixed_overhead_s"):
        res[key] = round(res[key], 2)
    return res


def table(res: dict) -> str:
    gib = res["peak_rss_bytes"] / 2**30
    rows = [
        ("fleet", f"{res['gpus']:,} GPUs x {res['days']} days, {res['samples']:,} GPU samples"),
        *(
            (
                f"ingest {fmt}",
                f"{v['samples_per_s']:,} GPU samples/s, {v['bytes_per_s'] / 2**20:,.0f} MiB/s"
                + f", {v['rows_per_s']:,} rows read/s",
            )
            for fmt, v in res["ingest"].items()
        ),
        ("pipeline (Dagster + dbt, all assets)", f"{res['pipeline_s']:,.1f} s"),
        ("floor (hand-written DuckDB SQL)", f"{res['floor_s']:,.1f} s"),
        ("pandas peer (day by day)", f"{res['pandas_s']:,.1f} s"),
        ("pandas_to_pipeline", f"{res['pandas_to_pipeline']}  (target >= 3)"),
        ("peak RSS (process tree)", f"{gib:.2f} GiB  (target <= 6)"),
        ("floor vs marts: rows differing", "{differing_rows:,} of {mart_rows:,}".format(**res["agreement"])),
    ]
    if "fixed_overhead_s" in res:
        rows += [
            (
                "fixed overhead (16-GPU fleet, least of runs)",
                f"{res['fixed_overhead_s']:,.1f} s  (runs {res.get('fixed_overhead_runs_s')})",
            ),
            ("pipeline_to_fair_floor  (pipeline - overhead) / floor", f"{res['pipeline_to_floor']}  (target <= 3)"),
            ("(pipeline - overhead) per million GPU samples", f"{res['s_per_million_samples']} s  (target <= 1.5)"),
        ]
    if "day_last_s" in res:
        rows += [
            *(
                (
                    f"one more day on a {p['history_days']}-day, {res['history_gpus']:,}-GPU warehouse",
                    f"{p['day_s']} s ({p['day_cpu_s']} s of CPU)",
                )
                for p in res["history_points"]
            ),
            ("history_day_ratio  day last / day 3", f"{res['history_day_ratio']}  (target <= 1.15)"),
            ("  the same in CPU seconds", f"{res['history_day_cpu_ratio']}"),
            ("one-day warehouse from scratch", f"{res['one_day_build_s']:,.1f} s"),
            ("published bytes per GPU-day", f"{res['published_bytes_per_gpu_day']:,}"),
            (
                f"analysts' queries ({res['analyst_queries']['queries']}), cold",
                f"median {res['analyst_query_median_s']} s, max {res['analyst_query_max_s']} s"
                f" ({res['analyst_queries']['slowest']})  (targets <= 1, <= 3)",
            ),
        ]
    if "prometheus_samples_per_s" in res:
        rows.append(("Prometheus pull into raw", f"{res['prometheus_samples_per_s']:,} samples/s  (target >= 1M)"))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gpus", type=int, default=10_000)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--history-gpus", type=int, default=1_000)
    p.add_argument("--history-points", default="2,30,90,180", help="days of history at which one more day is timed")
    p.add_argument("--prometheus-gpus", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--memory-limit", default="4GB")
    p.add_argument("--scale-only", action="store_true", help="skip the fixed-overhead, history and Prometheus parts")
    p.add_argument("--no-history", action="store_true", help="skip the history and Prometheus parts")
    p.add_argument("--smoke", action="store_true", help="a toy fleet: checks the bench code, measures nothing")
    p.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    p.add_argument("--work", type=Path, default=WORK)
    a = p.parse_args(argv)
    if a.smoke:
        # the main fleet and the history's are the same: their warehouses must agree (tests/test_bench.py)
        plan = Plan(
            24, 3, history_gpus=24, history_points=(2,), prometheus_gpus=8, slice_minutes=5, overhead_gpus=0, day_runs=2
        )
    else:
        plan = Plan(
            a.gpus,
            a.days,
            a.history_gpus,
            tuple(int(d) for d in a.history_points.split(",")),
            a.prometheus_gpus,
            threads=a.threads,
            memory_limit=a.memory_limit,
            scale_only=a.scale_only,
            with_history=not a.no_history,
        )
    res = run(plan, a.work)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2) + "\n")
    print(table(res))
    print(f"figures: {a.out}")


if __name__ == "__main__":
    main()
