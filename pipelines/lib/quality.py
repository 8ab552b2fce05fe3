"""Great Expectations suites for the raw sources, as data: (check name, expectation class, arguments).

Kept free of Dagster, and GX is imported only when a suite is built or run (its import costs seconds)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

EVENTS = [
    "submitted",
    "allocated",
    "init_started",
    "init_finished",
    "compile_started",
    "compile_finished",
    "first_batch",
    "checkpoint_started",
    "checkpoint_saved",
    "data_stall_started",
    "data_stall_finished",
    "progress",
    "publish_started",
    "publish_finished",
    "attempt_ended",
    "job_ended",
]
STAGES = ["experimentation", "training", "evaluation", "deployed", "retired"]
MAX_ROWS_PER_DAY = 500_000_000  # volume: a day is never empty, and never absurdly large


@dataclass(frozen=True)
class Check:
    name: str
    expectation: str  # class name in gx.expectations
    kwargs: dict
    description: str
    # a check that holds only on data covering the whole fleet: judged only when this subject's coverage is full
    needs_full: str | None = None


def _volume() -> Check:
    return Check(
        "rows_in_partition_within_bounds",
        "ExpectTableRowCountToBeBetween",
        {"min_value": 1, "max_value": MAX_ROWS_PER_DAY},
        "the day has rows, and not absurdly many",
    )


def _not_null(column: str) -> Check:
    return Check(f"{column}_present", "ExpectColumnValuesToNotBeNull", {"column": column}, f"{column} is never empty")


def _between(name: str, column: str, low=None, high=None, **extra) -> Check:
    return Check(
        name,
        "ExpectColumnValuesToBeBetween",
        {"column": column, "min_value": low, "max_value": high, **extra},
        f"{column} within [{low}, {high}]",
    )


def _in_set(column: str, values: list[str]) -> Check:
    return Check(
        f"{column}_known",
        "ExpectColumnValuesToBeInSet",
        {"column": column, "value_set": values},
        f"{column} is one of {', '.join(values)}",
    )


def _metric(metric: str) -> dict:
    return {"row_condition": f'metric=="{metric}"', "condition_parser": "pandas"}


SUITES: dict[str, list[Check]] = {
    "dcgm_samples": [
        _volume(),
        _not_null("scraped_at"),
        _not_null("hostname"),
        _between("gpu_util_in_range", "value", 0, 100, **_metric("DCGM_FI_DEV_GPU_UTIL")),
        _between("sm_active_in_range", "value", 0, 1, **_metric("DCGM_FI_PROF_SM_ACTIVE")),
        _between("power_not_negative", "value", 0, None, **_metric("DCGM_FI_DEV_POWER_USAGE")),
    ],
    "gpu_samples": [
        _volume(),
        _not_null("measured_at"),
        _not_null("hostname"),
        _between("gpu_util_in_range", "gpu_util_pct", 0, 100),
        _between("sm_active_in_range", "sm_active", 0, 1),
        _between("power_not_negative", "power_w", 0, None),
    ],
    "nvidia_smi_samples": [
        _volume(),
        _not_null("gpu_uuid"),
        _not_null("measured_at_local"),
        _between("gpu_util_in_range", "utilization_gpu_pct", 0, 100),
        _between("power_not_negative", "power_draw_w", 0, None),
    ],
    "hosts": [
        _volume(),
        _not_null("host"),
        _in_set("pool", ["training", "inference", "shared"]),  # shared: a cluster that mixes both (public traces)
        _between("gpu_count_plausible", "gpu_count", 0, 16),
        _between("rate_not_negative", "usd_per_gpu_hour", 0, None),
        Check(
            "host_valid_from_unique",
            "ExpectCompoundColumnsToBeUnique",
            {"column_list": ["host", "valid_from"]},
            "one row per host and validity start",
        ),
    ],
    "maintenance_windows": [
        _not_null("window_id"),
        Check(
            "window_ends_after_start",
            "ExpectColumnPairValuesAToBeGreaterThanB",
            {"column_A": "ends_at", "column_B": "starts_at"},
            "a window ends after it starts",
        ),
    ],
    "gpu_prices": [_volume(), _between("price_positive", "effective_usd_per_gpu_hour", 0, None)],
    "sacct_jobs": [_volume(), _not_null("job_id"), _not_null("submit")],
    "k8s_jobs": [_in_set("kind", ["Job"]), _not_null("metadata")],
    "training_events": [_not_null("run_id"), _in_set("event", EVENTS)],
    "model_stage_events": [_not_null("model_name"), _in_set("to_stage", STAGES)],
    "serving_deployments": [_not_null("deployment_id"), _not_null("started_at")],
    "inference_requests": [
        _between("input_tokens_not_negative", "context_tokens", 0, None),
        _between("output_tokens_not_negative", "generated_tokens", 0, None),
        _between("latency_not_negative", "latency_ms", 0, None),
    ],
    "inference_hourly": [_between("requests_not_negative", "requests", 0, None)],
    "users": [_volume(), _not_null("user_name"), _not_null("team")],
    "team_headcount": [_between("headcount_not_negative", "headcount", 0, None)],
    "adapter_rejects": [_not_null("reason"), _not_null("trace_file")],
    "dataset_coverage": [
        _in_set("subject", ["inventory", "gpu_telemetry", "jobs", "traffic", "cost"]),
        _in_set("coverage", ["full", "sample", "none"]),
    ],
}


# the key marts: what must hold before a warehouse is published (dbt tests cover keys and invariants)
MART_SUITES: dict[str, list[Check]] = {
    "fct_gpu_capacity_hourly": [
        Check(
            "has_rows",
            "ExpectTableRowCountToBeBetween",
            {"min_value": 1},
            "the capacity mart is not empty (on data with GPU telemetry)",
            needs_full="telemetry_coverage",
        ),
        _between("existing_within_the_hour", "existing_s", 0, 3600),
        _between("allocated_active_within_the_hour", "allocated_active_s", 0, 3600),
    ],
    "fct_training_jobs": [
        _between("ett_is_a_ratio", "ett_ratio", 0, 1),
        _between("gpu_hours_not_negative", "gpu_hours", 0, None),
        Check("run_id_unique", "ExpectColumnValuesToBeUnique", {"column": "run_id"}, "one row per training run"),
    ],
    "fct_jobs": [
        _between("gpu_hours_not_negative", "gpu_hours", 0, None),
        _in_set("job_kind", ["training", "evaluation", "inference", "notebook", "unknown"]),
    ],
    "fct_cost_allocation_monthly": [_between("cost_not_negative", "cost_usd", 0, None)],
}


def columns_checked(table: str) -> list[str]:
    """The columns a table's suite reads: a telemetry day or an hourly mart is too large to hand GX whole."""
    checks = SUITES.get(table) or MART_SUITES[table]
    columns = set()
    for check in checks:  # column, column_A/column_B, column_list
        for name, value in check.kwargs.items():
            if name.startswith("column"):
                columns |= {value} if isinstance(value, str) else set(value)
    columns |= {re.match(r"\w+", c.kwargs["row_condition"]).group(0) for c in checks if "row_condition" in c.kwargs}
    return sorted(columns) or ["partition_date"]


def judges_every_row(table: str) -> bool:
    """A suite with a uniqueness rule must see every row; the others can judge a sample."""
    return any("Unique" in c.expectation for c in SUITES.get(table) or MART_SUITES[table])


def validate(table: str, frame: pd.DataFrame) -> list[tuple[Check, bool, dict]]:
    """Run the table's suite on a frame: (check, passed, observations) per check."""
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("raw")
        .add_dataframe_asset(table)
        .add_batch_definition_whole_dataframe("partition")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    checks = SUITES.get(table) or MART_SUITES[table]
    suite = gx.ExpectationSuite(name=table)
    for check in checks:
        suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs, meta={"check": check.name}))
    result = batch.validate(context.suites.add(suite))
    by_name = {r.expectation_config.meta["check"]: r for r in result.results}
    return [(c, bool(by_name[c.name].success), _observed(by_name[c.name].result)) for c in checks]


def _observed(result: dict) -> dict:
    keep = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "partial_unexpected_list")
    return {k: result[k] for k in keep if k in result}
