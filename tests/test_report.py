"""The fleet report: the tiny fleet's page (written by the session's refresh, no build of its own) rendered in
headless Chromium, every chart drawn, no console error, no request off the machine, and every number printed equal
to its mart; the "not measured" paths on small in-memory marts."""

from __future__ import annotations

import re
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
from browser import file_url, load

from pipelines.lib import report, settings

# what the page shows, read from the rendered DOM: per chart its status and drawn SVG, per table its rows
READ_PAGE = """(() => {
  const charts = [...document.querySelectorAll('section.chart')].map(s => {
    const svg = s.querySelector('figure.chart-svg svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    const marks = svg ? [...svg.querySelectorAll('g.role-mark > *')].filter(e => {
      const b = e.getBBox(); return b.width > 0 || b.height > 0; }).length : 0;
    return {key: s.id, status: s.dataset.status, width: box.width, height: box.height, marks};
  });
  const tables = [...document.querySelectorAll('table.figures')].map(t => ({
    mart: t.dataset.mart, layout: t.dataset.layout || 'rows',
    rows: [...t.querySelectorAll('tr')]
      .map(tr => [...tr.querySelectorAll('td[data-column]')]
        .map(td => [td.dataset.column, td.dataset.null ? null : td.dataset.value, td.textContent]))
      .filter(cells => cells.length)}));
  const external = [...document.querySelectorAll('[src], link[href], script')].length;
  return {charts, tables, external};
})()"""

CHARTS = {
    "capacity_states",
    "idle_by_cause",
    "roi_waterfall",
    "ett",
    "start_recover",
    "cost_by_team",
    "low_traffic",
    "inference_idle_by_hour",
    "job_outcomes",
}
# the rows a chart reads, where not the whole mart (the test's own knowledge of the page)
ROWS_SHOWN = {
    "marts.fct_ett_daily": "scope = 'fleet' and usage_date > (select max(usage_date) from marts.fct_ett_daily) "
    f"- interval {report.DAILY_DAYS} days",
    "marts.rpt_time_to_start_recover_daily": "usage_date > "
    f"(select max(usage_date) from marts.rpt_time_to_start_recover_daily) - interval {report.DAILY_DAYS} days",
    "marts.rpt_capacity_states_hourly": "hour_at > (select max(hour_at) from marts.rpt_capacity_states_hourly) "
    f"- interval {report.RECENT_DAYS} days",
    "marts.rpt_capacity_waterfall_monthly": "month_start > "
    f"(select max(month_start) from marts.rpt_capacity_waterfall_monthly) - interval {report.WATERFALL_MONTHS} months",
    "marts.fct_cost_allocation_monthly": "month_start > "
    f"(select max(month_start) from marts.fct_cost_allocation_monthly) - interval {report.MONTHLY_MONTHS} months",
    "marts.fct_job_outcomes_monthly": "month_start > "
    f"(select max(month_start) from marts.fct_job_outcomes_monthly) - interval {report.MONTHLY_MONTHS} months",
}


@pytest.fixture(scope="module")
def page(tiny_warehouse):
    path = settings.report_html()
    assert path.is_file(), "the refresh job did not write the report"
    return load(file_url(path), READ_PAGE)


def test_every_chart_drew(page):
    charts = {c["key"]: c for c in page.value["charts"]}
    assert set(charts) == CHARTS
    for key, chart in charts.items():
        # the tiny fleet covers every subject in full: nothing is "not measured", every chart has marks
        assert chart["status"] == "drawn", key
        assert chart["width"] > 200 and chart["height"] > 40, key  # one low-traffic model is one bar high
        assert chart["marks"] > 0, key


def test_no_console_error_and_nothing_fetched(page):
    assert page.console_errors() == []
    # self-contained: the page is its only request, and it has no script, image or stylesheet to fetch
    assert page.requests() == [file_url(settings.report_html())]
    assert page.value["external"] == 0


def test_printed_numbers_equal_the_marts(page, published):
    tables = page.value["tables"]
    assert {t["mart"] for t in tables} == {c.mart for c in report.CHARTS} | {"marts.rpt_fleet_summary"}
    for table in tables:
        rows = [[cell for row in table["rows"] for cell in row]] if table["layout"] == "one-row" else table["rows"]
        columns = [c for c, _, _ in rows[0]]
        where = f" where {ROWS_SHOWN[table['mart']]}" if table["mart"] in ROWS_SHOWN else ""
        expected = published.execute(f"select {', '.join(columns)} from {table['mart']}{where}").fetchall()
        assert sorted(as_text(r) for r in expected) == sorted(tuple(v for _, v, _ in r) for r in rows), table["mart"]
        for row in rows:
            for column, value, text in row:
                assert printed_as(text, value), f"{table['mart']}.{column}: {text!r} printed for {value!r}"


def as_text(row: tuple) -> tuple:
    return tuple(None if v is None else str(v) for v in row)


def printed_as(text: str, value: str | None) -> bool:
    """The printed text says the value: `not measured` for NULL, a number equal to it to the digits printed."""
    if value is None:
        return text == report.NOT_MEASURED
    number = re.fullmatch(r"-?[\d,]+(\.\d+)?%?", text)
    if not number or not re.fullmatch(r"-?\d+(\.\d+)?(E-?\d+)?", value, re.IGNORECASE):
        # text as it is; a date as it is; a UTC timestamp to the minute ("2025-03-03 05:00" of "... 05:00:00+00:00")
        return text == value or (len(text) == 16 and value.startswith(text))
    digits = len(number.group(1) or ".") - 1
    scale = 100 if text.endswith("%") else 1
    printed = Decimal(text.rstrip("%").replace(",", "")) / scale
    return abs(printed - Decimal(value)) <= Decimal(5).scaleb(-digits - 1) / scale


def test_headline_in_the_publish_metadata(tiny_warehouse, instance, published):
    event = instance.get_latest_materialization_event(dg.AssetKey("published_warehouse"))
    metadata = event.asset_materialization.metadata
    figures = report.headline(published)
    for column, value in figures.items():
        shown = metadata[f"headline/{column}"].value
        assert shown == (report.NOT_MEASURED if value is None else pytest.approx(float(value))), column


def test_report_metadata(tiny_warehouse, instance):
    event = instance.get_latest_materialization_event(dg.AssetKey("fleet_report"))
    metadata = event.asset_materialization.metadata
    assert metadata["charts_drawn"].value == len(CHARTS)
    assert metadata["bytes"].value == settings.report_html().stat().st_size


# ---- not measured, on small marts of our own ------------------------------------------------------------------


def chart(key: str) -> report.Chart:
    return next(c for c in report.CHARTS if c.key == key)


def mart_with(con: duckdb.DuckDBPyConnection, c: report.Chart, rows: list[dict]) -> None:
    con.execute("create schema if not exists marts")
    columns = ", ".join(f"{name} {'varchar' if name == 'model_name' else 'double'}" for name in c.columns)
    con.execute(f"create table {c.mart} ({columns})")
    for row in rows:
        names, marks = ", ".join(row), ", ".join("?" for _ in row)
        con.execute(f"insert into {c.mart} ({names}) values ({marks})", list(row.values()))


def test_a_chart_whose_figures_are_all_null_says_not_measured():
    low = chart("low_traffic")
    with duckdb.connect() as con:
        mart_with(con, low, [{"model_name": "m", "serving_days": 3, "requests_per_day": 5}])  # GPU figures NULL
        section = report.section(con, low, {"traffic": "full"})
    assert section.status == "not_measured"
    html = report.section_html(section)
    assert "<svg" not in html and report.NOT_MEASURED in html
    assert 'data-column="reclaimable_usd_per_month" data-value="" data-null="true">not measured<' in html


def test_a_subject_the_data_does_not_cover_is_not_measured_not_zero():
    low = chart("low_traffic")
    with duckdb.connect() as con:
        mart_with(con, low, [])
        section = report.section(con, low, {"traffic": "none"})
        empty = report.section(con, low, {"traffic": "full"})
    assert section.status == "not_measured"
    assert empty.status == "empty"  # covered, and no model is low-traffic: nothing to draw, which is not zero


def test_series_this_data_cannot_measure_are_left_out_and_named():
    states = chart("capacity_states")
    measured = {"capacity_gpu_hours": 2.0, "allocated_active_gpu_hours": 1.5, "down_planned_gpu_hours": 0.5}
    rows = [{"hour_at": h, **measured} for h in (0, 1)]
    with duckdb.connect() as con:
        mart_with(con, states, rows)
        con.execute(f"alter table {states.mart} alter hour_at type timestamptz using to_timestamp(hour_at * 3600)")
        section = report.section(con, states, {"gpu_telemetry": "sample"})
    assert section.status == "drawn" and "<svg" in section.svg
    assert "idle_no_demand_gpu_hours" in section.unmeasured and "allocated_active_gpu_hours" not in section.unmeasured
    assert "not measured on this data: " in report.section_html(section)


def test_the_hourly_capacity_chart_shows_the_last_days_of_a_long_window():
    """A long history is drawn by hour for its last RECENT_DAYS days only: the page does not grow with history."""
    states = chart("capacity_states")
    hours = 24 * (report.RECENT_DAYS + 6)
    with duckdb.connect() as con:
        mart_with(
            con,
            states,
            [{"hour_at": h, "capacity_gpu_hours": 1.0, "allocated_active_gpu_hours": 1.0} for h in range(hours)],
        )
        con.execute(f"alter table {states.mart} alter hour_at type timestamptz using to_timestamp(hour_at * 3600)")
        section = report.section(con, states, {"gpu_telemetry": "full"})
        last = con.execute(f"select max(hour_at) from {states.mart}").fetchall()[0][0]
    assert len(section.rows) == 24 * report.RECENT_DAYS
    assert section.rows[-1]["hour_at"] == last and section.status == "drawn"


DAY_N = "date '2025-01-01' + {c}::integer"
MONTH_N = "(date '2024-01-01' + to_months({c}::integer))::date"


@pytest.mark.parametrize(
    ("key", "column", "as_time", "length", "shown"),
    [
        ("start_recover", "usage_date", DAY_N, 90, report.DAILY_DAYS),
        ("roi_waterfall", "month_start", MONTH_N, 14, report.WATERFALL_MONTHS),
        ("job_outcomes", "month_start", MONTH_N, 20, report.MONTHLY_MONTHS),
    ],
)
def test_daily_and_monthly_charts_read_the_last_days_or_months_of_a_long_window(key, column, as_time, length, shown):
    """Daily and monthly charts read the window's last days or months, counted back from the mart's newest row,
    whatever the history (the marts keep every row)."""
    c = chart(key)
    with duckdb.connect() as con:
        mart_with(con, c, [{column: i} for i in range(length)])
        con.execute(f"alter table {c.mart} alter {column} type date using {as_time.format(c=column)}")
        rows = report.fetch(con, c.query())
        newest, kept = con.execute(f"select max({column}), count(*) from {c.mart}").fetchall()[0]
    assert len(rows) == shown and kept == length
    assert rows[-1][column] == newest
