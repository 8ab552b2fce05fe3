"""The CLI gives back pool slots that only dead runs hold, and leaves live ones alone."""

import os
import subprocess

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from pipelines.cli import PID_TAG, failure_reason, ingest_report, release_stale_claims


def dead_pid() -> str:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return str(proc.pid)


def test_slots_of_dead_cli_runs_are_released_and_live_ones_kept():
    with dg.instance_for_test(overrides={"concurrency": {"pools": {"default_limit": 1}}}) as instance:
        storage = instance.event_log_storage
        dead = DagsterRun(
            job_name="ingest_day_job", run_id="dead-run", status=dg.DagsterRunStatus.STARTED, tags={PID_TAG: dead_pid()}
        )
        live = DagsterRun(
            job_name="ingest_day_job",
            run_id="live-run",
            status=dg.DagsterRunStatus.STARTED,
            tags={PID_TAG: str(os.getpid())},
        )
        instance.add_run(dead)
        instance.add_run(live)
        storage.initialize_concurrency_limit_to_default("duckdb_writer")
        assert storage.claim_concurrency_slot("duckdb_writer", "dead-run", "step").is_claimed
        assert not storage.claim_concurrency_slot("duckdb_writer", "live-run", "step").is_claimed  # pool of 1

        assert release_stale_claims(instance) == ["dead-run"]
        assert instance.get_run_by_id("dead-run").status == dg.DagsterRunStatus.FAILURE
        assert storage.get_concurrency_info("duckdb_writer").claimed_slots == []
        assert storage.claim_concurrency_slot("duckdb_writer", "live-run", "step").is_claimed  # the live run proceeds
        assert release_stale_claims(instance) == []


def test_a_failed_run_is_said_in_one_line_naming_the_step_and_the_root_error():
    @dg.asset
    def sacct_jobs():
        raise OSError(28, "No space left on device")

    result = dg.materialize([sacct_jobs], raise_on_error=False)
    reason = failure_reason(result)
    assert reason.startswith("sacct_jobs: OSError: [Errno 28] No space left on device; see the Dagster run ")
    assert "\n" not in reason and "Traceback" not in reason


def test_a_run_says_what_its_loads_rejected(tmp_path):
    """The ingest asset's metadata, read back by the CLI: quarantined lines by reason, and the files not read,
    counted once for a run over two days."""
    from dagster_duckdb import DuckDBResource

    from pipelines.defs.ingest.assets import ingest_assets
    from pipelines.defs.resources import LandingArea

    folder = tmp_path / "landing" / "sacct_jobs" / "dt=2025-03-03"
    folder.mkdir(parents=True)
    (folder / "jobs.log").write_text(
        "JobID|Cluster|Account|User|Submit|Start|End|State|AllocTRES|NodeList\n"
        "7|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00|2025-03-03T02:00:00|COMPLETED|gres/gpu=8|n1\n"
        "8|c|t|u|2025-03-03T00:00:00|2025-03-03T01:00:00\n"
    )
    (folder / "cut.log.gz").write_bytes(b"not gzip\n")
    clean_day = tmp_path / "landing" / "sacct_jobs" / "dt=2025-03-04" / "jobs.log"
    clean_day.parent.mkdir()
    clean_day.write_text((folder / "jobs.log").read_text().splitlines(keepends=True)[0] + "9|c|t|u|||||gres/gpu=1|n1\n")
    sacct = next(a for a in ingest_assets if a.key.path[-1] == "sacct_jobs")
    result = dg.materialize(  # one run over both days, as the CLI runs consecutive days
        [sacct],
        tags={"dagster/asset_partition_range_start": "2025-03-03", "dagster/asset_partition_range_end": "2025-03-04"},
        resources={
            "duckdb": DuckDBResource(database=str(tmp_path / "w.duckdb")),
            "landing": LandingArea(path=str(tmp_path / "landing")),
        },
    )
    said = ingest_report(result)
    assert said.startswith("3 file(s), 3 new line(s) read, 1 quarantined (field_count 1), 1 file(s) not read (")
    assert "cut.log.gz: BadGzipFile" in said


def test_a_run_that_rejected_nothing_says_what_it_read():
    @dg.asset
    def clean():
        return dg.MaterializeResult(
            metadata={
                "files": 2,
                "rows_read": 10,
                "rows_quarantined": 0,
                "quarantined_by_reason": {},
                "unread_files": [],
            }
        )

    assert ingest_report(dg.materialize([clean])) == "2 file(s), 10 new line(s) read"
