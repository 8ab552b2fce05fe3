"""Great Expectations suites on each raw source's loaded partition, as blocking Dagster asset checks: a day whose
data breaks a rule fails its ingest run, so the refresh (dbt + publish) that follows a successful ingest never
publishes it."""

import json

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.automation.partitions import daily
from pipelines.lib.quality import MART_SUITES, SUITES, columns_checked, judges_every_row, validate
from pipelines.lib.sources import BY_TABLE

# a telemetry day (14.4 million rows at 10,000 GPUs) is judged on a reproducible sample of this many rows; the
# loader has already range-checked every row in SQL. So is an hourly mart (dbt tests check every row), or the
# check would read the whole history on every refresh.
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
    return con.execute(
        f"select * from (select {', '.join(columns_checked(table))} from raw.{table} where partition_date = ?) "
        f"using sample reservoir({GX_SAMPLE_ROWS} rows) repeatable (7)",
        [day],
    ).df()


def build_raw_checks(table: str) -> dg.AssetChecksDefinition:
    source = BY_TABLE[table]
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
        columns = ", ".join(columns_checked(mart))
        sample = "" if judges_every_row(mart) else f" using sample reservoir({GX_SAMPLE_ROWS} rows) repeatable (7)"
        with duckdb.get_connection() as con:
            frame = con.execute(f"select * from (select {columns} from marts.{mart}){sample}").df()
            coverage = con.execute("select * from intermediate.int_coverage").df().iloc[0].to_dict()
        for check, passed, observed in validate(mart, frame):
            if check.needs_full and coverage[check.needs_full] != "full":
                # a public trace without this subject: the rule does not apply, and the result says why
                passed, observed = True, {"not_judged": f"{check.needs_full} is {coverage[check.needs_full]}"}
            yield dg.AssetCheckResult(
                check_name=check.name,
                asset_key=key,
                passed=passed,
                metadata={"observed": json.dumps(observed, default=str)[:2000]},
            )

    return _checks


mart_expectations = [build_mart_checks(mart) for mart in MART_SUITES]
