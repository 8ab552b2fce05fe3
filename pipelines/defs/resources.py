import os

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from pipelines.defs.transform.project import dbt_project
from pipelines.lib import settings


class LandingArea(dg.ConfigurableResource):
    """The folder raw files arrive in: <path>/<table>/dt=YYYY-MM-DD/."""

    path: str


@dg.definitions
def resources() -> dg.Definitions:
    work = settings.work_db()
    work.parent.mkdir(parents=True, exist_ok=True)
    return dg.Definitions(
        resources={
            # the same limits as dbt's profile: a fleet-day is loaded on a bounded budget
            "duckdb": DuckDBResource(
                database=str(work),
                connection_config={
                    "threads": int(os.getenv("DUCKDB_THREADS") or 2),
                    "memory_limit": os.getenv("DUCKDB_MEMORY_LIMIT") or "4GB",
                },
            ),
            "dbt": DbtCliResource(project_dir=dbt_project()),
            "landing": LandingArea(path=str(settings.landing_dir())),
        }
    )
