"""Stale sources: a raw source not loaded for more than a day and a bit is reported by a freshness check, which
the freshness sensor evaluates (visible in the UI as a failed check on the source's asset)."""

from datetime import timedelta

import dagster as dg

from pipelines.ingest.registry import SOURCES

# daily exports land once a day; allow a few hours of lateness before calling a source stale
raw_freshness_checks = dg.build_last_update_freshness_checks(
    assets=[dg.AssetKey(s.key) for s in SOURCES],
    lower_bound_delta=timedelta(hours=30),
    severity=dg.AssetCheckSeverity.WARN,
)

raw_freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=raw_freshness_checks, name="raw_freshness_sensor"
)
