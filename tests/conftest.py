"""Shared fixtures. The end-to-end fixture builds a tiny simulated fleet's warehouse once per session, in a
temporary folder, through the same Dagster jobs `make demo` runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from pipelines.lib import settings

FIXTURES = Path(__file__).parent / "fixtures"
TRACES = settings.ROOT.parent / "shared" / "traces"
TINY_FLEET = ["--days", "2", "--sample-interval-s", "600", "--seed", "11", "--jobs-per-day", "60"]


def run_dbt_parse() -> None:
    if not (settings.DBT_DIR / "target" / "manifest.json").exists():
        subprocess.run(["dbt", "parse", "--quiet", "--profiles-dir", "."], cwd=settings.DBT_DIR, check=True)


@pytest.fixture(scope="session")
def traces() -> Path:
    if not TRACES.is_dir():
        pytest.skip(f"public traces folder {TRACES} is absent (it sits beside the repo in CI and dev)")
    return TRACES


@pytest.fixture(scope="session")
def project_env(tmp_path_factory):
    """Point every path the project uses into a temporary folder, for the whole session."""
    root = tmp_path_factory.mktemp("warehouse")
    env = {
        "LANDING_DIR": str(root / "landing"),
        "WAREHOUSE_WORK_PATH": str(root / "work" / "warehouse.duckdb"),
        "WAREHOUSE_PATH": str(root / "published" / "warehouse.duckdb"),
        "DAGSTER_HOME": str(root / "dagster_home"),
        # one DuckDB thread: reruns are then bit-identical, which the idempotency tests compare
        "DUCKDB_THREADS": "1",
    }
    Path(env["DAGSTER_HOME"]).mkdir()
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text((settings.ROOT / "dagster.yaml").read_text())
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        run_dbt_parse()
        yield root


@pytest.fixture(scope="session")
def instance(project_env):
    with dg.DagsterInstance.get() as inst:
        yield inst


@pytest.fixture(scope="session")
def tiny_warehouse(project_env, instance):
    """Simulate a tiny fleet, ingest each day, dbt build, publish; returns the simulator's ground truth."""
    from generators.sim.__main__ import main as simulate
    from pipelines.cli import materialize_all

    truth = simulate(["--out", os.environ["LANDING_DIR"], *TINY_FLEET])
    materialize_all(instance)
    return truth
