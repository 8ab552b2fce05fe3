import dagster as dg

from pipelines.lib import settings
from pipelines.lib.publish import export_table


# in the writer pool too: an export must not read the published file while a publish replaces it
@dg.asset(
    deps=[dg.AssetKey("published_warehouse")],
    group_name="publish",
    kinds={"duckdb", "parquet", "csv"},
    pool="duckdb_writer",
    description="The FOCUS dataset (marts.focus_gpu_charges) as Parquet and CSV for FinOps tools.",
)
def focus_export(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    out = settings.published_db().parent / "exports"
    files = export_table(settings.published_db(), "marts.focus_gpu_charges", out / "focus_gpu_charges")
    context.log.info(f"wrote {', '.join(str(f) for f in files)}")
    return dg.MaterializeResult(metadata={"files": [str(f) for f in files]})
