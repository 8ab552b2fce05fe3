"""`python -m bench.chart`: docs/performance.svg, the pipeline's cost against fleet size (the scale runs,
bench/results/scale-*.json) and against days of history (the history scenario of bench/results/latest.json),
drawn with the charting library the report uses."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import altair as alt
import vl_convert

from pipelines.lib.report import VEGA_LITE
from pipelines.lib.settings import ROOT

RESULTS = ROOT / "bench" / "results"
OUT = ROOT / "docs" / "performance.svg"


def by_gpus(results: Path) -> list[dict]:
    """Seconds per run at each fleet size: the whole pipeline, the hand-written floor and the pandas peer."""
    rows = []
    for path in sorted(results.glob("scale-*.json")):
        res = json.loads(path.read_text())
        for series, key in (("pipeline", "pipeline_s"), ("floor", "floor_s"), ("pandas", "pandas_s")):
            rows.append({"gpus": res["gpus"], "series": series, "seconds": res[key], "days": res["days"]})
    return rows


def by_history(latest: dict) -> list[dict]:
    """Seconds for one more day (ingest, refresh, publish) against the days of history already built."""
    return [{"history_days": p["history_days"], "seconds": p["day_s"]} for p in latest.get("history_points", [])]


def draw(gpus_rows: list[dict], history_rows: list[dict], history_gpus: int) -> alt.TopLevelMixin:
    scale = (
        alt.Chart(alt.Data(values=gpus_rows), title="Cost of a 7-day build against fleet size")
        .mark_line(point=True)
        .encode(
            x=alt.X("gpus:Q", title="GPUs"),
            y=alt.Y("seconds:Q", title="seconds (2 cores)"),
            color=alt.Color("series:N", title=None),
        )
        .properties(width=320, height=220)
    )
    history = (
        alt.Chart(
            alt.Data(values=history_rows),
            title=f"One more day against days of history ({history_gpus:,} GPUs)",
        )
        # the pipeline's colour on the left (Vega's category10 order: floor, pandas, pipeline)
        .mark_line(point=alt.OverlayMarkDef(color="#e45756"), color="#e45756")
        .encode(
            x=alt.X("history_days:Q", title="days already built"),
            y=alt.Y("seconds:Q", title="seconds (ingest, refresh, publish)", scale=alt.Scale(zero=True)),
        )
        .properties(width=320, height=220)
    )
    return alt.hconcat(scale, history)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser("python -m bench.chart", description=__doc__)
    p.add_argument("--results", type=Path, default=RESULTS)
    p.add_argument("--latest", type=Path, default=RESULTS / "latest.json")
    p.add_argument("--out", type=Path, default=OUT)
    a = p.parse_args(argv)
    latest = json.loads(a.latest.read_text())
    spec = draw(by_gpus(a.results), by_history(latest), latest.get("history_gpus", 0)).to_json()
    a.out.write_text(vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE))
    print(f"chart: {a.out}")


if __name__ == "__main__":
    main()
