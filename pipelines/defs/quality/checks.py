"""Great Expectations suites on each raw source's loaded partition, as blocking Dagster asset checks: a day whose
data breaks a day rule fails its ingest run, so the refresh (dbt + publish) that follows a successful ingest never
publishes it. The marts' rules are dbt tests, run by the dbt build itself."""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.automation.partitions import daily
from pipelines.ingest.expectations import SUITES, columns_checked, validate
from pipelines.ingest.registry import BY_TABLE, PROMETHEUS

# a telemetry day (14.4 million rows at 10,000 GPUs) is judged on a reproducible sample of this many rows; a suite
# with a uniqueness rule reads every row of the day
GX_SAMPLE_ROWS = 100_000


def run_days(tags: dict[str, str]) -> list[str]:
    """The partition(s) an ingest run loaded: one day, or a range (a backfill in one run)."""
    if "dagster/partition" in tags:
        return [tags["dagster/partition"]]
    span = dg.PartitionKeyRange(tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"])
    return daily.get_partition_keys_in_range(span)


def day_frame(con, table: str, day: str):
    """The columns the suite reads for one loaded day, or None when no file landed for it."""
    landed = con.execute(
        "select count(*) from raw.load_audit where table_name = ? and partition_date = ?", [table, day]
    ).fetchall()[0][0]
    if not landed:
        return None
    every_row = any(c.kwargs.get("column_list") for c in SUITES[table])
    sample = "" if every_row else f" using sample reservoir({GX_SAMPLE_ROWS} rows) repeatable (7)"
    return con.execute(
        f"select * from (select {', '.join(columns_checked(table))} from raw.{table} where partition_date = ?){sample}",
        [day],
    ).df()


def build_raw_checks(table: str) -> dg.AssetChecksDefinition:
    source = PROMETHEUS if table == PROMETHEUS.table else BY_TABLE[table]
    key = dg.AssetKey(source.key)

    @dg.multi_asset_check(
        name=f"{table}_expectations",
        specs=[dg.AssetCheckSpec(c.name, asset=key, blocking=True, description=c.description) for c in SUITES[table]],
    )
    def _checks(context: dg.AssetCheckExecutionContext, duckdb: DuckDBResource):
        # every day the run loaded is judged on its own; a check fails if any day breaks it
        failures: dict[str, dict] = {c.name: {} for c in SUITES[table]}
        judged = []
        for day in run_days(context.run.tags):
            with duckdb.get_connection() as con:
                frame = day_frame(con, table, day)
            if frame is None:  # nothing landed for this source that day (e.g. a fleet without nvidia-smi hosts)
                continue
            judged.append(day)
            for check, passed, observed in validate(table, frame):
                if not passed:
                    failures[check.name][day] = observed
        for check in SUITES[table]:
            failed = failures[check.name]
            yield dg.AssetCheckResult(
                check_name=check.name,
                asset_key=key,
                passed=not failed,
                metadata={
                    "days_judged": ", ".join(judged) or "none (no files landed)",
                    "failed_days": json.dumps(failed, default=str)[:2000],
                },
            )

    return _checks


# the pulled telemetry's checks are defined with its asset, which exists only where a Prometheus is configured
raw_expectations = [build_raw_checks(table) for table in SUITES if table != PROMETHEUS.table]
