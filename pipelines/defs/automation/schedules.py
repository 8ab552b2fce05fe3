import dagster as dg

from pipelines.defs.automation.jobs import ingest_job

# at 00:30 UTC load yesterday's partition; the refresh follows via refresh_after_ingest_sensor
ingest_day_schedule = dg.build_schedule_from_partitioned_job(ingest_job, hour_of_day=0, minute_of_hour=30)
