"""The fleet report: one self-contained HTML page of charts, each a view of one mart.

Every figure is a value of a mart row as the mart holds it. The charts only lay rows out (Vega-Lite folds a row's
columns into series and stacks them; a waterfall step is the mart's own figures stacked under invisible ones), and
each chart's table lists the rows it drew, the raw value in `data-value`, so a test compares the page with the
marts. Where the data does not measure a chart's figures (NULL in the mart, or coverage `none` for the subject in
marts.dim_dataset_coverage) the chart says "not measured" instead of drawing zero. The charts are static SVG rendered
by vl-convert: no JavaScript and no CDN on the page (these machines are offline)."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import altair as alt
import duckdb
import vl_convert

NOT_MEASURED = "not measured"
VEGA_LITE = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])  # the Vega-Lite Altair writes: 6.4
WIDTH, HEIGHT = 640, 220

# the headline (rpt_fleet_summary): the report's first table and the publish asset's metadata
HEADLINE = (
    "capacity_gpu_hours",
    "capacity_cost_usd",
    "idle_cost_share",
    "allocated_ratio",
    "intentional_idle_ratio",
    "unintended_idle_ratio",
    "lower_roi_ratio",
    "higher_roi_ratio",
    "models_trained",
    "models_deployed",
    "ett_ratio",
    "median_time_to_start_s",
    "median_time_to_recover_s",
    "scheduler_jobs",
    "failed_jobs",
    "low_traffic_models",
    "low_traffic_reclaimable_usd_per_month",
)

CAPACITY_STATES = {  # column -> (label, colour): intentional idle in blues, unintended in warm colours, held in greens
    "allocated_active_gpu_hours": ("allocated, active", "#2ca02c"),
    "allocated_idle_gpu_hours": ("allocated, idle", "#98df8a"),
    "idle_no_demand_gpu_hours": ("idle, no demand", "#ff7f0e"),
    "idle_fragmented_gpu_hours": ("idle, fragmented", "#ffbb78"),
    "idle_hw_mismatch_gpu_hours": ("idle, hardware mismatch", "#e377c2"),
    "down_unplanned_gpu_hours": ("down, unplanned", "#d62728"),
    "down_planned_gpu_hours": ("down, planned", "#1f77b4"),
    "reserved_dr_gpu_hours": ("reserved, disaster recovery", "#aec7e8"),
    "reserved_push_gpu_hours": ("reserved, push buffer", "#9edae5"),
    "unmeasured_gpu_hours": ("unmeasured", "#c7c7c7"),
}
IDLE_CAUSES = {
    k: v for k, v in CAPACITY_STATES.items() if k not in ("allocated_active_gpu_hours", "unmeasured_gpu_hours")
}
ETT_CATEGORIES = {
    "productive_gpu_hours": ("productive", "#2ca02c"),
    "start_overhead_gpu_hours": ("start overhead", "#1f77b4"),
    "checkpoint_gpu_hours": ("checkpoint", "#aec7e8"),
    "data_stall_gpu_hours": ("data stall", "#ff7f0e"),
    "publishing_gpu_hours": ("publishing", "#ffbb78"),
    "lost_progress_gpu_hours": ("lost progress", "#d62728"),
    "recovery_gpu_hours": ("recovery", "#ff9896"),
    "other_gpu_hours": ("other", "#c7c7c7"),
    "requeue_wait_gpu_hours": ("requeue wait (no GPU held)", "#9467bd"),
}
START_RECOVER = {
    "median_time_to_start_s": ("time to start, median", "#1f77b4"),
    "p90_time_to_start_s": ("time to start, p90", "#aec7e8"),
    "median_time_to_recover_s": ("time to recover, median", "#d62728"),
    "p90_time_to_recover_s": ("time to recover, p90", "#ff9896"),
}
OUTCOMES = {
    "completed_jobs": ("completed", "#2ca02c"),
    "running_jobs": ("running", "#98df8a"),
    "cancelled_jobs": ("cancelled", "#c7c7c7"),
    "preempted_jobs": ("preempted", "#ff7f0e"),
    "failed_jobs": ("failed", "#d62728"),
    "deleted_while_running_jobs": ("deleted while running", "#9467bd"),
}
COST_VIEWS = {"cost_usd": ("idle as its own line", None), "cost_shared_idle_usd": ("idle shared back", None)}
INFERENCE_IDLE = {
    "free_gpu_hours_per_day": ("free (idle states)", "#ff7f0e"),
    "allocated_idle_gpu_hours_per_day": ("held by idle replicas", "#98df8a"),
}
OUTPUTS = ("experiments_run", "models_trained", "models_deployed")
PER_DEVELOPER = ("models_trained_per_developer", "models_deployed_per_developer")


@dataclass(frozen=True)
class Chart:
    """One chart: the mart rows it reads (identifiers are constants of this module, never input), the figures it
    draws (`series`: NULL in every row = not measured) and the coverage subjects it needs."""

    key: str
    title: str
    caption: str
    mart: str
    columns: tuple[str, ...]
    order_by: str
    series: tuple[str, ...]
    subjects: tuple[str, ...]
    draw: Callable[[list[dict], list[str]], alt.TopLevelMixin]
    where: str = ""

    def query(self) -> str:
        where = f" where {self.where}" if self.where else ""
        return f"select {', '.join(self.columns)} from {self.mart}{where} order by {self.order_by}"


@dataclass
class Section:
    chart: Chart
    rows: list[dict]
    status: str  # drawn, not_measured, empty
    svg: str = ""
    unmeasured: list[str] = field(default_factory=list)  # series NULL on this data (the rest drawn)


@dataclass
class Report:
    html: str
    sections: list[Section]
    headline: dict


# ---- the charts ------------------------------------------------------------------------------------------------


def chart_values(rows: list[dict], labels: dict[str, tuple[str, str | None]]) -> alt.Data:
    """The rows as Vega-Lite values: series columns renamed to their labels, DECIMALs as numbers, times as ISO."""

    def value(v):
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, datetime | date):
            return v.isoformat()
        return v

    return alt.Data(values=[{labels.get(k, (k,))[0]: value(v) for k, v in row.items()} for row in rows])


def series_colour(labels: dict[str, tuple[str, str | None]], drawn: list[str], title: str) -> alt.Color:
    names = [labels[s][0] for s in drawn]
    colours = [labels[s][1] for s in drawn]
    scale = alt.Scale(domain=names, range=colours) if all(colours) else alt.Scale(domain=names)
    return alt.Color("series:N", scale=scale, sort=names, title=title)


def series_order(labels: dict[str, tuple[str, str | None]], drawn: list[str]) -> str:
    """Vega expression: a folded series' position in `drawn`, so stacks follow the legend's order."""
    return f"indexof({json.dumps([labels[s][0] for s in drawn])}, datum.series)"


def folded(rows: list[dict], labels: dict, drawn: list[str], value: str) -> alt.Chart:
    names = [labels[s][0] for s in drawn]
    return alt.Chart(chart_values(rows, labels)).transform_fold(names, as_=["series", value])


def draw_capacity_states(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        folded(rows, CAPACITY_STATES, drawn, "gpu_hours")
        .mark_area()
        .encode(
            x=alt.X("hour_at:T", scale=alt.Scale(type="utc"), title="UTC hour", axis=alt.Axis(format="%m-%d %H:00")),
            y=alt.Y("gpu_hours:Q", stack="zero", title="GPU-hours in the hour"),
            color=series_colour(CAPACITY_STATES, drawn, "state"),
            order=alt.Order("series_order:Q"),
        )
        .transform_calculate(series_order=series_order(CAPACITY_STATES, drawn))
        .properties(width=WIDTH, height=HEIGHT)
    )


def draw_idle_by_cause(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        folded(rows, IDLE_CAUSES, drawn, "gpu_hours")
        .mark_bar()
        .encode(
            y=alt.Y("gpu_model:N", title=None),
            x=alt.X("gpu_hours:Q", stack="zero", title="idle GPU-hours over the window"),
            color=series_colour(IDLE_CAUSES, drawn, "cause"),
            order=alt.Order("series_order:Q"),
        )
        .transform_calculate(series_order=series_order(IDLE_CAUSES, drawn))
        .properties(width=WIDTH - 120)
        .facet(row=alt.Row("cluster:N", title="cluster", header=alt.Header(labelAngle=0, labelAlign="left")))
        .resolve_scale(y="independent")
    )


WATERFALL_STEPS = (  # step label, [(segment column, drawn?)], bottom first: a step is its figure on invisible ones
    ("capacity", [("capacity_gpu_hours", True)]),
    (
        "intentional idle",
        [
            ("allocated_gpu_hours", False),
            ("unmeasured_gpu_hours", False),
            ("unintended_idle_gpu_hours", False),
            ("intentional_idle_gpu_hours", True),
        ],
    ),
    (
        "unintended idle",
        [("allocated_gpu_hours", False), ("unmeasured_gpu_hours", False), ("unintended_idle_gpu_hours", True)],
    ),
    ("unmeasured", [("allocated_gpu_hours", False), ("unmeasured_gpu_hours", True)]),
    ("allocated", [("allocated_gpu_hours", True)]),
    ("lower-ROI", [("higher_roi_gpu_hours", False), ("lower_roi_gpu_hours", True)]),
    ("higher-ROI", [("higher_roi_gpu_hours", True)]),
)
WATERFALL_COLOURS = {
    "capacity_gpu_hours": "#7f7f7f",
    "intentional_idle_gpu_hours": "#1f77b4",
    "unintended_idle_gpu_hours": "#d62728",
    "unmeasured_gpu_hours": "#c7c7c7",
    "allocated_gpu_hours": "#17becf",
    "lower_roi_gpu_hours": "#ff7f0e",
    "higher_roi_gpu_hours": "#2ca02c",
}


def waterfall_segments(row: dict) -> list[dict]:
    """The month's ROI chain as stacked segments, each a figure of the mart row (a NULL figure: no segment, and
    its step says not measured)."""
    segments = []
    for step_no, (step, parts) in enumerate(WATERFALL_STEPS):
        measured = row[parts[-1][0]] is not None
        for position, (column, shown) in enumerate(parts):
            if row[column] is not None:
                value = float(row[column])
                segments.append(
                    {
                        "step": f"{step_no + 1}. {step}",
                        "segment": column,
                        "gpu_hours": value,
                        "shown": shown,
                        "position": position,
                        "label": "",
                    }
                )
        if not measured:
            segments.append(
                {
                    "step": f"{step_no + 1}. {step}",
                    "segment": parts[-1][0],
                    "gpu_hours": 0.0,
                    "shown": False,
                    "position": len(parts),
                    "label": NOT_MEASURED,
                }
            )
    return segments


def draw_roi_waterfall(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    months = []
    for row in rows:
        segments = alt.Chart(alt.Data(values=waterfall_segments(row)))
        bars = segments.mark_bar().encode(
            x=alt.X("step:N", sort=None, title=None, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("gpu_hours:Q", stack="zero", title="GPU-hours"),
            color=alt.Color(
                "segment:N",
                scale=alt.Scale(domain=list(WATERFALL_COLOURS), range=list(WATERFALL_COLOURS.values())),
                legend=None,
            ),
            opacity=alt.condition("datum.shown", alt.value(1), alt.value(0)),
            order=alt.Order("position:Q"),
        )
        labels = (
            segments.transform_filter("datum.label != ''")
            .mark_text(dy=-8, color="#555")
            .encode(x=alt.X("step:N", sort=None), y=alt.value(HEIGHT - 12), text="label:N")
        )
        month = f"{row['month_start']:%Y-%m}"
        chain = alt.layer(bars, labels).properties(width=360, height=HEIGHT, title=f"{month}: capacity to ROI")
        outputs = bar_panel(row, OUTPUTS, "output (count)", f"{month}: output")
        per_dev = bar_panel(
            row, PER_DEVELOPER, "per developer", f"output per developer ({row['developers']} developers)"
        )
        months.append(alt.hconcat(chain, alt.vconcat(outputs, per_dev)))
    return alt.vconcat(*months)


def bar_panel(row: dict, columns: tuple[str, ...], axis: str, title: str) -> alt.Chart:
    values = [{"figure": c, "value": None if row[c] is None else float(row[c])} for c in columns]
    return (
        alt.Chart(alt.Data(values=values))
        .mark_bar(color="#2ca02c")
        .encode(y=alt.Y("figure:N", sort=None, title=None), x=alt.X("value:Q", title=axis))
        .properties(width=200, height=18 * len(columns), title=title)
    )


def draw_ett(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    categories = [s for s in drawn if s in ETT_CATEGORIES]
    bars = (
        folded(rows, ETT_CATEGORIES, categories, "gpu_hours")
        .mark_bar()
        .encode(
            x=alt.X("utcyearmonthdate(usage_date):O", title="UTC day"),
            y=alt.Y("gpu_hours:Q", stack="zero", title="job GPU-hours (GPUs x end-to-end time)"),
            color=series_colour(ETT_CATEGORIES, categories, "ETT breakdown"),
            order=alt.Order("series_order:Q"),
        )
        .transform_calculate(series_order=series_order(ETT_CATEGORIES, categories))
    )
    layers = [bars]
    if "ett_ratio" in drawn:
        layers.append(
            alt.Chart(chart_values(rows, {}))
            .mark_line(point=True, color="black")
            .encode(
                x=alt.X("utcyearmonthdate(usage_date):O"),
                y=alt.Y("ett_ratio:Q", title="ETT (line)", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
            )
        )
    return alt.layer(*layers).resolve_scale(y="independent").properties(width=WIDTH, height=HEIGHT)


def draw_start_recover(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        folded(rows, START_RECOVER, drawn, "seconds")
        .mark_line(point=True)
        .encode(
            x=alt.X("usage_date:T", timeUnit="utcyearmonthdate", title="UTC day"),
            y=alt.Y("seconds:Q", title="seconds"),
            color=series_colour(START_RECOVER, drawn, "figure"),
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def draw_cost(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        folded(rows, COST_VIEWS, drawn, "usd")
        .mark_bar()
        .encode(
            x=alt.X("team:N", title=None, axis=alt.Axis(labelAngle=-30)),
            y=alt.Y("usd:Q", stack="zero", title="$"),
            color=alt.Color("project:N", title="project"),
        )
        .properties(width=300, height=HEIGHT)
        .facet(
            column=alt.Column("series:N", title=None, sort=[COST_VIEWS[s][0] for s in drawn]),
            row=alt.Row("month_start:T", timeUnit="utcyearmonth", title="month"),
        )
    )


def draw_low_traffic(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        alt.Chart(chart_values(rows, {}))
        .mark_bar(color="#ff7f0e")
        .encode(
            y=alt.Y("model_name:N", sort="-x", title=None),
            x=alt.X("reclaimable_usd_per_month:Q", title="reclaimable $ per month"),
        )
        .properties(width=WIDTH - 160, height=alt.Step(18))
    )


def draw_inference_idle(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        folded(rows, INFERENCE_IDLE, drawn, "gpu_hours")
        .mark_bar()
        .encode(
            x=alt.X("hour_of_day:O", title="UTC hour of day"),
            y=alt.Y("gpu_hours:Q", stack="zero", title="GPU-hours per day"),
            color=series_colour(INFERENCE_IDLE, drawn, "inference capacity"),
        )
        .properties(width=300, height=160)
        .facet(facet=alt.Facet("gpu_model:N", title="GPU model"), columns=2)
    )


def draw_job_outcomes(rows: list[dict], drawn: list[str]) -> alt.TopLevelMixin:
    return (
        folded(rows, OUTCOMES, drawn, "jobs")
        .mark_bar()
        .encode(
            x=alt.X("team:N", title=None),
            y=alt.Y("jobs:Q", stack="zero", title="jobs"),
            color=series_colour(OUTCOMES, drawn, "final state"),
            order=alt.Order("series_order:Q"),
        )
        .transform_calculate(series_order=series_order(OUTCOMES, drawn))
        .properties(width=400, height=HEIGHT)
        .facet(row=alt.Row("month_start:T", timeUnit="utcyearmonth", title="month"))
    )


# How far back each chart reaches, counted from its mart's newest row: a page read each morning shows the recent
# past at a grain one can read, and costs the same to draw whatever the history (every row stays in the marts)
RECENT_DAYS = 14  # the hourly chart
DAILY_DAYS = 31  # the daily charts
WATERFALL_MONTHS = 3  # the ROI waterfall, a panel per month
MONTHLY_MONTHS = 12  # the other monthly charts


def latest(mart: str, column: str, span: str) -> str:
    """A chart's filter: the rows of the last `span` (a DuckDB interval) up to the mart's newest `column`."""
    return f"{column} > (select max({column}) from {mart}) - interval {span}"


WATERFALL_COLUMNS = (
    "capacity_gpu_hours",
    "intentional_idle_gpu_hours",
    "unintended_idle_gpu_hours",
    "unmeasured_gpu_hours",
    "allocated_gpu_hours",
    "lower_roi_gpu_hours",
    "higher_roi_gpu_hours",
)

CHARTS = (
    Chart(
        "capacity_states",
        "Capacity states over time",
        f"Every GPU-hour of capacity in exactly one state, per UTC hour of the window's last {RECENT_DAYS} days "
        "(stacked; every day of the window, by day: marts.fct_fleet_utilization_daily).",
        "marts.rpt_capacity_states_hourly",
        ("hour_at", "capacity_gpu_hours", *CAPACITY_STATES),
        "hour_at",
        tuple(CAPACITY_STATES),
        ("gpu_telemetry",),
        draw_capacity_states,
        # hours of a longer history are too many to read (and to draw each night)
        where=latest("marts.rpt_capacity_states_hourly", "hour_at", f"{RECENT_DAYS} days"),
    ),
    Chart(
        "idle_by_cause",
        "Idle by cause, per cluster and GPU model",
        "Idle GPU-hours over the window: intentional (planned downtime, buffers), unintended (unplanned downtime, "
        "free GPUs) and held by idle jobs or replicas.",
        "marts.rpt_idle_by_cause",
        (
            "cluster",
            "gpu_model",
            "capacity_gpu_hours",
            *IDLE_CAUSES,
            "intentional_idle_gpu_hours",
            "unintended_idle_gpu_hours",
        ),
        "cluster, gpu_model",
        tuple(IDLE_CAUSES),
        ("gpu_telemetry",),
        draw_idle_by_cause,
    ),
    Chart(
        "roi_waterfall",
        "ROI waterfall",
        "Capacity, less idle, is allocated; allocated, less lower-ROI (overhead, waste, low-traffic serving), is "
        f"higher-ROI; then the month's output and output per developer. The window's last {WATERFALL_MONTHS} months "
        "(every month: marts.rpt_capacity_waterfall_monthly).",
        "marts.rpt_capacity_waterfall_monthly",
        ("month_start", *WATERFALL_COLUMNS, *OUTPUTS, "developers", *PER_DEVELOPER),
        "month_start",
        WATERFALL_COLUMNS,
        ("gpu_telemetry", "jobs"),
        draw_roi_waterfall,
        where=latest("marts.rpt_capacity_waterfall_monthly", "month_start", f"{WATERFALL_MONTHS} months"),
    ),
    Chart(
        "ett",
        "Effective training time",
        f"Training runs' GPUs x end-to-end time per UTC day of the window's last {DAILY_DAYS} days, split into the ETT "
        "categories; the line is ETT, productive over job GPU-hours (every day: marts.fct_ett_daily).",
        "marts.fct_ett_daily",
        ("usage_date", "job_gpu_hours", *ETT_CATEGORIES, "ett_ratio"),
        "usage_date",
        (*ETT_CATEGORIES, "ett_ratio"),
        ("jobs",),
        draw_ett,
        where=f"scope = 'fleet' and {latest('marts.fct_ett_daily', 'usage_date', f'{DAILY_DAYS} days')}",
    ),
    Chart(
        "start_recover",
        "Time to start and time to recover",
        f"Per UTC day of the window's last {DAILY_DAYS} days: the first attempt's allocation to first batch (runs "
        "started that day) and failure to training on new samples again (failures recovered that day), median and "
        "90th percentile (every day: marts.rpt_time_to_start_recover_daily).",
        "marts.rpt_time_to_start_recover_daily",
        (
            "usage_date",
            "runs_started",
            "median_time_to_start_s",
            "p90_time_to_start_s",
            "recovered_failures",
            "median_time_to_recover_s",
            "p90_time_to_recover_s",
        ),
        "usage_date",
        tuple(START_RECOVER),
        ("jobs",),
        draw_start_recover,
        where=latest("marts.rpt_time_to_start_recover_daily", "usage_date", f"{DAILY_DAYS} days"),
    ),
    Chart(
        "cost_by_team",
        "Cost by team",
        "The month's bill per team (stacked by project): idle as its own line, and idle shared back in proportion "
        f"to usage. The window's last {MONTHLY_MONTHS} months.",
        "marts.fct_cost_allocation_monthly",
        (
            "month_start",
            "team",
            "project",
            "cost_kind",
            "gpu_hours",
            "cost_usd",
            "shared_idle_cost_usd",
            "cost_shared_idle_usd",
        ),
        "month_start, team, project",
        tuple(COST_VIEWS),
        ("gpu_telemetry", "cost"),
        draw_cost,
        where=latest("marts.fct_cost_allocation_monthly", "month_start", f"{MONTHLY_MONTHS} months"),
    ),
    Chart(
        "low_traffic",
        "Low-traffic models",
        "Models still deployed whose traffic is low for the GPUs they hold, with what retiring each would free.",
        "marts.rpt_low_traffic_models",
        (
            "model_name",
            "serving_days",
            "requests_per_day",
            "serving_gpu_hours_per_day",
            "reclaimable_gpu_hours_per_month",
            "reclaimable_usd_per_month",
        ),
        "reclaimable_usd_per_month desc nulls last, model_name",
        ("reclaimable_usd_per_month",),
        ("traffic",),
        draw_low_traffic,
    ),
    Chart(
        "inference_idle_by_hour",
        "Idle inference capacity by hour of day",
        "Inference GPU-hours per day nobody used (free) or idle replicas held, per UTC hour of day: the troughs "
        "preemptible training could fill.",
        "marts.rpt_idle_inference_for_training",
        (
            "hour_of_day",
            "gpu_model",
            "days",
            *INFERENCE_IDLE,
            "harvestable_gpu_hours_per_day",
            "push_buffer_gpu_hours_per_day",
            "capacity_gpu_hours_per_day",
        ),
        "gpu_model, hour_of_day",
        tuple(INFERENCE_IDLE),
        ("gpu_telemetry", "jobs"),
        draw_inference_idle,
    ),
    Chart(
        "job_outcomes",
        "Job outcomes by team",
        f"Scheduler jobs per team by final state, in the month they ended; the window's last {MONTHLY_MONTHS} months.",
        "marts.fct_job_outcomes_monthly",
        ("month_start", "team", "jobs", *OUTCOMES),
        "month_start, team",
        tuple(OUTCOMES),
        ("jobs",),
        draw_job_outcomes,
        where=latest("marts.fct_job_outcomes_monthly", "month_start", f"{MONTHLY_MONTHS} months"),
    ),
)


# ---- reading the marts and writing the page ----------------------------------------------------------------------


def fetch(con: duckdb.DuckDBPyConnection, query: str) -> list[dict]:
    result = con.execute(query)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def headline(con: duckdb.DuckDBPyConnection) -> dict:
    """The headline figures of rpt_fleet_summary (None = not measured)."""
    return fetch(con, f"select {', '.join(HEADLINE)} from marts.rpt_fleet_summary")[0]


def coverage(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("select subject, coverage from marts.dim_dataset_coverage").fetchall())


def section(con: duckdb.DuckDBPyConnection, chart: Chart, covered: dict[str, str]) -> Section:
    rows = fetch(con, chart.query())
    if any(covered.get(subject, "none") == "none" for subject in chart.subjects):
        return Section(chart, rows, "not_measured")
    if not rows:
        return Section(chart, rows, "empty")
    drawn = [s for s in chart.series if any(r[s] is not None for r in rows)]
    if not drawn:
        return Section(chart, rows, "not_measured")
    spec = chart.draw(rows, drawn).to_json()
    svg = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE)
    return Section(chart, rows, "drawn", svg, [s for s in chart.series if s not in drawn])


def build_report(con: duckdb.DuckDBPyConnection) -> Report:
    covered = coverage(con)
    sections = [section(con, chart, covered) for chart in CHARTS]
    top = headline(con)
    return Report(page(top, covered, sections), sections, top)


def shown(column: str, value) -> str:
    """A figure as the page prints it (formatting only)."""
    if value is None:
        return NOT_MEASURED
    if isinstance(value, bool) or isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:,}"
    if column.endswith(("_ratio", "_share")):
        return f"{value:.1%}"
    return f"{value:,.2f}"


def cell(column: str, value) -> str:
    """A figure's cell: printed formatted, with the mart's value as text in data-value (NULL: data-null)."""
    raw = "" if value is None else html.escape(str(value), quote=True)
    null = ' data-null="true"' if value is None else ""
    return f'<td data-column="{column}" data-value="{raw}"{null}>{html.escape(shown(column, value))}</td>'


def figures_table(mart: str, columns: tuple[str, ...], rows: list[dict]) -> str:
    head = "".join(f'<th data-column="{c}">{html.escape(c)}</th>' for c in columns)
    body = "".join(f"<tr>{''.join(cell(c, row[c]) for c in columns)}</tr>" for row in rows)
    return f'<table class="figures" data-mart="{mart}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def section_html(s: Section) -> str:
    c = s.chart
    if s.status == "drawn":
        figure = f'<figure class="chart-svg">{s.svg}</figure>'
        if s.unmeasured:
            figure += f'<p class="not-measured">{NOT_MEASURED} on this data: {html.escape(", ".join(s.unmeasured))}</p>'
    elif s.status == "not_measured":
        need = ", ".join(c.subjects)
        figure = f'<p class="not-measured placeholder">{NOT_MEASURED}: this dataset does not cover {need} enough</p>'
    else:
        figure = '<p class="empty placeholder">nothing to draw: the mart has no rows for this window</p>'
    return (
        f'<section class="chart" id="{c.key}" data-status="{s.status}" data-mart="{c.mart}">'
        f'<h2>{html.escape(c.title)}</h2><p class="caption">{html.escape(c.caption)} '
        f"<code>{c.mart}</code></p>{figure}"
        f"<details><summary>figures ({len(s.rows)} rows)</summary>{figures_table(c.mart, c.columns, s.rows)}</details>"
        "</section>"
    )


STYLE = """
body { font-family: sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.caption { color: #555; } .not-measured { color: #b00; font-style: italic; }
.placeholder { padding: 2rem; background: #f6f6f6; text-align: center; }
table.figures { border-collapse: collapse; font-size: 0.8rem; margin: 0.5rem 0; }
table.figures th, table.figures td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
table.headline td { font-size: 1rem; }
figure.chart-svg { margin: 0; overflow-x: auto; }
"""


def headline_table(top: dict) -> str:
    """The one summary row, one figure a line (the test reads the table as one row)."""
    lines = "".join(f"<tr><th>{html.escape(c)}</th>{cell(c, top[c])}</tr>" for c in HEADLINE)
    mart = "marts.rpt_fleet_summary"
    return f'<table class="figures headline" data-mart="{mart}" data-layout="one-row">{lines}</table>'


def page(top: dict, covered: dict[str, str], sections: list[Section]) -> str:
    coverage_line = ", ".join(f"{k} {v}" for k, v in sorted(covered.items()))
    head_table = headline_table(top)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>GPU fleet report</title><style>{STYLE}</style></head><body>"
        "<h1>GPU fleet report</h1>"
        f'<p class="caption">Data coverage: {html.escape(coverage_line)} (marts.dim_dataset_coverage). '
        "Every figure is a mart's; the tables under the charts list them.</p>"
        f'<section id="headline" data-mart="marts.rpt_fleet_summary"><h2>Headline</h2>{head_table}</section>'
        f"{''.join(section_html(s) for s in sections)}</body></html>"
    )


def write_report(con: duckdb.DuckDBPyConnection, target: Path) -> Report:
    """Build the report and replace `target` with it atomically (a reader never sees half a page)."""
    report = build_report(con)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(report.html, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return report
