from datetime import date, timedelta

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

from pipelines.defs.transform.project import dbt_project
from pipelines.defs.transform.translator import translator
from pipelines.lib.privacy import export_key_to_env


class DbtRunConfig(dg.Config):
    full_refresh: bool = False
    # unit tests check the SQL, not the data: CI runs them (tests/test_dbt_unit_tests.py); a refresh skips them
    unit_tests: bool = False
    # first day the per-sample telemetry models rebuild (YYYY-MM-DD): a backfill or a late day; empty = the last
    # day they built (the daily case)
    reprocess_from: str = ""


TELEMETRY = ("gpu_samples", "dcgm_samples", "nvidia_smi_samples")
BUILT = "intermediate.int_gpu_samples_classified"


def batch_window(con, config: DbtRunConfig) -> tuple[date, date]:
    """The days [start, end) the microbatch telemetry models rebuild, one query per day: from the day given, else
    the last day already built (its final samples reach into the next day), else the first day with telemetry;
    to the last telemetry day. A day's measurements may lie a day off its partition, hence the margins."""
    tables = {
        r[0] for r in con.execute("select table_schema || '.' || table_name from information_schema.tables").fetchall()
    }
    spans = [
        con.execute(f"select min(partition_date), max(partition_date) from raw.{t}").fetchall()[0]
        for t in TELEMETRY
        if f"raw.{t}" in tables
    ]
    firsts, lasts = [a for a, _ in spans if a], [b for _, b in spans if b]
    if not firsts:  # no telemetry yet: one empty day, so dbt does not walk every day since `begin`
        return date(2016, 1, 1), date(2016, 1, 2)
    start = min(firsts) - timedelta(days=1)
    if config.reprocess_from:
        start = date.fromisoformat(config.reprocess_from)
    elif BUILT in tables and not config.full_refresh:
        built = con.execute(f"select max(sample_day_at)::date from {BUILT}").fetchall()[0][0]
        start = built or start
    return start, max(lasts) + timedelta(days=2)


def dbt_build_args(config: DbtRunConfig, window: tuple[date, date]) -> list[str]:
    return [
        "build",
        *(["--full-refresh"] if config.full_refresh else []),
        *([] if config.unit_tests else ["--exclude-resource-type", "unit_test"]),
        *["--event-time-start", window[0].isoformat(), "--event-time-end", window[1].isoformat()],
    ]


@dbt_assets(
    manifest=dbt_project().manifest_path, dagster_dbt_translator=translator, pool="duckdb_writer", project=dbt_project()
)
def warehouse_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource, config: DbtRunConfig
):
    export_key_to_env()  # models past staging pseudonymise people with the warehouse's key
    with duckdb.get_connection() as con:
        window = batch_window(con, config)
    context.log.info(f"per-sample telemetry models rebuild days {window[0]} .. {window[1] - timedelta(days=1)}")
    yield from dbt.cli(dbt_build_args(config, window), context=context).stream()
