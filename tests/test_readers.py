"""The published file in the readers BI tools and analysts use: DuckDB 1.x, not the 2.x the pipeline writes with.
The DuckDB 1.5 CLI comes from the locked environment (`make sql`); SQLAlchemy through duckdb-engine, the driver
Superset and other Python BI tools use, runs on DuckDB 1.2 (the oldest the default storage version serves) in an
environment of its own, as such a tool would install it."""

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from conftest import uv_executable
from test_publish import ROWS, build_version

from pipelines.lib.publish import publish_warehouse
from pipelines.lib.settings import DEFAULT_STORAGE_VERSION

CLI = shutil.which("duckdb", path=str(Path(sys.executable).parent))

SQLALCHEMY_READER = textwrap.dedent(
    """
    import sys, time, duckdb, sqlalchemy
    path, stop, rows = sys.argv[1], time.time() + float(sys.argv[2]), int(sys.argv[3])
    engine = sqlalchemy.create_engine(
        f"duckdb:///{path}", connect_args={"read_only": True}, poolclass=sqlalchemy.pool.NullPool
    )
    same_version = "select count(*), min(v) = max(v) and min(v) = :v from marts.facts"
    opened, seen = 0, set()
    while time.time() < stop:
        with engine.connect() as con:
            v = con.execute(sqlalchemy.text("select v from marts.version")).scalar()
            n, same = con.execute(sqlalchemy.text(same_version), {"v": v}).one()
        assert n == rows and same, f"inconsistent version {v}: {n} rows"
        opened += 1
        seen.add(v)
    print(duckdb.__version__, opened, len(seen))
    """
)


def test_the_published_demo_opens_in_the_duckdb_1_5_cli(published, tiny_warehouse):
    """What `make sql` opens: the CLI reads the published file, its views included, and gets the marts' figures."""
    assert CLI, "the duckdb CLI (package duckdb-cli) is part of the locked environment"
    path = os.environ["WAREHOUSE_PATH"]
    out = subprocess.run(
        [
            CLI,
            "-readonly",
            "-csv",
            "-noheader",
            path,
            "-c",
            "select version(); "
            "select hosts, gpus, scheduler_jobs from marts.rpt_fleet_summary; "
            "select count(*) from staging.stg_inventory__hosts",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0].startswith("v1.5.")
    expected = published.execute("select hosts, gpus, scheduler_jobs from marts.rpt_fleet_summary").fetchall()[0]
    assert out[1] == ",".join(str(v) for v in expected)
    assert int(out[2]) == published.execute("select count(*) from staging.stg_inventory__hosts").fetchall()[0][0] > 0


def test_duckdb_1x_readers_open_only_complete_versions_while_publishes_happen(tmp_path):
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    build_version(work, 0)
    publish_warehouse(work, published, storage_version=DEFAULT_STORAGE_VERSION)
    stop, published_versions = threading.Event(), []

    def publisher():
        version = 1
        while not stop.is_set():
            build_version(work, version)
            publish_warehouse(work, published, storage_version=DEFAULT_STORAGE_VERSION)
            published_versions.append(version)
            version += 1

    thread = threading.Thread(target=publisher)
    thread.start()
    try:
        env = os.environ | {"UV_PYTHON_DOWNLOADS": "never"}
        bi = subprocess.Popen(
            [
                uv_executable(),
                "run",
                "--no-project",
                "--python",
                "3.11",
                "--with",
                "duckdb>=1.2,<1.3",
                "--with",
                "duckdb-engine==0.17.*",
                "--with",
                "sqlalchemy>=2,<3",
                "python",
                "-c",
                SQLALCHEMY_READER,
                str(published),
                "8",
                str(ROWS),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        cli_reads = []
        while bi.poll() is None:
            cli = subprocess.run(
                [
                    CLI,
                    "-readonly",
                    "-csv",
                    "-noheader",
                    str(published),
                    "-c",
                    "select v, (select count(*) from marts.facts where v = version.v) from marts.version",
                ],
                capture_output=True,
                text=True,
            )
            assert cli.returncode == 0, cli.stderr
            version, rows = map(int, cli.stdout.strip().split(","))
            assert rows == ROWS, f"the CLI saw version {version} with {rows} rows"
            cli_reads.append(version)
        out, err = bi.communicate()
        assert bi.returncode == 0, err
    finally:
        stop.set()
        thread.join()
    driver, opened, versions = out.split()
    assert driver.startswith("1.2.")
    assert int(opened) > 10 and int(versions) > 1 and len(set(cli_reads)) > 1
    assert len(published_versions) > 2
