import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.transform.project import dbt_project
from pipelines.defs.transform.translator import translator
from pipelines.lib.privacy import export_key_to_env


class DbtRunConfig(dg.Config):
    full_refresh: bool = False
    # unit tests check the SQL, not the data: CI runs them (tests/test_dbt_unit_tests.py); a refresh skips them
    unit_tests: bool = False
    # first day the incremental telemetry models rebuild (YYYY-MM-DD): a backfill or a late day; empty = the last
    # day they built (the daily case)
    reprocess_from: str = ""


def dbt_build_args(config: DbtRunConfig) -> list[str]:
    return [
        "build",
        *(["--full-refresh"] if config.full_refresh else []),
        *([] if config.unit_tests else ["--exclude-resource-type", "unit_test"]),
        *(["--vars", json.dumps({"reprocess_from": config.reprocess_from})] if config.reprocess_from else []),
    ]


@dbt_assets(
    manifest=dbt_project().manifest_path, dagster_dbt_translator=translator, pool="duckdb_writer", project=dbt_project()
)
def warehouse_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
    export_key_to_env()  # models past staging pseudonymise people with the warehouse's key
    yield from dbt.cli(dbt_build_args(config), context=context).stream()
