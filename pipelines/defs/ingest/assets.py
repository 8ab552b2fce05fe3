"""One daily-partitioned asset per raw source: parse the day's landed files and replace that day in raw.*."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.automation.partitions import daily
from pipelines.defs.resources import LandingArea
from pipelines.lib.columnar import replace_partition_columnar
from pipelines.lib.sources import SOURCES, RawSource, landing_files
from pipelines.lib.warehouse import file_sha256, loaded_fingerprints, parse_file, relative, replace_partition


def build_ingest_asset(source: RawSource) -> dg.AssetsDefinition:
    @dg.asset(
        key=source.key,
        description=source.description,
        partitions_def=daily,
        pool="duckdb_writer",
        group_name="ingest",
        kinds={"duckdb", "polars"},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def _ingest(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, landing: LandingArea
    ) -> dg.MaterializeResult:
        root = Path(landing.path)
        day = context.partition_key
        paths = landing_files(root, source, day)
        fingerprints = {relative(p, root): file_sha256(p) for p in paths}
        with duckdb.get_connection() as con:
            if fingerprints and loaded_fingerprints(con, source.table, day) == fingerprints:
                # the same files, byte for byte: loading them again would change nothing
                context.log.info(f"{day}: {len(paths)} file(s) unchanged since the last load of raw.{source.table}")
                return dg.MaterializeResult(
                    metadata={"files": len(paths), "unchanged": True, "table": f"raw.{source.table}"}
                )
        if source.columnar:
            with duckdb.get_connection() as con:
                summary = replace_partition_columnar(con, source.table, day, paths, root)
                by_reason = dict(
                    con.execute(
                        "select reason, count(*) from raw.quarantine where table_name = ? and partition_date = ? "
                        "group by all order by 1",
                        [source.table, day],
                    ).fetchall()
                )
            return _result(summary, by_reason, source)
        files = [parse_file(source, p) for p in paths]
        with duckdb.get_connection() as con:
            summary = replace_partition(con, source, day, files, root)
        by_reason: dict[str, int] = {}
        for f in files:
            for reason, n in f.parsed.rejects.group_by("reason").len().sort("reason").iter_rows():
                first = f.parsed.rejects.filter(f.parsed.rejects["reason"] == reason).row(0, named=True)
                context.log.warning(
                    f"{f.path}: {n} line(s) quarantined ({reason}), e.g. line {first['source_line']}: "
                    f"{first['message']}; see raw.quarantine"
                )
                by_reason[reason] = by_reason.get(reason, 0) + n
        return _result(summary, by_reason, source)

    return _ingest


def _result(summary: dict, by_reason: dict[str, int], source: RawSource) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "files": summary["files"],
            "rows_read": summary["rows_read"],
            "dagster/row_count": summary["rows_loaded"],
            "rows_quarantined": summary["rows_quarantined"],
            "quarantined_by_reason": by_reason,
            "table": f"raw.{source.table}",
        }
    )


ingest_assets = [build_ingest_asset(s) for s in SOURCES]
