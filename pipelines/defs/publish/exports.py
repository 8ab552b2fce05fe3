import dagster as dg

from pipelines.lib import settings
from pipelines.lib.exports import export_by_period

# FOCUS datasets are delivered per billing period: a FinOps tool loads the months that changed
FOCUS_BILLING_PERIOD = "'billing_period=' || strftime(timezone('UTC', BillingPeriodStart), '%Y-%m')"


# in the writer pool too: an export must not read the published file while a publish replaces it
@dg.asset(
    deps=[dg.AssetKey("published_warehouse")],
    group_name="publish",
    kinds={"duckdb", "parquet", "csv"},
    pool="duckdb_writer",
    description="The FOCUS dataset (marts.focus_gpu_charges) as Parquet and CSV per billing period for FinOps tools "
    "(data/exports/focus_gpu_charges/billing_period=YYYY-MM/); only the periods whose rows changed are rewritten.",
)
def focus_export(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    out = settings.published_db().parent / "exports" / "focus_gpu_charges"
    files = export_by_period(settings.published_db(), "marts.focus_gpu_charges", FOCUS_BILLING_PERIOD, out)
    periods = sorted({f.parent.name for f in files})
    context.log.info(f"wrote {len(files)} file(s) under {out}: {', '.join(periods) or 'no period changed'}")
    return dg.MaterializeResult(metadata={"folder": str(out), "periods_written": periods, "files": len(files)})
