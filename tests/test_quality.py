"""GX suites on raw partitions: pure validation, and as blocking Dagster asset checks."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.defs.ingest.assets import build_ingest_asset
from pipelines.defs.quality.checks import build_raw_checks
from pipelines.defs.resources import LandingArea
from pipelines.lib.quality import SUITES, validate
from pipelines.lib.sources import BY_TABLE

HOSTS_HEADER = "host,cluster,region,gpu_model,gpu_count,pool,reservation,usd_per_gpu_hour,valid_from,valid_to\n"
GOOD_HOST = "h1,c,r,NVIDIA L4,8,inference,none,0.8,2025-03-01 00:00:00,\n"


def land_hosts(tmp_path, *rows: str):
    """Write a hosts export for 2025-03-03; returns the resources an ingest run needs."""
    landing = tmp_path / "landing"
    f = landing / "hosts" / "dt=2025-03-03" / "hosts.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(HOSTS_HEADER + "".join(rows))
    return {"duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb")), "landing": LandingArea(path=str(landing))}


def smi_frame(util: list[float]) -> pd.DataFrame:
    n = len(util)
    return pd.DataFrame(
        {
            "gpu_uuid": ["GPU-a"] * n,
            "measured_at_local": pd.Timestamp("2025-03-03") + pd.to_timedelta(range(n), unit="min"),
            "utilization_gpu_pct": util,
            "power_draw_w": [50.0] * n,
        }
    )


def test_every_raw_source_has_a_suite():
    assert set(SUITES) == set(BY_TABLE)


def test_suite_passes_good_data_and_names_the_broken_rule():
    good = {c.name: ok for c, ok, _ in validate("nvidia_smi_samples", smi_frame([0, 50, 100]))}
    assert all(good.values()) and "gpu_util_in_range" in good
    bad = {c.name: (ok, seen) for c, ok, seen in validate("nvidia_smi_samples", smi_frame([10, 130]))}
    assert bad["gpu_util_in_range"][0] is False and bad["gpu_util_in_range"][1]["unexpected_count"] == 1
    assert bad["power_not_negative"][0] is True
    empty = {c.name: ok for c, ok, _ in validate("nvidia_smi_samples", smi_frame([]))}
    assert empty["rows_in_partition_within_bounds"] is False  # a day without data is a failure, not a pass


def test_blocking_checks_fail_the_ingest_run_on_bad_data(tmp_path):
    # parses fine, but 64 GPUs in one host and a pool nobody knows break the inventory's rules
    resources = land_hosts(tmp_path, "h1,c,r,NVIDIA L4,64,batch,none,0.8,2025-03-01 00:00:00,\n")
    asset = build_ingest_asset(BY_TABLE["hosts"])
    result = dg.materialize(
        [asset, build_raw_checks("hosts")], partition_key="2025-03-03", resources=resources, raise_on_error=False
    )
    outcomes = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert outcomes["pool_known"] is False and outcomes["gpu_count_plausible"] is False
    assert outcomes["host_present"] is True
    assert not result.success  # blocking: the run fails, so nothing downstream refreshes from it


def test_freshness_check_reports_sources_not_loaded_lately(tmp_path):
    from pipelines.defs.quality.freshness import raw_freshness_checks

    resources = land_hosts(tmp_path, GOOD_HOST)
    asset = build_ingest_asset(BY_TABLE["hosts"])
    with dg.instance_for_test() as instance:
        dg.materialize([asset], partition_key="2025-03-03", resources=resources, instance=instance)
        result = dg.materialize(
            [asset, *raw_freshness_checks],
            selection=dg.AssetSelection.checks(*raw_freshness_checks),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
    fresh = {tuple(e.asset_key.path): e.passed for e in result.get_asset_check_evaluations()}
    assert fresh[("inventory", "hosts")] is True  # just loaded
    assert fresh[("gpu_telemetry", "dcgm_samples")] is False  # never loaded: stale
    assert len(fresh) == len(BY_TABLE)


def test_mart_suite_fails_an_impossible_ett():
    frame = pd.DataFrame({"run_id": ["a", "b"], "ett_ratio": [0.8, 1.2], "gpu_hours": [1.0, 2.0]})
    outcome = {c.name: ok for c, ok, _ in validate("fct_training_jobs", frame)}
    assert outcome == {"ett_is_a_ratio": False, "gpu_hours_not_negative": True, "run_id_unique": True}


def test_loading_the_same_files_again_is_a_no_op_and_a_changed_file_reloads(tmp_path):
    resources = land_hosts(tmp_path, GOOD_HOST)
    asset = build_ingest_asset(BY_TABLE["hosts"])

    def run():
        result = dg.materialize([asset], partition_key="2025-03-03", resources=resources)
        return result.asset_materializations_for_node(asset.op.name)[0].metadata

    assert "unchanged" not in run()
    assert run()["unchanged"].value is True
    land_hosts(tmp_path, GOOD_HOST, GOOD_HOST.replace("h1", "h2"))
    assert run()["dagster/row_count"].value == 2
