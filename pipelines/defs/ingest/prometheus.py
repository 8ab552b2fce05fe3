"""GPU telemetry pulled from Prometheus, as a daily-partitioned source asset beside the file loaders: for each day,
every hour's query is fetched first (pipelines/ingest/prometheus.py), then the day is replaced in one transaction
by the same writer, checks and audit as a columnar Parquet delivery. The asset exists only where PROMETHEUS_URL is
set: a warehouse fed by files has no Prometheus to ask, and an asset that always failed would fail every run."""

import tempfile
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from pipelines.defs.automation.partitions import daily
from pipelines.defs.ingest.assets import load_day
from pipelines.defs.quality.checks import build_raw_checks
from pipelines.ingest.prometheus import DEFAULT_LABELS, DEFAULT_METRICS, PrometheusConfig, pull_day
from pipelines.ingest.registry import PROMETHEUS
from pipelines.lib import settings


class PrometheusApi(dg.ConfigurableResource):
    """Where the DCGM series are read from, and how (settings: PROMETHEUS_* environment variables)."""

    url: str
    token_env: str = "PROMETHEUS_TOKEN"  # the environment variable holding the bearer token, if any
    metrics: list[str] = list(DEFAULT_METRICS)
    labels: dict[str, list[str]] = {k: list(v) for k, v in DEFAULT_LABELS.items()}
    timeout_s: float = 60.0
    retries: int = 3
    backoff_s: float = 0.5
    workers: int = 4
    gzip: bool = False  # the answers compressed: for a slow link (costs the server CPU)

    def config(self) -> PrometheusConfig:
        return PrometheusConfig(
            url=self.url,
            token_env=self.token_env,
            metrics=tuple(self.metrics),
            # a mapping names the columns it changes; the others keep their default labels
            labels=DEFAULT_LABELS | {k: tuple(v) for k, v in self.labels.items()},
            timeout_s=self.timeout_s,
            retries=self.retries,
            backoff_s=self.backoff_s,
            workers=self.workers,
            gzip=self.gzip,
        )


def build_prometheus_asset() -> dg.AssetsDefinition:
    """Built, not declared at module level: the loader collects module-level assets, and this one exists only where
    a Prometheus is configured."""

    @dg.asset(
        key=PROMETHEUS.key,
        description=PROMETHEUS.description,
        partitions_def=daily,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool="duckdb_writer",
        group_name="ingest",
        kinds={"duckdb", "prometheus"},
        retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
    )
    def prometheus_samples(
        context: dg.AssetExecutionContext, duckdb: DuckDBResource, prometheus: PrometheusApi
    ) -> dg.MaterializeResult:
        cfg = prometheus.config()
        totals = {
            "queries": 0,
            "samples": 0,
            "response_bytes": 0,
            "rows_read": 0,
            "rows_loaded": 0,
            "rows_quarantined": 0,
        }
        by_reason: dict[str, int] = {}
        changed = []
        for day in context.partition_keys:
            with tempfile.TemporaryDirectory() as scratch:
                pulled = pull_day(cfg, day, Path(scratch))  # every query answered, or nothing is written
                with duckdb.get_connection() as con:
                    summary = load_day(context, con, PROMETHEUS, day, Path(scratch), pulled.files)
            context.log.info(
                f"{day}: pulled {pulled.samples:,} samples of {len(cfg.metrics)} series in {len(pulled.files)} "
                f"queries from {cfg.url}"
            )
            totals["queries"] += len(pulled.files)
            totals["samples"] += pulled.samples
            totals["response_bytes"] += pulled.response_bytes
            for k in ("rows_read", "rows_loaded", "rows_quarantined"):
                totals[k] += summary.get(k, 0)
            for reason, n in summary.get("by_reason", {}).items():
                by_reason[reason] = by_reason.get(reason, 0) + n
            if not summary.get("unchanged"):
                changed.append(day)
        return dg.MaterializeResult(
            metadata={
                "days": len(context.partition_keys),
                "table": f"raw.{PROMETHEUS.table}",
                "prometheus": cfg.url,
                "queries": totals["queries"],
                "samples": totals["samples"],
                "response_bytes": totals["response_bytes"],
                "rows_read": totals["rows_read"],
                "dagster/row_count": totals["rows_loaded"],
                "rows_quarantined": totals["rows_quarantined"],
                "quarantined_by_reason": by_reason,
                "changed_days": changed,
                **({"unchanged": True} if not changed else {}),
            }
        )

    return prometheus_samples


@dg.definitions
def prometheus_defs() -> dg.Definitions:
    url = settings.prometheus_url()
    if not url:
        return dg.Definitions()
    return dg.Definitions(
        assets=[build_prometheus_asset()],
        asset_checks=[build_raw_checks(PROMETHEUS.table)],  # the day rules of the columnar files, as blocking checks
        resources={"prometheus": PrometheusApi(url=url, **settings.prometheus_options())},
    )
