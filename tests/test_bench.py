"""The benchmark's code on a toy fleet (make test runs it as a smoke test; the figures mean nothing at this size),
and what it proves along the way: a warehouse grown one day at a time equals one built at once."""

import json
import subprocess

import duckdb
import pytest
from test_publish import contents

from pipelines.lib.publish import publish_warehouse
from pipelines.lib.settings import ROOT

KEYS = [
    "gpus",
    "days",
    "samples",
    "ingest_samples_per_s",
    "pipeline_s",
    "floor_s",
    "fair_floor_s",
    "pandas_s",
    "one_day_build_s",
    "fixed_overhead_s",
    "peak_rss_bytes",
    "pipeline_to_floor",
    "pandas_to_pipeline",
    "incremental_to_one_day",
    # issue 20's
    "history_days",
    "day_last_s",
    "day_3_s",
    "history_day_ratio",
    "history_day_cpu_ratio",
    "published_bytes_per_gpu_day",
    "pipeline_to_fair_floor",
    "s_per_million_samples",
    "analyst_query_median_s",
    "analyst_query_max_s",
    "prometheus_samples_per_s",
]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """The README's `make bench`, on the smoke fleet (tests/test_readme.py counts on this run)."""
    root = tmp_path_factory.mktemp("bench")
    out = root / "latest.json"
    subprocess.run(
        ["make", "bench", f"BENCH_ARGS=--smoke --out {out} --work {root / 'work'}"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return json.loads(out.read_text()), root / "work"


def test_bench_writes_every_figure(smoke):
    res, _ = smoke
    assert set(KEYS) <= set(res)
    assert res["gpus"] == 24 and res["samples"] == 24 * 3 * 1440  # 3 hosts, 3 days of 1-minute samples
    assert set(res["ingest_samples_per_s"]) == {"columnar", "dcgm_samples", "nvidia_smi_samples"}
    assert all(v > 0 for v in res["ingest_samples_per_s"].values())
    assert res["peak_rss_bytes"] > 50 * 2**20  # the sampler saw the process tree
    marginal = (res["pipeline_s"] - res["fixed_overhead_s"]) / res["floor_s"]
    assert res["pipeline_to_floor"] == pytest.approx(marginal, rel=0.01, abs=0.05)
    assert res["history_days"] == 2 and res["history_day_ratio"] == pytest.approx(1.0)  # day 3 is the last day
    assert res["day_3_cpu_s"] > 1 and res["pipeline_cpu_s"] > 1  # the CPU of the whole tree, dbt included
    # the timed day is run again (its files read anew) and the least run counts
    (point,) = res["history_points"]
    assert len(point["day_runs_s"]) == len(point["day_runs_cpu_s"]) == 2 and point["day_s"] == min(point["day_runs_s"])
    assert res["analyst_queries"]["queries"] == len(res["analyst_queries"]["seconds"]) >= 12 + 10
    # bench/prometheus_pull.py's measure(), as the run calls it
    pulled = res["prometheus"]
    assert pulled["metric_samples"] >= pulled["rows_loaded"] > 1000 and res["prometheus_samples_per_s"] > 0
    assert pulled["client_cpu_us_per_sample"] > 0
    assert pulled["pull_and_load_s"] == pytest.approx(pulled["pull_s"] + pulled["load_s"], abs=0.02)


def test_the_floor_equals_the_marts_row_for_row(smoke):
    """The hand-written floor computes the marts' seconds per GPU x hour x holder x capacity state."""
    res, _ = smoke
    agreement = res["agreement"]
    assert agreement["mart_rows"] > 24 * 3 * 24  # a row per GPU-hour and state held, at least
    assert agreement["floor_rows"] == agreement["mart_rows"]
    assert agreement["differing_rows"] == 0
    assert agreement["max_abs_diff_s"] < 1e-6
    assert res["fair_floor_s"] == res["floor_s"]


def day_figures(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select usage_date, cluster, gpu_model, round(capacity_gpu_hours, 6), "
            "round(allocated_active_gpu_hours, 6), "
            "round(idle_no_demand_gpu_hours + idle_fragmented_gpu_hours, 6), round(gpu_util_ratio, 6) "
            "from marts.fct_fleet_utilization_daily order by all"
        ).fetchall()


def hour_figures(path):
    """Every hourly row of the incremental marts, its capacity states and what it charges, per GPU-hour."""
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "select c.hour_at, c.host_id, c.gpu_index, round(c.existing_s, 6), round(c.observed_s, 6), "
            "round(c.allocated_active_s, 6), round(c.idle_no_demand_s, 6), round(c.down_unplanned_s, 6), "
            "round(h.allocated_s, 6), h.primary_holder_id, round(h.gpu_util_ratio, 9), "
            "(select round(sum(cost_usd), 6) from marts.fct_cost_allocation_monthly) "
            "from marts.fct_gpu_capacity_hourly c join marts.fct_gpu_hourly h using (hour_at, host_id, gpu_index) "
            "order by all"
        ).fetchall()


def test_a_warehouse_grown_day_by_day_equals_one_built_at_once(smoke):
    """The incremental models (built on 2 days, then one more, run twice) give the marts a full build gives, and the
    published file brought up to date by what the third day changed holds what a full copy of its working file
    holds, raw tables pseudonymised as the full copy pseudonymises them."""
    _, work = smoke
    grown, at_once = (work / "history" / "warehouse.duckdb", work / "pipeline" / "warehouse.duckdb")
    assert len({r[0] for r in day_figures(at_once)}) == 3
    assert day_figures(grown) == day_figures(at_once)
    hours = hour_figures(at_once)
    assert len(hours) == 24 * 3 * 24  # 24 GPUs x 3 days x 24 hours
    assert hour_figures(grown) == hours
    published = work / "history" / "warehouse.duckdb"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select count(*) from meta.publish_state").fetchall() == [(1,)]
    full = work / "full-copy" / "warehouse.duckdb"
    assert publish_warehouse(work / "history" / "build" / "warehouse.duckdb", full, scrub=True).how.startswith("copied")
    assert contents(published) == contents(full)
