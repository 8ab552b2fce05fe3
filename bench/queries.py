"""What analysts and the report ask of the published file: every query of docs/analyst-guide.md and every query
the report runs (its charts, headline and coverage), each timed on a cold, read-only open of the file, as a BI tool
opening it for a dashboard would run it."""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

from pipelines.lib.publish import open_published
from pipelines.lib.report import CHARTS, HEADLINE
from pipelines.lib.settings import ROOT

GUIDE = ROOT / "docs" / "analyst-guide.md"
# a query, then (after a blank line) its sample's header row
GUIDE_QUERY = re.compile(r"```sql\n(.*?)```\n\n\| (.*?) \|\n", re.S)


def guide_queries() -> list[tuple[str, str]]:
    """(sql, header of its sample) for each query of the analyst guide."""
    return GUIDE_QUERY.findall(GUIDE.read_text())


def report_queries() -> dict[str, str]:
    return {
        **{f"report/{c.key}": c.query() for c in CHARTS},
        "report/headline": f"select {', '.join(HEADLINE)} from marts.rpt_fleet_summary",
        "report/coverage": "select subject, coverage from marts.dim_dataset_coverage",
    }


def all_queries() -> dict[str, str]:
    return {f"guide/q{i + 1}": sql for i, (sql, _) in enumerate(guide_queries())} | report_queries()


def time_queries(published: Path) -> dict:
    """Seconds per query, each on a connection of its own (DuckDB's buffer cache starts empty), and their median
    and largest."""
    seconds = {}
    for name, sql in all_queries().items():
        start = time.perf_counter()
        with open_published(published) as con:
            con.execute(sql).fetchall()
        seconds[name] = round(time.perf_counter() - start, 3)
    return {
        "queries": len(seconds),
        "median_s": round(statistics.median(seconds.values()), 3),
        "max_s": max(seconds.values()),
        "slowest": max(seconds, key=seconds.get),
        "seconds": seconds,
    }
