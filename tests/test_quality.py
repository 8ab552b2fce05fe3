"""Landed data's rules: the line rules every loader applies (a line that breaks one is quarantined), and the GX
suites of day rules on raw partitions, pure and as blocking Dagster asset checks."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from pipelines.defs.ingest.assets import build_ingest_asset
from pipelines.defs.quality.checks import build_raw_checks
from pipelines.defs.resources import LandingArea
from pipelines.ingest.expectations import SUITES, validate
from pipelines.ingest.registry import BY_TABLE, PROMETHEUS
from pipelines.ingest.rules import RULES, day_rules

HOSTS_HEADER = "host,cluster,region,gpu_model,gpu_count,pool,reservation,usd_per_gpu_hour,valid_from,valid_to\n"
GOOD_HOST = "h1,c,r,NVIDIA L4,8,inference,none,0.8,2025-03-01 00:00:00,\n"


def land_hosts(tmp_path, *rows: str):
    """Write a hosts export for 2025-03-03; returns the resources an ingest run needs."""
    landing = tmp_path / "landing"
    f = landing / "hosts" / "dt=2025-03-03" / "hosts.csv"
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_text(HOSTS_HEADER + "".join(rows))
    return {"duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb")), "landing": LandingArea(path=str(landing))}


def hosts_frame(hosts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"host": hosts, "valid_from": [pd.Timestamp("2025-03-01")] * len(hosts)})


def test_every_raw_source_has_rules_and_every_day_rule_a_check():
    assert set(RULES) == set(BY_TABLE) | {PROMETHEUS.table}  # the pulled source too (registry.PROMETHEUS)
    assert {t: len(checks) for t, checks in SUITES.items()} == {t: len(day_rules(t)) for t in RULES if day_rules(t)}


def test_suite_passes_good_data_and_names_the_broken_rule():
    good = {c.name: ok for c, ok, _ in validate("hosts", hosts_frame(["a", "b"]))}
    assert good == {"rows_in_partition_within_bounds": True, "host_valid_from_unique": True}
    bad = {c.name: (ok, seen) for c, ok, seen in validate("hosts", hosts_frame(["a", "a", "b"]))}
    assert bad["host_valid_from_unique"][0] is False and bad["host_valid_from_unique"][1]["unexpected_count"] == 2
    empty = {c.name: ok for c, ok, _ in validate("hosts", hosts_frame([]))}
    assert empty["rows_in_partition_within_bounds"] is False  # a day without data is a failure, not a pass


def ingest_hosts(tmp_path, *rows: str):
    resources = land_hosts(tmp_path, *rows)
    asset = build_ingest_asset(BY_TABLE["hosts"])
    result = dg.materialize(
        [asset, build_raw_checks("hosts")], partition_key="2025-03-03", resources=resources, raise_on_error=False
    )
    with resources["duckdb"].get_connection() as con:
        rejected = con.execute("select source_line, reason, message from raw.quarantine order by 1").fetchall()
    return result, {e.check_name: e.passed for e in result.get_asset_check_evaluations()}, rejected


def test_lines_that_break_a_line_rule_are_quarantined_and_the_day_loads(tmp_path):
    # parse fine, but 64 GPUs in one host, a pool nobody knows and a negative rate break the inventory's rules
    result, outcomes, rejected = ingest_hosts(
        tmp_path,
        GOOD_HOST,
        "h2,c,r,NVIDIA L4,64,inference,none,0.8,2025-03-01 00:00:00,\n",
        "h3,c,r,NVIDIA L4,8,batch,none,0.8,2025-03-01 00:00:00,\n",
        "h4,c,r,NVIDIA L4,8,inference,none,-0.8,2025-03-01 00:00:00,\n",
        "h5,c,r,NVIDIA L4,8,inference,none,0.8,2025-03-02 00:00:00,2025-03-01 00:00:00\n",
    )
    assert rejected == [
        (3, "out_of_range", "gpu_count must be >= 0 and <= 16"),
        (4, "unknown_value", "pool must be one of training, inference, shared"),
        (5, "out_of_range", "usd_per_gpu_hour must be >= 0"),
        (6, "end_before_start", "valid_from must be before valid_to"),
    ]
    assert result.success and all(outcomes.values())


def test_blocking_checks_fail_the_ingest_run_on_a_day_that_breaks_a_day_rule(tmp_path):
    # no line is wrong, but an inventory snapshot that lists no host is not a fleet without hosts
    result, outcomes, rejected = ingest_hosts(tmp_path)
    assert rejected == []
    assert outcomes == {"rows_in_partition_within_bounds": False, "host_valid_from_unique": True}
    assert not result.success  # blocking: the run fails, so nothing downstream refreshes from it


def test_a_host_listed_twice_is_quarantined_by_the_loader_before_the_blocking_check_sees_it(tmp_path):
    result, outcomes, rejected = ingest_hosts(tmp_path, GOOD_HOST, GOOD_HOST)
    assert rejected == [
        (3, "overlapping_validity", "valid_from..valid_to overlaps an earlier-starting line of the same host")
    ]
    assert result.success and all(outcomes.values())


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
