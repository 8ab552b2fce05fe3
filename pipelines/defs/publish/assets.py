import time
from functools import cache

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.transform.assets import incremental_dbt_assets, warehouse_dbt_assets
from pipelines.lib import settings
from pipelines.lib.privacy import publish_user_names
from pipelines.lib.publish import checkpoint, open_published, publish_warehouse
from pipelines.lib.report import headline


def marts() -> list[dg.AssetKey]:
    """Every mart, incremental or not: the publish waits for all of them."""
    return [
        key
        for assets in (warehouse_dbt_assets(), incremental_dbt_assets())
        for key in assets.keys
        if assets.specs_by_key[key].group_name == "marts"
    ]


def publish(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    started = time.perf_counter()
    with duckdb.get_connection() as con:
        checkpoint(con)
    checkpointed = time.perf_counter()
    target = settings.published_db()
    version = settings.published_storage_version()
    done = publish_warehouse(settings.work_db(), target, scrub=not publish_user_names(), storage_version=version)
    seconds = {
        "checkpoint_s": round(checkpointed - started, 2),
        "publish_s": round(time.perf_counter() - checkpointed, 2),
    }
    copied = sorted(t for t, rows in done.rewritten.items() if rows == "true")
    ranged = sorted(t for t, rows in done.rewritten.items() if rows != "true")
    context.log.info(
        f"published {target} ({done.how}; {len(done.counts)} tables, storage {version}; {seconds}); "
        f"copied whole: {len(copied)} tables, by day: {', '.join(ranged) or 'none'}"
    )
    counts = done.counts
    marts = {k: v for k, v in counts.items() if k.startswith("marts.")}
    with open_published(target) as con:
        top = headline_metadata(headline(con))
    return dg.MaterializeResult(
        metadata={
            "path": str(target),
            "storage_version": version,
            "published_how": done.how,
            "tables": len(counts),
            "tables_copied_whole": len(copied),
            "tables_copied_by_day": len(ranged),
            **seconds,
            **top,
            **marts,
        }
    )


def headline_metadata(figures: dict) -> dict[str, dg.MetadataValue]:
    """rpt_fleet_summary's headline as the Dagster UI shows it: numbers as numbers, NULL as `not measured`."""
    shown = {}
    for column, value in figures.items():
        if value is None:
            shown[f"headline/{column}"] = dg.MetadataValue.text("not measured")
        elif isinstance(value, int):
            shown[f"headline/{column}"] = dg.MetadataValue.int(value)
        else:
            shown[f"headline/{column}"] = dg.MetadataValue.float(float(value))
    return shown


@cache
def published_warehouse() -> dg.AssetsDefinition:
    return dg.asset(
        name="published_warehouse",
        deps=marts(),
        group_name="publish",
        pool="duckdb_writer",
        kinds={"duckdb"},
        description="Bring the standby version of data/warehouse.duckdb up to date with what changed in the working "
        "file, and make it the published one in one rename.",
    )(publish)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[published_warehouse()])
