import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines.defs.automation.jobs import ingest_job, refresh_warehouse_job
from pipelines.defs.automation.partitions import daily
from pipelines.ingest.landing import is_partition
from pipelines.lib import settings

PARTITION_TAGS = ("dagster/partition", "dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def landed_state(landing: Path) -> dict[str, str]:
    """Fingerprint per partition: the names, sizes and mtimes of its files (any change = re-load the day)."""
    by_day: dict[str, list[str]] = {}
    for f in sorted(landing.glob("*/dt=*/*")):
        if f.is_file():
            st = f.stat()
            by_day.setdefault(f.parent.name[3:], []).append(
                f"{f.parent.parent.name}/{f.name}:{st.st_size}:{st.st_mtime_ns}"
            )
    return {day: hashlib.sha256("\n".join(items).encode()).hexdigest()[:16] for day, items in by_day.items()}


@dg.sensor(job=ingest_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_files_sensor(context: dg.SensorEvaluationContext):
    """A new or changed file under data/landing/<table>/dt=DAY/ re-loads DAY (late files included)."""
    seen = json.loads(context.cursor or "{}")
    now = landed_state(settings.landing_dir())
    first = f"{daily.start:%Y-%m-%d}"
    for day, fingerprint in sorted(now.items()):
        # dt=2025-13-01, or a day outside the partitions the definitions loaded with: never a run
        if not (is_partition(day, first) and daily.has_partition_key(day)):
            context.log.warning(
                f"skipped dt={day}: not a partition day (YYYY-MM-DD, {first} or later; days before the first or "
                "after the last need WAREHOUSE_FIRST_PARTITION / WAREHOUSE_LAST_PARTITION and a reload)"
            )
        elif seen.get(day) != fingerprint:
            yield dg.RunRequest(run_key=f"{day}:{fingerprint}", partition_key=day)
    context.update_cursor(json.dumps(now))


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingest_job],
    request_job=refresh_warehouse_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def refresh_after_ingest_sensor(context: dg.RunStatusSensorContext):
    """Rebuild the models and republish after any ingest succeeds, for the days it loaded: its partition, or the
    range a backfill launched (the incremental models widen it by the day either side)."""
    run = context.dagster_run
    return dg.RunRequest(run_key=f"after:{run.run_id}", tags=partition_tags(run.tags))


def partition_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags that name a run's days: one partition, or the first and last of a range."""
    return {k: v for k, v in tags.items() if k in PARTITION_TAGS}
