import dagster as dg

from pipelines.defs.automation.partitions import daily
from pipelines.defs.quality.freshness import raw_freshness_checks

ingest_job = dg.define_asset_job(
    "ingest_day_job",
    # the loads and their GX checks; the freshness checks pass by construction right after a load, so the
    # freshness sensor evaluates them on its own clock instead (~1-2 s and a check event per source saved a run)
    selection=dg.AssetSelection.groups("ingest") - dg.AssetSelection.checks(*raw_freshness_checks),
    partitions_def=daily,
    description="Load one day of landed files into raw.*",
    tags={"dagster/max_retries": "2"},
)

refresh_warehouse_job = dg.define_asset_job(
    "refresh_warehouse_job",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts", "publish") | dg.AssetSelection.kind("dbt"),
    # the incremental models rebuild the run's days (a partition or a range), the other models and the publish once
    partitions_def=daily,
    description="dbt build of the run's days (models and tests) then publish the warehouse file",
)
