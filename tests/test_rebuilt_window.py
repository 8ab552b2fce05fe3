"""A refresh tests the rows it rebuilt: the dbt tests of models rebuilt by day read the refresh's days (macro
rebuilt_window), so the nightly tests cost a day, not the history; without a recorded window they read every row."""

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.defs.transform.assets import whole_batches
from pipelines.lib import settings
from pipelines.lib.changes import REBUILT_WINDOW, record_rebuild


def dbt_tests_of(model: str, work) -> subprocess.CompletedProcess:
    env = os.environ | {"WAREHOUSE_WORK_PATH": str(work)}
    return subprocess.run(
        ["dbt", "test", "--profiles-dir", ".", "-s", model],
        cwd=settings.DBT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_broken_row_fails_the_tests_only_of_a_refresh_that_rebuilt_it(tiny_warehouse, tmp_path):
    work = tmp_path / "warehouse.duckdb"
    shutil.copy(os.environ["WAREHOUSE_WORK_PATH"], work)
    with duckdb.connect(str(work)) as con:
        first, last = con.execute("select min(hour_at), max(hour_at) from marts.fct_gpu_hourly").fetchall()[0]
        # the first GPU-hour twice: unique_combination(host_id, gpu_index, hour_at) must see it
        con.execute(
            "insert into marts.fct_gpu_hourly select * from marts.fct_gpu_hourly where hour_at = ? limit 1", [first]
        )
        last_day = datetime.combine(last.date(), datetime.min.time(), UTC)
        record_rebuild(con, last_day, last_day + timedelta(days=1), [])

    outside = dbt_tests_of("fct_gpu_hourly", work)
    assert outside.returncode == 0, outside.stdout[-3000:]
    assert "unique_combination_fct_gpu_hourly" in outside.stdout  # it ran, over the rebuilt day

    with duckdb.connect(str(work)) as con:
        first_day = datetime.combine(first.date(), datetime.min.time(), UTC)
        record_rebuild(con, first_day, first_day + timedelta(days=1), [])
    inside = dbt_tests_of("fct_gpu_hourly", work)
    assert inside.returncode != 0
    assert "FAIL 1 unique_combination_fct_gpu_hourly" in inside.stdout, inside.stdout[-3000:]

    with duckdb.connect(str(work)) as con:
        con.execute(f"drop table {REBUILT_WINDOW}")
    by_hand = dbt_tests_of("fct_gpu_hourly", work)
    assert "FAIL 1 unique_combination_fct_gpu_hourly" in by_hand.stdout, by_hand.stdout[-3000:]


def test_a_model_built_by_month_rebuilds_the_whole_months_of_the_days():
    day = datetime(2025, 3, 30, tzinfo=UTC)
    assert whole_batches(day, day + timedelta(days=3), "day") == (day, day + timedelta(days=3))
    assert whole_batches(day, day + timedelta(days=3), "month") == (
        datetime(2025, 3, 1, tzinfo=UTC),
        datetime(2025, 5, 1, tzinfo=UTC),
    )
    # a window ending on the first of a month ends that month's batch there
    assert whole_batches(day, datetime(2025, 4, 1, tzinfo=UTC), "month")[1] == datetime(2025, 4, 1, tzinfo=UTC)
