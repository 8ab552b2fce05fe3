"""One daily-partitioned asset per raw source: parse the day's landed files and replace that day in raw.*.

A run may cover a range of days (a backfill runs as one run): each day is still loaded, replaced and audited on
its own, exactly as a run of that day alone would."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.automation.partitions import daily
from pipelines.defs.resources import LandingArea
from pipelines.ingest.landing import LandedFile
from pipelines.ingest.registry import PROMETHEUS, SOURCES
from pipelines.ingest.specs import RawSource
from pipelines.ingest.writer import (
    create_audit_tables,
    create_raw_table,
    loaded_fingerprints,
    raw_table_exists,
    replace_day,
)

SUMMED = ("files", "rows_read", "rows_loaded", "rows_quarantined")


def load_day(context, con, source: RawSource, day: str, root: Path, files: list[LandedFile] | None = None) -> dict:
    """Replace one day of raw.<table> from its landed files (or `files`, pulled); a summary with the rejects by
    reason."""
    create_audit_tables(con)  # also when nothing changed: dbt reads the audit at its current columns
    # the pulled telemetry's table exists (empty) where no Prometheus is configured: staging reads it
    create_raw_table(con, PROMETHEUS)
    files = source.files(root, day) if files is None else files
    fingerprints = {f.name: f.sha256 for f in files}
    loaded = loaded_fingerprints(con, source.table, day)
    if loaded == fingerprints and (fingerprints or raw_table_exists(con, source.table)):
        # the same files, byte for byte (or none, and none ever loaded): loading again would change nothing
        context.log.debug(f"{day}: {len(files)} file(s) unchanged since the last load of raw.{source.table}")
        return {"files": len(files), "unchanged": True}
    summary = replace_day(con, source, day, files)
    unread = [f"{f.name}: {f.problem}" for f in files if f.problem]
    for file in unread:
        context.log.warning(f"{file} - not read; the day loaded without it, see raw.load_audit")
    rejected = con.execute(
        "select source_file, reason, count(*), min(source_line), any_value(message) from raw.quarantine "
        "where table_name = ? and partition_date = ? group by all order by all",
        [source.table, day],
    ).fetchall()
    by_reason: dict[str, int] = {}
    for path, reason, n, line, message in rejected:
        context.log.warning(
            f"{path}: {n} line(s) quarantined ({reason}), e.g. line {line}: {message}; see raw.quarantine"
        )
        by_reason[reason] = by_reason.get(reason, 0) + n
    return summary | {"by_reason": by_reason, "unread_files": unread}


def build_ingest_asset(source: RawSource) -> dg.AssetsDefinition:
    @dg.asset(
        key=source.key,
        description=source.description,
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb_writer",
        group_name="ingest",
        kinds={"duckdb", "polars"},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def _ingest(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingArea
    ) -> dg.MaterializeResult:
        root = Path(landing.path)
        keys = context.partition_keys
        days = [load_day_in(context, duckdb, source, day, root) for day in keys]
        by_reason: dict[str, int] = {}
        for d in days:
            for reason, n in d.get("by_reason", {}).items():
                by_reason[reason] = by_reason.get(reason, 0) + n
        totals = {k: sum(d.get(k, 0) for d in days) for k in SUMMED}
        metadata = {
            "days": len(days),
            "files": totals["files"],
            "table": f"raw.{source.table}",
            # for the UI: the days whose files this run replaced (which days to rebuild, transform/stale.py decides)
            "changed_days": [k for k, d in zip(keys, days) if not d.get("unchanged")],
        }
        if all(d.get("unchanged") for d in days):
            return dg.MaterializeResult(metadata=metadata | {"unchanged": True})
        return dg.MaterializeResult(
            metadata=metadata
            | {
                "rows_read": totals["rows_read"],
                "dagster/row_count": totals["rows_loaded"],
                "rows_quarantined": totals["rows_quarantined"],
                "quarantined_by_reason": by_reason,
                "unread_files": [f for d in days for f in d.get("unread_files", [])],
            }
        )

    return _ingest


def load_day_in(context, duckdb: DuckDBResource, source: RawSource, day: str, root: Path) -> dict:
    with duckdb.get_connection() as con:
        return load_day(context, con, source, day, root)


ingest_assets = [build_ingest_asset(s) for s in SOURCES]
