"""The dbt project as Dagster assets, in two selections: the incremental (microbatch) models are partitioned by
the same UTC days as ingest, so Dagster owns which days they rebuild (a run's partition window becomes dbt's
--event-time-start/--event-time-end); every other model is unpartitioned and rebuilt whole. Built on first use,
not at import, so importing the code location never reads the dbt manifest."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.automation.partitions import daily
from pipelines.defs.transform.project import dbt_project
from pipelines.defs.transform.translator import translator
from pipelines.lib import settings
from pipelines.lib.changes import Change, record_rebuild
from pipelines.lib.privacy import export_key_to_env

INCREMENTAL = "config.incremental_strategy:microbatch"
# a day's last samples cover time up to the next day's first ones, and a file may hold measurements up to a day
# off its partition: rebuilding days [start, end) rebuilds the day before and the day after too
REACH = timedelta(days=1)


class DbtRunConfig(dg.Config):
    # recreates the unpartitioned models' tables; the incremental models ignore it (dbt config full_refresh=false):
    # a run of a few days must never recreate their tables with only those days. A backfill of every day rebuilds
    # them all, day by day
    full_refresh: bool = False
    # unit tests check the SQL, not the data: CI runs them (test_end_to_end.py); a refresh skips them
    unit_tests: bool = False


def dbt_build_args(config: DbtRunConfig, window: dg.TimeWindow | None) -> list[str]:
    """`dbt build` arguments for a run: the partition window [start, end) of the incremental models, widened by
    REACH on each side, as dbt's event-time bounds (whole UTC days); none for the unpartitioned models."""
    args = ["build", *(["--full-refresh"] if config.full_refresh else [])]
    args += [] if config.unit_tests else ["--exclude-resource-type", "unit_test"]
    if window is not None:
        start, end = rebuilt_window(window)
        args += ["--event-time-start", f"{start:%Y-%m-%d}", "--event-time-end", f"{end:%Y-%m-%d}"]
    return args


def rebuilt_window(window: dg.TimeWindow) -> tuple[datetime, datetime]:
    return window.start - REACH, window.end + REACH


@cache
def microbatch_models() -> list[tuple[str, str, str]]:
    """(schema.table, event_time column, batch size) of every incremental model, from the dbt manifest."""
    nodes = json.loads(dbt_project().manifest_path.read_text())["nodes"].values()
    return [
        (f"{n['schema']}.{n['alias']}", n["config"]["event_time"], n["config"]["batch_size"])
        for n in nodes
        if n["resource_type"] == "model" and n["config"].get("incremental_strategy") == "microbatch"
    ]


def whole_batches(start: datetime, end: datetime, batch_size: str) -> tuple[datetime, datetime]:
    """[start, end) widened to the batches dbt rebuilds: whole days, or whole months for a model built by month."""
    if batch_size != "month":
        return start, end
    last = end - timedelta(microseconds=1)
    after = (last.replace(day=28) + timedelta(days=4)).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start.replace(day=1), after


def record_rebuilt_window(start: datetime, end: datetime) -> None:
    """Log the rows the incremental models are about to rebuild, before dbt runs: the publish copies those, and
    the tests of those models read only them."""
    changes = [
        Change(relation, column, *whole_batches(start, end, size)) for relation, column, size in microbatch_models()
    ]
    with duckdb.connect(str(settings.work_db())) as con:
        record_rebuild(con, start, end, changes)


@contextmanager
def indirect_selection(mode: str) -> Iterator[None]:
    """dbt's indirect test selection for one invocation (dagster-dbt passes the environment to dbt)."""
    before = os.environ.get("DBT_INDIRECT_SELECTION")
    os.environ["DBT_INDIRECT_SELECTION"] = mode
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DBT_INDIRECT_SELECTION", None)
        else:
            os.environ["DBT_INDIRECT_SELECTION"] = before


def dbt_selection(name: str, partitions_def: dg.PartitionsDefinition | None, **selection) -> dg.AssetsDefinition:
    """One selection of the dbt project as a multi-asset; a partitioned one rebuilds its run's partition window."""

    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        dagster_dbt_translator=translator,
        pool="duckdb_writer",
        name=name,
        **selection,
    )
    def _selection(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtRunConfig):
        export_key_to_env()  # models past staging pseudonymise people with the warehouse's key
        window = context.partition_time_window if partitions_def else None
        if window:
            context.log.info(f"rebuilding days {window.start:%Y-%m-%d} .. {window.end:%Y-%m-%d} (excl.)")
            record_rebuilt_window(*rebuilt_window(window))
        # a test runs once every model it reads is built: the run holds the incremental models between the
        # unpartitioned ones upstream and downstream of them, so a test reading both waits for the later one
        with indirect_selection("buildable"):
            invocation = dbt.cli(dbt_build_args(config, window), context=context)
        yield from invocation.stream()

    return _selection


@cache
def incremental_dbt_assets() -> dg.AssetsDefinition:
    return dbt_selection("incremental_dbt_assets", daily, select=INCREMENTAL)


@cache
def warehouse_dbt_assets() -> dg.AssetsDefinition:
    return dbt_selection("warehouse_dbt_assets", None, exclude=INCREMENTAL)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[incremental_dbt_assets(), warehouse_dbt_assets()])
