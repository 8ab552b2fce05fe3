"""Shared fixtures. The end-to-end fixture builds a tiny simulated fleet's warehouse once per session, in a
temporary folder, through the same Dagster jobs `make demo` runs."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.lib import settings

# The session's tests land fleets of different days into one process, whose definitions read the partitions once,
# when a test module first imports them (at collection): configured to begin before every fleet's first day. The
# default, the earliest landed day, has its own tests in fresh processes (test_defs.py).
os.environ.setdefault("WAREHOUSE_FIRST_PARTITION", "2016-01-01")

FIXTURES = Path(__file__).parent / "fixtures"
TINY_FLEET = ["--days", "2", "--sample-interval-s", "600", "--seed", "11", "--jobs-per-day", "60"]


def uv_executable() -> str:
    """uv itself, for the tools that run in environments of their own: `uv run` tells its children where it is
    (UV); otherwise the one on PATH. `make test` installs uv where it is missing."""
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        pytest.fail("uv is not on PATH: the BI reader and FOCUS validator tests make their own environments with it")
    return found


def build_partial_warehouse(work: Path, landing: Path, days: list[str], select: str, build: bool = False) -> None:
    """A warehouse file of landed days: every source's raw table (those with no files empty, the pulled Prometheus
    source's too: staging and the redaction read them all), then `dbt run -s <select>` (or `dbt build`, seeds and
    data tests too) on it, the incremental models' batches bounded to the first day and the day either side, as a
    refresh of that day has them."""
    from pipelines.ingest.registry import PROMETHEUS, SOURCES
    from pipelines.ingest.writer import replace_day

    with duckdb.connect(str(work)) as con:
        for day in days:
            for source in [*SOURCES, PROMETHEUS]:
                files = source.files(landing, day)
                if files or day == days[0]:  # every table made on the first day; later days loaded where landed
                    replace_day(con, source, day, files)
    env = os.environ | {"WAREHOUSE_WORK_PATH": str(work), "WAREHOUSE_PSEUDONYM_KEY": "test"}
    first = date.fromisoformat(min(days)) - timedelta(days=1)
    # a build's data tests: those of the selected models alone (a singular test reading others would fail)
    tested = ["--exclude-resource-type", "unit_test", "--indirect-selection", "cautious"]
    command = ["build", *tested] if build else ["run"]
    subprocess.run(
        ["dbt", *command, "--quiet", "--profiles-dir", ".", "-s", select, *own_target_path(work.parent)]
        + ["--event-time-start", f"{first:%Y-%m-%d}", "--event-time-end", f"{first + timedelta(days=3):%Y-%m-%d}"],
        cwd=settings.DBT_DIR,
        env=env,
        check=True,
    )


def run_dbt_parse() -> None:
    """Parse under the session's environment. dbt parses the whole project again, in every invocation, whenever the
    profile's variables (the working file's path) differ from its last parse's, as `make setup`'s do."""
    subprocess.run(["dbt", "parse", "--quiet", "--profiles-dir", "."], cwd=settings.DBT_DIR, check=True)


def own_target_path(folder: Path) -> list[str]:
    """dbt arguments for a run on a warehouse of its own: its parse kept apart from the session's (see above)."""
    return ["--target-path", str(folder / "dbt_target")]


@pytest.fixture(scope="session")
def traces() -> Path:
    from generators.demo import traces_dir  # beside the repo, or TRACES_DIR: where `make demo DATASET=...` looks

    found = traces_dir()
    if not found.is_dir():
        pytest.skip(f"public traces folder {found} is absent (it sits beside the repo in CI and dev)")
    return found


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
        # the session's own dbt parse (and partial-parse state): pytest-xdist's workers run dbt side by side
        "DBT_TARGET_PATH": str(root / "dbt_target"),
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
    land_hostile_deliveries(Path(os.environ["LANDING_DIR"]))
    materialize_all(instance)
    return truth


@pytest.fixture(scope="module")
def published(tiny_warehouse):
    """The tiny fleet's published file, opened as analysts open it."""
    from pipelines.lib.publish import open_published

    with open_published(Path(os.environ["WAREHOUSE_PATH"])) as con:
        yield con


HOSTILE = {  # what land_hostile_deliveries lands: the reasons and file statuses the warehouse must report
    "reasons": {"overlapping_validity", "duplicate_label", "bad_value"},
    "statuses": {"unreadable", "duplicate", "empty"},
    "stray_folder": "dcgm_samples/dt=2025-13-01",
}


def land_hostile_deliveries(landing: Path) -> None:
    """Beside the fleet's own files, what real deliveries bring on a bad day; none of it may change a figure or
    stop the build: a host listed twice, a label named twice, NaN for a run id, a truncated gzip, the same file
    delivered twice under two names, an empty file, a folder for a day that does not exist."""
    day = sorted(p.name for p in (landing / "hosts").iterdir())[0]
    hosts = landing / "hosts" / day / "hosts.csv"
    first = hosts.read_text().splitlines()[1].split(",")
    hosts.write_text(hosts.read_text() + ",".join([*first[:8], first[8].replace("00:00:00", "06:00:00"), ""]) + "\n")
    scrape = sorted((landing / "dcgm_samples" / day).glob("*.prom"))[0]
    with scrape.open("a") as f:
        f.write('DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-x",Hostname="h",gpu="1"} 50\n')
    events = sorted((landing / "training_events" / day).glob("*.jsonl"))[0]
    with events.open("a") as f:
        f.write('{"ts": "' + day[3:] + 'T00:00:00Z", "run_id": NaN, "event": "progress"}\n')
    (landing / "dcgm_samples" / day / "late-node.prom.gz").write_bytes(gzip.compress(scrape.read_bytes())[:-40])
    sacct = sorted((landing / "sacct_jobs" / day).iterdir())[0]
    shutil.copy(sacct, sacct.with_name(sacct.stem + " (1)" + sacct.suffix))
    (landing / "serving_deployments" / day / "resent.csv").write_bytes(b"")
    (landing / HOSTILE["stray_folder"]).mkdir()
