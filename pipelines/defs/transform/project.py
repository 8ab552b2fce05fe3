import os
from functools import cache

from dagster_dbt import DbtProject

from pipelines.lib.settings import DBT_DIR


@cache
def dbt_project() -> DbtProject:
    # dbt's own DBT_TARGET_PATH, which dagster-dbt also reads for the partial parse it copies into each invocation
    target = os.getenv("DBT_TARGET_PATH") or "target"
    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR, target_path=target)
    project.prepare_if_dev()
    return project
