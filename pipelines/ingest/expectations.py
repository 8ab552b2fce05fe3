"""Great Expectations suites for the raw tables, built from the day rules of rules.py: what a loaded day must hold
as a whole, which no loader can judge line by line (the line rules are the loaders' own, every line checked).

Kept free of Dagster, and GX is imported only when a suite is run (its import costs seconds)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .rules import RULES, RowsPerDay, UniqueTogether, day_rules


@dataclass(frozen=True)
class Check:
    name: str
    expectation: str  # class name in gx.expectations
    kwargs: dict
    description: str


def _check(rule: RowsPerDay | UniqueTogether) -> Check:
    if isinstance(rule, RowsPerDay):
        return Check(
            "rows_in_partition_within_bounds",
            "ExpectTableRowCountToBeBetween",
            {"min_value": rule.low, "max_value": rule.high},
            "the day has rows, and not absurdly many",
        )
    return Check(
        f"{'_'.join(rule.columns)}_unique",
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": list(rule.columns)},
        f"one row per {', '.join(rule.columns)} in a day",
    )


SUITES: dict[str, list[Check]] = {t: [_check(r) for r in day_rules(t)] for t in RULES if day_rules(t)}


def columns_checked(table: str) -> list[str]:
    """The columns a table's suite reads: a telemetry day is too large to hand GX whole."""
    columns = {c for check in SUITES[table] for c in check.kwargs.get("column_list", [])}
    return sorted(columns) or ["partition_date"]


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
    checks = SUITES[table]
    suite = gx.ExpectationSuite(name=table)
    for check in checks:
        suite.add_expectation(getattr(gx.expectations, check.expectation)(**check.kwargs, meta={"check": check.name}))
    result = batch.validate(context.suites.add(suite))
    by_name = {r.expectation_config.meta["check"]: r for r in result.results}
    return [(c, bool(by_name[c.name].success), _observed(by_name[c.name].result)) for c in checks]


def _observed(result: dict) -> dict:
    keep = ("observed_value", "element_count", "unexpected_count", "unexpected_percent", "partial_unexpected_list")
    return {k: result[k] for k in keep if k in result}
