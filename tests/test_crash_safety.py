"""A load killed by SIGKILL at any point leaves the raw tables as they were; the next run converges."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import polars as pl

from pipelines.ingest.landing import landed
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.writer import replace_day

DAY = "2025-03-03"
LOADER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import duckdb
    from pipelines.ingest.registry import BY_TABLE
    from pipelines.ingest.landing import landed
    from pipelines.ingest.writer import replace_day
    db, landing, day = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    source = BY_TABLE["inference_requests"]
    files = sorted((landing / "inference_requests" / f"dt={day}").glob("*.csv"))
    with duckdb.connect(db) as con:
        replace_day(con, source, day, landed(files, landing))
""")


def write_requests(path, n: int, model: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(
        {
            "TIMESTAMP": [f"2025-03-03 {i % 24:02d}:00:00.0000000" for i in range(n)],
            "Model": [model] * n,
            "ContextTokens": list(range(n)),
            "GeneratedTokens": [5] * n,
            "LatencyMs": [10.0] * n,
        }
    ).write_csv(path)


def digest(db):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select count(*), min(model), max(model), sum(hash(t)) from raw.inference_requests t "
            "where partition_date = ?",
            [DAY],
        ).fetchall()[0]


def test_a_load_killed_at_any_point_keeps_the_old_day_and_the_rerun_converges(tmp_path):
    db, landing = tmp_path / "w.duckdb", tmp_path / "landing"
    f = landing / "inference_requests" / f"dt={DAY}" / "requests.csv"
    write_requests(f, 1000, "old")
    source = BY_TABLE["inference_requests"]
    with duckdb.connect(str(db)) as con:
        replace_day(con, source, DAY, landed([f], landing))
    before = digest(db)
    write_requests(f, 1_500_000, "new")  # a re-delivered, much larger file for the same day
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    outcomes = set()
    for delay in (0.5, 1.5, 3.0, 5.0):
        proc = subprocess.Popen([sys.executable, "-c", LOADER, str(db), str(landing), DAY], env=env)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = digest(db)  # the file opens (the WAL of a killed writer is recovered) and holds a whole day
        assert now == before or (now[0], now[1], now[2]) == (1_500_000, "new", "new"), now
        outcomes.add("old" if now == before else "new")
    assert "old" in outcomes  # at least one kill landed before the commit
    subprocess.run([sys.executable, "-c", LOADER, str(db), str(landing), DAY], env=env, check=True)
    assert digest(db)[:3] == (1_500_000, "new", "new")
    with duckdb.connect(str(db), read_only=True) as con:
        audit = con.execute("select count(*), sum(rows_read) from raw.load_audit").fetchall()[0]
    assert audit == (1, 1_500_000)  # one audit row for the file, however many attempts
