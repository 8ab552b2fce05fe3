import time

import dagster as dg

from pipelines.lib import settings
from pipelines.lib.publish import open_published
from pipelines.lib.report import write_report


# in the writer pool, as the exports: it reads the published file, which only the publish replaces
@dg.asset(
    deps=[dg.AssetKey("published_warehouse")],
    group_name="publish",
    kinds={"duckdb", "html"},
    pool="duckdb_writer",
    description="The fleet report: data/report/index.html, one self-contained page of charts read from the marts.",
)
def fleet_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    started = time.perf_counter()
    target = settings.report_html()
    with open_published(settings.published_db()) as con:
        report = write_report(con, target)
    seconds = round(time.perf_counter() - started, 2)
    by_status = {s.chart.key: s.status for s in report.sections}
    context.log.info(f"wrote {target} ({target.stat().st_size:,} bytes, {seconds} s): {by_status}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target)),
            "bytes": target.stat().st_size,
            "build_s": seconds,
            "charts_drawn": sum(status == "drawn" for status in by_status.values()),
            "charts": by_status,
        }
    )
