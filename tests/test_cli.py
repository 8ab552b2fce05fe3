"""The CLI gives back pool slots that only dead runs hold, and leaves live ones alone."""

import os
import subprocess

import dagster as dg
from dagster._core.storage.dagster_run import DagsterRun

from pipelines.cli import PID_TAG, release_stale_claims


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
