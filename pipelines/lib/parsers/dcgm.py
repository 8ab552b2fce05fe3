"""dcgm-exporter output: the Prometheus text exposition format, as `curl host:9400/metrics` or a federated dump
returns it. Labels differ across exporter versions (`Hostname` vs `hostname`, optional pod/namespace/container
and hpc_job); samples may carry their own millisecond timestamp, otherwise the scrape time of the file is used.
Values stay in the unit the exporter used (GPU_UTIL %, PROF_* ratio, FB MiB, POWER W); staging converts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from .base import Parsed, no_rejects, read_lines, rejects, split_bad_encoding

SCHEMA = {
    "source_line": pl.Int64,
    "metric": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
    "scraped_at": pl.Datetime("us", "UTC"),
    "hostname": pl.String,
    "gpu": pl.Int64,
    "gpu_uuid": pl.String,
    "model_name": pl.String,
    "pod": pl.String,
    "namespace": pl.String,
    "container": pl.String,
    "hpc_job": pl.String,
}
SAMPLE = r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$"
# DCGM reports "no value" with sentinels near the top of int64 / at 2^47 for doubles (dcgm_structs.h *_BLANK)
BLANK_INT64_MIN = 9223372036854775792.0
BLANK_FP64 = 140737488355328.0


HELP_UNIT = r"^#\s*HELP\s+(\S+)\s.*\(in ([^)]+)\)"
# readings that cannot be: (metric pattern, unit it applies to or None for any, low, high)
PERCENT_METRICS = r"^DCGM_FI_DEV_(GPU|MEM_COPY|ENC|DEC)_UTIL$"
RANGES = [
    (PERCENT_METRICS, "ratio", 0.0, 1.0),
    (PERCENT_METRICS, None, 0.0, 100.0),
    (r"^DCGM_FI_PROF_", None, 0.0, 1.0),  # ratios, although their HELP text says "(in %)"
    (r"^DCGM_FI_DEV_(POWER_USAGE|FB_USED|FB_FREE|FB_TOTAL)$", None, 0.0, float("inf")),
    (r"^DCGM_FI_DEV_(GPU|MEMORY)_TEMP$", None, -40.0, 150.0),
]


def _out_of_range() -> pl.Expr:
    """First matching rule wins; a rule with a unit applies only to samples the HELP line gave that unit."""
    expr = pl.lit(False)
    for pattern, unit, low, high in reversed(RANGES):
        applies = pl.col("metric").str.contains(pattern)
        if unit is not None:
            applies = applies & (pl.col("unit") == unit)
        expr = pl.when(applies).then(~pl.col("value").is_between(low, high)).otherwise(expr)
    return expr


def _label(name: str) -> pl.Expr:
    return pl.col("labels").str.extract(r"(?:^|[,\s])" + name + r'="((?:[^"\\]|\\.)*)"', 1)


def parse_dcgm(path: Path, scraped_at: datetime | None = None, default_host: str | None = None) -> Parsed:
    lines = read_lines(path)
    lines, bad_enc = split_bad_encoding(lines)
    # units as the exporter states them in HELP ("(in %)", "(in MiB)"): newer exporters may change them
    units = (
        lines.select(pl.col("text").str.extract_groups(HELP_UNIT))
        .unnest("text")
        .rename({"1": "metric", "2": "unit"})
        .drop_nulls()
        .unique("metric", keep="last")
    )
    data = lines.filter(
        ~pl.col("text").str.strip_chars().str.starts_with("#") & (pl.col("text").str.strip_chars() != "")
    )
    parts = data.with_columns(m=pl.col("text").str.extract_groups(SAMPLE)).unnest("m")
    parts = parts.rename({"1": "metric", "2": "labels", "3": "value_text", "4": "ts_text"})
    unparseable = parts.filter(pl.col("metric").is_null())
    parts = (
        parts.filter(pl.col("metric").is_not_null())
        .with_columns(
            value=pl.col("value_text").str.replace(r"^\+?Inf$", "inf").cast(pl.Float64, strict=False),
            labels=pl.col("labels").fill_null(""),
        )
        .join(units, on="metric", how="left")
    )
    ts = pl.from_epoch(pl.col("ts_text").cast(pl.Int64), time_unit="ms").dt.replace_time_zone("UTC")
    fallback = (
        pl.lit(scraped_at, dtype=pl.Datetime("us", "UTC")) if scraped_at else pl.lit(None, pl.Datetime("us", "UTC"))
    )
    # a GPU repeats the same label set on every metric line and every scrape: read each distinct set once
    label_sets = (
        parts.select("labels")
        .unique()
        .with_columns(
            hostname=pl.coalesce(_label("Hostname"), _label("hostname"), pl.lit(default_host)),
            gpu=_label("gpu").cast(pl.Int64, strict=False),
            gpu_uuid=_label("UUID"),
            model_name=_label("modelName"),
            pod=_label("pod"),
            namespace=_label("namespace"),
            container=_label("container"),
            hpc_job=_label("hpc_job"),
        )
    )
    parts = parts.with_columns(scraped_at=pl.coalesce(ts.cast(pl.Datetime("us", "UTC")), fallback)).join(
        label_sets, on="labels", how="left", maintain_order="left"
    )
    checks = [
        (pl.col("value").is_null(), "bad_value", pl.format("value {} is not a number", "value_text")),
        (
            pl.col("value").is_nan() | pl.col("value").is_infinite(),
            "non_finite_value",
            pl.format("value {} is not finite", "value_text"),
        ),
        (
            (pl.col("value") >= BLANK_INT64_MIN) | (pl.col("value") == BLANK_FP64),
            "dcgm_blank_sentinel",
            pl.format("value {} is a DCGM blank sentinel (no reading)", "value_text"),
        ),
        (
            _out_of_range(),
            "out_of_range",
            pl.format("{} = {} is outside the possible range", "metric", "value_text"),
        ),
        (
            pl.col("scraped_at").is_null(),
            "missing_timestamp",
            pl.lit("sample has no timestamp and the file no scrape time"),
        ),
        (
            pl.col("hostname").is_null(),
            "missing_hostname",
            pl.lit("no Hostname/hostname label and no host for the file"),
        ),
        (pl.col("gpu").is_null() & pl.col("gpu_uuid").is_null(), "missing_gpu", pl.lit("no gpu or UUID label")),
    ]
    out = [bad_enc, rejects(unparseable, "unparseable_line", "not a Prometheus text sample line")]
    for cond, reason, message in checks:
        hit = parts.filter(cond)
        if hit.height:
            out.append(rejects(hit, reason, message))
            parts = parts.filter(~cond)
    rows = parts.select(list(SCHEMA)).cast(SCHEMA)
    return Parsed(rows, pl.concat(out) if out else no_rejects())
