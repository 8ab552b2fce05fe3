import dagster as dg

from pipelines.defs.automation.partitions import daily

ingest_job = dg.define_asset_job(
    "ingest_day_job",
    selection=dg.AssetSelection.groups("ingest"),
    partitions_def=daily,
    description="Load one day of landed files into raw.*",
    tags={"dagster/max_retries": "2"},
)

refresh_warehouse_job = dg.define_asset_job(
    "refresh_warehouse_job",
    selection=dg.AssetSelection.groups("staging", "intermediate", "marts", "publish") | dg.AssetSelection.kind("dbt"),
    description="dbt build (models, tests, unit tests) then publish the warehouse file",
)
