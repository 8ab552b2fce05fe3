from functools import cache

from dagster_dbt import DbtProject

from pipelines.lib.settings import DBT_DIR


@cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_DIR, profiles_dir=DBT_DIR)
    project.prepare_if_dev()
    return project
