"""Great Expectations suites on each raw source's loaded partition, as blocking Dagster asset checks: a day whose
data breaks a rule fails its ingest run, so the refresh (dbt + publish) that follows a successful ingest never
publishes it."""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.lib.quality import MART_SUITES, SUITES, columns_checked, validate
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
            landed = con.execute(
                "select count(*) from raw.load_audit where table_name = ? and partition_date = ?", [table, day]
            ).fetchall()[0][0]
            # a telemetry day (14.4 million rows at 10,000 GPUs) is judged on a reproducible sample of it; the loader
            # has already range-checked every row in SQL
            frame = con.execute(
                f"select {', '.join(columns_checked(table))} from raw.{table} where partition_date = ? "
                f"using sample reservoir({GX_SAMPLE_ROWS} rows) repeatable (7)",
                [day],
            ).df()
        if not landed:  # this fleet sends nothing of this kind that day (e.g. no nvidia-smi hosts): nothing to judge
            for check in SUITES[table]:
                yield dg.AssetCheckResult(
                    check_name=check.name,
                    asset_key=key,
                    passed=True,
                    metadata={"partition": str(day), "skipped": "no files landed for this source and day"},
                )
            return
        for check, passed, observed in validate(table, frame):
            yield dg.AssetCheckResult(
                check_name=check.name,
                asset_key=key,
                passed=passed,
                metadata={"partition": str(day), "observed": json.dumps(observed, default=str)[:2000]},
            )

    return _checks


GX_SAMPLE_ROWS = 1_000_000

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
