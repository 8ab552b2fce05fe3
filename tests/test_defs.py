"""The code location: what Dagster loads, and that it wires up the way the warehouse needs."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg
import pytest
from dagster_dbt import get_asset_keys_by_output_name_for_source

from pipelines.ingest.registry import PROMETHEUS, SOURCES
from pipelines.lib import settings


@pytest.fixture(scope="module")
def defs(project_env):
    from pipelines.definitions import defs as load

    return load()


@pytest.fixture(scope="module")
def dbt_assets():
    from pipelines.defs.transform.assets import warehouse_dbt_assets

    return warehouse_dbt_assets()


def test_every_raw_source_has_an_ingest_asset_keyed_like_its_dbt_source(defs, dbt_assets):
    keys = defs.resolve_asset_graph().get_all_asset_keys()
    dbt_source_keys = set()
    for name in {s.source for s in SOURCES}:
        dbt_source_keys |= set(get_asset_keys_by_output_name_for_source([dbt_assets], name).values())
    ingest_keys = {dg.AssetKey(s.key) for s in SOURCES}
    pulled = dg.AssetKey(PROMETHEUS.key)  # its ingest asset exists where a Prometheus is configured (test_prometheus)
    assert ingest_keys | {pulled} == dbt_source_keys  # every dbt source table is loaded by exactly one ingest asset
    assert ingest_keys <= keys


def test_every_writer_is_in_the_single_writer_pool(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if node.is_materializable:
            assert node.pools == {"duckdb_writer"}, key


def test_layers_lineage_jobs_schedule_and_sensors(defs):
    graph = defs.resolve_asset_graph()
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert {"ingest", "privacy", "staging", "intermediate", "marts", "publish"} <= groups
    mart = graph.get(dg.AssetKey(["marts", "fct_gpu_hourly"]))
    assert mart.group_name == "marts"
    upstream = graph.get(dg.AssetKey(["staging", "stg_gpu_telemetry__dcgm_samples"])).parent_keys
    # the raw samples, and the identifiers whose names staging redacts
    assert upstream == {
        dg.AssetKey(["gpu_telemetry", "dcgm_samples"]),
        dg.AssetKey(["private", "identifiers_redacted"]),
    }
    assert dg.AssetKey(["marts", "fct_gpu_hourly"]) in graph.get(dg.AssetKey("published_warehouse")).parent_keys
    assert defs.resolve_job_def("ingest_day_job").partitions_def is not None
    assert defs.resolve_job_def("refresh_warehouse_job")
    schedule = defs.resolve_schedule_def("ingest_day_job_schedule")
    assert schedule.cron_schedule == "30 0 * * *"
    assert {s.name for s in defs.sensors} >= {"landing_files_sensor", "refresh_after_ingest_sensor"}
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_gpu_hourly"]) for c in checks)  # dbt tests become asset checks


def test_dagster_definitions_validate_on_the_workspace(project_env):
    out = subprocess.run(
        ["dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=settings.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_partition_window_becomes_dbt_event_time_bounds_a_day_wider():
    from datetime import UTC, datetime

    from pipelines.defs.transform.assets import DbtRunConfig, dbt_build_args

    window = dg.TimeWindow(datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 5, tzinfo=UTC))  # days 03 and 04
    assert dbt_build_args(DbtRunConfig(), window) == [
        "build",
        "--exclude-resource-type",
        "unit_test",
        "--event-time-start",
        "2025-03-02",
        "--event-time-end",
        "2025-03-06",
    ]
    assert dbt_build_args(DbtRunConfig(full_refresh=True, unit_tests=True), None) == ["build", "--full-refresh"]


def test_the_incremental_models_are_partitioned_by_day_and_the_rest_are_not(defs):
    from pipelines.defs.automation.partitions import daily
    from pipelines.defs.transform.assets import incremental_dbt_assets, warehouse_dbt_assets

    incremental, rest = incremental_dbt_assets(), warehouse_dbt_assets()
    assert incremental.partitions_def == daily and rest.partitions_def is None
    names = {k.path[-1] for k in incremental.keys}
    assert names == {
        "int_gpu_hours_spined",
        "int_gpu_hours_by_allocation_and_state",
        "int_gpu_hours_by_allocation",
        "int_gpu_samples_rolled_to_hour",
        "int_gpu_usage_owned",
        "fct_gpu_hourly",
        "fct_gpu_capacity_hourly",
        "fct_fleet_utilization_daily",
        "rpt_capacity_states_hourly",
        "int_gpu_usage_daily",
        "int_host_hours_daily",
        "int_inference_idle_by_hour_daily",
        "focus_gpu_charges",
        "fct_cost_allocation_monthly",
    }
    assert not set(incremental.keys) & set(rest.keys)
    assert not set(incremental.check_keys) & set(rest.check_keys)
    assert defs.resolve_job_def("refresh_warehouse_job").partitions_def == daily


def test_the_microbatch_models_begin_no_later_than_the_first_partition_day():
    import json

    from pipelines.defs.automation.partitions import daily
    from pipelines.defs.transform.assets import incremental_dbt_assets
    from pipelines.defs.transform.project import dbt_project

    nodes = json.loads(dbt_project().manifest_path.read_text())["nodes"].values()
    begins = {n["name"]: n["config"]["begin"] for n in nodes if n["config"].get("incremental_strategy") == "microbatch"}
    assert set(begins) == {key.path[-1] for key in incremental_dbt_assets().keys}
    # one day, written once (dbt var microbatch_begin_day), on or before Dagster's first partition: a run's
    # event-time bounds never start before dbt's first batch
    assert len(set(begins.values())) == 1
    assert min(begins.values()) <= f"{daily.start:%Y-%m-%dT%H:%M:%S}"


def test_the_refresh_after_an_ingest_rebuilds_the_days_it_loaded():
    from pipelines.defs.automation.sensors import partition_tags

    span = {"dagster/asset_partition_range_start": "2025-03-01", "dagster/asset_partition_range_end": "2025-03-09"}
    assert partition_tags(span | {"pipelines/cli_pid": "7", "dagster/backfill": "x"}) == span
    assert partition_tags({"dagster/partition": "2025-03-04"}) == {"dagster/partition": "2025-03-04"}


def test_the_landing_sensor_skips_folders_that_are_not_partition_days(tmp_path, monkeypatch):
    """A folder dt=2025-13-01 (or a day before the first partition) would fail the run Dagster is asked for."""
    import dagster as dg

    from pipelines.defs.automation.sensors import landing_files_sensor

    for day in ("2025-03-03", "2025-13-01", "2015-06-01"):
        f = tmp_path / "hosts" / f"dt={day}" / "hosts.csv"
        f.parent.mkdir(parents=True)
        f.write_text("host\n")
    monkeypatch.setenv("LANDING_DIR", str(tmp_path))
    requests = list(landing_files_sensor(dg.build_sensor_context()))
    assert [r.partition_key for r in requests] == ["2025-03-03"]


def partition_keys_loaded(env: dict[str, str]) -> list[str]:
    """The daily partitions a fresh process's definitions load with, under this environment."""
    code = "from pipelines.defs.automation.partitions import daily; print(','.join(daily.get_partition_keys()))"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WAREHOUSE_")}
    out = subprocess.run([sys.executable, "-c", code], env=clean | env, capture_output=True, text=True, check=True)
    return out.stdout.strip().split(",")


def test_the_partitions_begin_at_the_earliest_landed_day_or_the_configured_one(tmp_path):
    for day in ("2025-03-04", "2025-03-03", "2025-13-01"):  # a folder that is not a day does not count
        (tmp_path / "landing" / "hosts" / f"dt={day}").mkdir(parents=True)
    env = {"LANDING_DIR": str(tmp_path / "landing"), "WAREHOUSE_WORK_PATH": str(tmp_path / "build" / "w.duckdb")}
    rolling = partition_keys_loaded(env)
    assert rolling[0] == "2025-03-03" and rolling[-1] == f"{datetime.now(UTC):%Y-%m-%d}"
    assert partition_keys_loaded(env | {"WAREHOUSE_FIRST_PARTITION": "2025-03-04"})[0] == "2025-03-04"
    ended = partition_keys_loaded(env | {"WAREHOUSE_LAST_PARTITION": "2025-03-05"})
    assert ended == ["2025-03-03", "2025-03-04", "2025-03-05"]


def test_a_replayed_demo_shows_only_its_own_days(tmp_path):
    from generators.demo import record_replay_window

    landing, work = tmp_path / "landing", tmp_path / "build" / "w.duckdb"
    for day in ("2025-03-03", "2025-03-04", "2025-03-05"):
        (landing / "gpu_samples" / f"dt={day}").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANDING_DIR", str(landing))
        mp.setenv("WAREHOUSE_WORK_PATH", str(work))
        record_replay_window()
    keys = partition_keys_loaded({"LANDING_DIR": str(landing), "WAREHOUSE_WORK_PATH": str(work)})
    assert keys == ["2025-03-03", "2025-03-04", "2025-03-05"]
