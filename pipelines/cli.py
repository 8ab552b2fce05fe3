"""Command line: `python -m pipelines.cli materialize` ingests every landed day and builds and publishes the
warehouse through the same Dagster jobs the schedule and sensors run; `summary` prints the published warehouse's
headline, `quarantine` what the loaders rejected. (`python -m generators.demo` lands a simulated fleet or a public
trace first, then calls these.)"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.defs.transform.stale import built_at, loaded_at, stale_days
from pipelines.ingest.landing import landed_partitions, stray_day_folders
from pipelines.lib import settings
from pipelines.lib.processes import process_alive
from pipelines.lib.publish import open_published

PID_TAG = "pipelines/cli_pid"


def release_stale_claims(instance: dg.DagsterInstance) -> list[str]:
    """Give back duckdb_writer slots that no live run can use: slots still claimed by runs that have ended, and
    runs of an earlier CLI process that was killed (they stay STARTED and would hold the pool forever)."""
    released = []
    info = instance.event_log_storage.get_concurrency_info("duckdb_writer")
    holders = {c.run_id for c in info.claimed_slots} | {p.run_id for p in info.pending_steps}
    for run_id in holders:
        run = instance.get_run_by_id(run_id)
        dead_cli_run = run is not None and PID_TAG in run.tags and not process_alive(run.tags[PID_TAG])
        if run is None or run.is_finished or dead_cli_run:
            if dead_cli_run and not run.is_finished:
                instance.report_run_failed(run, "the CLI process that ran it is gone")
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
            released.append(run_id)
    return released


def contiguous_ranges(days: list[str]) -> list[tuple[str, str]]:
    """Consecutive days grouped: ["03-01", "03-02", "03-05"] -> [("03-01", "03-02"), ("03-05", "03-05")]."""
    ranges: list[tuple[str, str]] = []
    for day in sorted(set(days)):
        if ranges and date.fromisoformat(day) - date.fromisoformat(ranges[-1][1]) == timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def partition_span(days: list[str]) -> dict[str, str]:
    """The tags of one Dagster run over days: a partition, or the range from the first to the last."""
    first, last = min(days), max(days)
    if first == last:
        return {"dagster/partition": first}
    return {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}


def materialize_all(instance: dg.DagsterInstance | None = None, days: list[str] | None = None) -> None:
    """Ingest every landed day (or only `days`), then build and publish, each as a Dagster run."""
    # imported here, after the caller landed its files: the partitions begin at the earliest landed day
    from pipelines.definitions import defs
    from pipelines.defs.automation.partitions import daily
    from pipelines.defs.transform.assets import incremental_dbt_assets

    definitions = defs()
    instance = instance or dg.DagsterInstance.get()
    for run_id in release_stale_claims(instance):
        print(f"released the duckdb_writer pool from stale run {run_id}", flush=True)
    tags = {PID_TAG: str(os.getpid())}
    ingest = definitions.resolve_job_def("ingest_day_job")
    first = f"{daily.start:%Y-%m-%d}"
    for folder in stray_day_folders(settings.landing_dir(), first):
        print(f"skipped {folder}: not a day on or after {first} (YYYY-MM-DD)", flush=True)
    landed = days or landed_partitions(settings.landing_dir(), first)
    beyond = [day for day in landed if not daily.has_partition_key(day)]
    if beyond:
        print(f"skipped {', '.join(beyond)}: after the last partition day (WAREHOUSE_LAST_PARTITION)", flush=True)
        landed = [day for day in landed if day not in beyond]
    for first, last in contiguous_ranges(landed):
        # a run of consecutive days is one Dagster run (each day still replaced on its own)
        result = run_quietly(ingest, instance, tags | partition_span([first, last]))
        if not result.success:
            raise SystemExit(f"ingest of {first}..{last} failed: {failure_reason(result)}")
        print(f"ingest   {first}..{last}: {ingest_report(result)}", flush=True)
    # the days whose raw data the incremental models have not built since they were loaded (an earlier run
    # killed between its load and its refresh included); with none, the last landed day, so that the
    # unpartitioned models and the publish still follow the latest inputs
    with duckdb.connect(str(settings.work_db()), read_only=True) as con:
        loaded = loaded_at(con)
    stale = stale_days(loaded, built_at(instance, list(incremental_dbt_assets().keys)))
    known = sorted(set(landed) | set(loaded))
    if not known:
        print("nothing landed: no refresh", flush=True)
        return
    rebuild = stale or known[-1:]
    days = f"{len(stale)} changed day(s){': ' + stale[0] + ' .. ' + stale[-1] if stale else ''}"
    print(f"refresh  dbt build of {days}, publish, exports, report ...", flush=True)
    result = run_quietly(definitions.resolve_job_def("refresh_warehouse_job"), instance, tags | partition_span(rebuild))
    if not result.success:
        raise SystemExit(f"dbt build / publish failed: {failure_reason(result)}")
    print(f"refresh  {refresh_report(result)}; published {settings.published_db()} (full log: {run_log()})", flush=True)
    print(f"report   {settings.report_html()}", flush=True)


def run_log() -> Path:
    """Where the CLI's runs write everything they log (the Dagster UI keeps the same events per run)."""
    return settings.work_db().parent / "logs" / "pipeline.log"


def run_quietly(job: dg.JobDefinition, instance: dg.DagsterInstance, tags: dict[str, str]):
    """Run a job in this process, everything it writes (Dagster's events, dbt's lines, GX's progress bars) sent to
    the run log; a failure is returned (and said in one line), not raised as a traceback."""
    log = run_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a") as out, redirect_stdout(out), redirect_stderr(out):
        return job.execute_in_process(instance=instance, tags=tags, raise_on_error=False)


def failure_reason(result) -> str:
    """The first failed step and the error at the root of it, in one line, and where to read the rest."""
    failures = result.get_step_failure_events()
    if not failures:
        return f"the run ended {result.dagster_run.status.value}; see the Dagster run {result.run_id}"
    error = failures[0].step_failure_data.error
    while error is not None and error.cause is not None:  # Dagster wraps the user code's error
        error = error.cause
    message = (error.message if error else "no error recorded").strip().splitlines()[0]
    more = f" (and {len(failures) - 1} more step(s))" if len(failures) > 1 else ""
    return f"{failures[0].step_key}: {message}{more}; see the Dagster run {result.run_id}"


def ingest_report(result) -> str:
    """What the run's loads read and rejected, from the materializations' metadata: files, lines, quarantined lines
    by reason and unread files."""
    totals, reasons, unread = {"files": 0, "rows_read": 0, "rows_quarantined": 0}, {}, []
    # a run over several days records one materialization per day, each with the whole run's metadata
    once = {event.asset_key: event for event in result.get_asset_materialization_events()}
    for event in once.values():
        meta = {k: v.value for k, v in event.step_materialization_data.materialization.metadata.items()}
        for key in totals:
            totals[key] += meta.get(key, 0)
        for reason, n in meta.get("quarantined_by_reason", {}).items():
            reasons[reason] = reasons.get(reason, 0) + n
        unread += meta.get("unread_files", [])
    said = [f"{totals['files']:,} file(s), {totals['rows_read']:,} new line(s) read"]
    if totals["rows_quarantined"]:
        why = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items()))
        said.append(f"{totals['rows_quarantined']:,} quarantined ({why})")
    if unread:
        said.append(f"{len(unread)} file(s) not read ({'; '.join(unread[:3])}{' ...' if len(unread) > 3 else ''})")
    see = "; see `python -m pipelines.cli quarantine`" if len(said) > 1 else ""
    return ", ".join(said) + see


def refresh_report(result) -> str:
    """What a refresh built and checked: dbt models (as assets), their tests and the raw checks (asset checks)."""
    built = {e.asset_key for e in result.get_asset_materialization_events()}
    checks = result.get_asset_check_evaluations()
    failed = sum(not c.passed for c in checks)
    return f"{len(built)} asset(s) built, {len(checks) - failed} check(s) passed" + (
        f", {failed} failed" if failed else ""
    )


class Shown:
    """A summary figure: formatted as asked, or `not measured` when the data could not measure it (NULL)."""

    def __init__(self, value):
        self.value = value

    def __format__(self, spec: str) -> str:
        return NOT_MEASURED if self.value is None else format(self.value, spec)


NOT_MEASURED = "not measured"


def summary() -> str:
    """The headline of the published warehouse: rows of marts.rpt_fleet_summary, formatted (dbt owns the math). A
    line whose leading figure this data cannot measure says so, rather than print zeros."""
    path = settings.published_db()
    with open_published(path) as con:
        result = con.execute("select * from marts.rpt_fleet_summary")
        row = dict(zip([d[0] for d in result.description], result.fetchall()[0], strict=True))
        minutes = ("median_time_to_start_s", "median_time_to_recover_s", "median_queue_wait_s")
        row |= {k[:-2] + "_min": None if row[k] is None else row[k] / 60 for k in minutes}
        advice = con.execute(
            "select team, model_name, gpu_band, current_interval_s, optimal_interval_s, gpu_hours_saved_per_month, "
            "incidents, count(*) over () as advised "
            "from marts.rpt_checkpoint_interval_advice where is_advised "
            "order by gpu_hours_saved_per_month desc limit 1"
        ).fetchall()
    r = {k: Shown(v) for k, v in row.items()}
    # (label, the figure without which the line says nothing, the line)
    measured = [
        (
            "fleet",
            "hosts",
            f"{r['hosts']:,} hosts, {r['gpus']:,} GPUs, {r['days']} days "
            f"({r['window_start']:%Y-%m-%d} .. {r['window_end']:%Y-%m-%d})",
        ),
        (
            "capacity",
            "capacity_gpu_hours",
            f"{r['capacity_gpu_hours']:,.0f} GPU-hours, ${r['capacity_cost_usd']:,.0f} "
            f"at inventory rates ({r['idle_cost_share']:.1%} of it idle)",
        ),
        (
            "allocated",
            "allocated_ratio",
            f"{r['allocated_ratio']:.1%}   intentional idle: "
            f"{r['intentional_idle_ratio']:.1%}   unintended idle: {r['unintended_idle_ratio']:.1%}",
        ),
        (
            "ROI chain",
            "lower_roi_ratio",
            f"lower-ROI {r['lower_roi_ratio']:.1%} of capacity, higher-ROI "
            f"{r['higher_roi_ratio']:.1%}; {r['models_trained']} models trained, {r['models_deployed']} deployed",
        ),
        (
            "training",
            "ett_ratio",
            f"ETT {r['ett_ratio']:.1%} of job time ({r['requeue_wait_ratio']:.1%} waiting to "
            f"requeue; goodput of held GPU time {r['held_goodput_ratio']:.1%}); median time to start "
            f"{r['median_time_to_start_min']:.1f} min, to recover {r['median_time_to_recover_min']:.1f} min",
        ),
        (
            "util",
            "allocated_gpu_util_ratio",
            f"{r['allocated_gpu_util_ratio']:.1%} mean GPU utilisation while held; energy {r['energy_mwh']:.2f} MWh",
        ),
        (
            "jobs",
            "scheduler_jobs",
            f"{r['scheduler_jobs']:,} scheduler jobs, {r['failed_jobs']:,} failed, "
            f"{r['preempted_jobs']:,} preempted; median queue wait {r['median_queue_wait_min']:.1f} min",
        ),
        (
            "traffic",
            "inference_requests",
            f"{r['inference_requests']:,} inference requests; "
            f"{r['low_traffic_models']} low-traffic models, ${r['low_traffic_reclaimable_usd_per_month']:,.0f}/month "
            "reclaimable",
        ),
    ]
    lines = [
        f"warehouse: {path}  (open read-only: make sql, or any DuckDB >= 1.2 reader)",
        f"coverage:  GPU telemetry {r['telemetry_coverage']}, jobs {r['jobs_coverage']}, "
        f"traffic {r['traffic_coverage']} (see marts.dim_dataset_coverage)",
    ]
    for label, leading, text in measured:
        lines.append(f"{label + ':':<10} {NOT_MEASURED + ' on this data' if row[leading] is None else text}")
    for team, model, band, current, optimal, saved, incidents, advised in advice:
        lines.append(
            f"advice:    {team}/{model} ({band} GPUs): checkpoint every {optimal / 60:.0f} min instead of "
            f"{current / 60:.0f} min, saving {saved:,.0f} GPU-hours/month "
            f"(on {incidents} incident(s) of its own and its GPU band's rate; {advised} families advised)"
        )
    if not advice:
        lines.append("advice:    no family's interruptions are enough to advise a checkpoint interval")
    return "\n".join(lines)


def quarantine_summary() -> str:
    """What the loader rejected, per raw table and day (marts.rpt_load_quality_daily of the published file): lines
    quarantined by reason, files not read (unreadable), read once for two deliveries (duplicate) or holding no data
    line (empty)."""
    with open_published(settings.published_db()) as con:
        rows = con.execute(
            "select table_name, partition_date, files, rows_read, rows_loaded, rows_quarantined, "
            "quarantined_by_reason, unreadable_files, duplicate_files, empty_files from marts.rpt_load_quality_daily "
            "order by rows_quarantined + unreadable_files + duplicate_files desc, table_name, partition_date"
        ).fetchall()
    lines = [f"{'table':<22} {'day':<10} {'files':>5} {'read':>10} {'loaded':>10} {'quarantined':>11}  reasons"]
    for table, day, files, read, loaded, quarantined, reasons, unreadable, duplicate, empty in rows:
        why = [f"{k} {v}" for k, v in (reasons or {}).items()]
        statuses = ((unreadable, "unreadable"), (duplicate, "duplicate"), (empty, "empty"))
        why += [f"{n} file(s) {what}" for n, what in statuses if n]
        lines.append(
            f"{table:<22} {day!s:<10} {files:>5} {read:>10,} {loaded:>10,} {quarantined:>11,}  {', '.join(why)}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    mat = sub.add_parser("materialize", help="ingest every landed day, build and publish")
    mat.add_argument("--day", action="append", dest="days", help="ingest only this day (YYYY-MM-DD); repeatable")
    sub.add_parser("summary", help="print the published warehouse's summary")
    sub.add_parser("quarantine", help="rows read, loaded and quarantined per raw table and day, with reasons")
    args = p.parse_args(argv)
    if args.command == "quarantine":
        print(quarantine_summary())
        return
    if args.command == "materialize":
        materialize_all(days=args.days)
    print(summary())


if __name__ == "__main__":
    sys.exit(main())
