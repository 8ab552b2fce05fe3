import importlib.metadata
from functools import cached_property

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource
from packaging.version import Version

from pipelines.defs.transform.project import dbt_project
from pipelines.lib import settings


class LandingArea(dg.ConfigurableResource):
    """The folder raw files arrive in: <path>/<table>/dt=YYYY-MM-DD/."""

    path: str


class WarehouseDbt(DbtCliResource):
    """dagster-dbt's resource without two start-up costs of every refresh that this project has no use for (~6 s
    together, measured on a tiny fleet): a `dbt --version` subprocess, although dbt-core is installed beside
    dagster-dbt and its version is known; and an in-process dbt adapter, which serves only fetch_row_counts() and
    fetch_column_metadata(). dagster-dbt runs without an adapter when making one fails; these are its hooks
    (dagster-dbt 0.29)."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


@dg.definitions
def resources() -> dg.Definitions:
    work = settings.work_db()
    work.parent.mkdir(parents=True, exist_ok=True)
    return dg.Definitions(
        resources={
            # the same limits as dbt's profile: a fleet-day is loaded on a bounded budget
            "duckdb": DuckDBResource(database=str(work), connection_config=settings.duckdb_config()),
            "dbt": WarehouseDbt(project_dir=dbt_project()),
            "landing": LandingArea(path=str(settings.landing_dir())),
        }
    )
