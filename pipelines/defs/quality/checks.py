"""Great Expectations suites on each raw source's loaded partition, as blocking Dagster asset checks: a day whose
data breaks a rule fails its ingest run, so the refresh (dbt + publish) that follows a successful ingest never
publishes it."""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.lib.quality import MART_SUITES, SUITES, validate
from pipelines.lib.sources import BY_TABLE


def build_raw_checks(table: str) -> dg.AssetChecksDefinition:
    source = BY_TABLE[table]
    key = dg.AssetKey(source.key)

    @dg.multi_asset_check(
        name=f"{table}_expectations",
        specs=[dg.AssetCheckSpec(c.name, asset=key, blocking=True, description=c.description) for c in SUITES[table]],
    )
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
        day = context.run.tags.get("dagster/partition")
        with duckdb.get_connection() as con:
            frame = con.execute(
                f"select * exclude (source_file, source_line) from raw.{table} where partition_date = ?", [day]
            ).df()
        for check, passed, observed in validate(table, frame):
            yield dg.AssetCheckResult(
                check_name=check.name,
                asset_key=key,
                passed=passed,
                metadata={"partition": str(day), "observed": json.dumps(observed, default=str)[:2000]},
            )

    return _checks


raw_expectations = [build_raw_checks(table) for table in SUITES]


def build_mart_checks(mart: str) -> dg.AssetChecksDefinition:
    """Blocking checks on a key mart: the publish that depends on it does not run when one fails."""
    key = dg.AssetKey(["marts", mart])

    @dg.multi_asset_check(
        name=f"{mart}_expectations",
        specs=[
            dg.AssetCheckSpec(c.name, asset=key, blocking=True, description=c.description) for c in MART_SUITES[mart]
        ],
    )
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
        with duckdb.get_connection() as con:
            frame = con.execute(f"select * from marts.{mart}").df()
        for check, passed, observed in validate(mart, frame):
            yield dg.AssetCheckResult(
                check_name=check.name,
                asset_key=key,
                passed=passed,
                metadata={"observed": json.dumps(observed, default=str)[:2000]},
            )

    return _checks


mart_expectations = [build_mart_checks(mart) for mart in MART_SUITES]
