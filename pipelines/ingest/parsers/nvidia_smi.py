"""`nvidia-smi --query-gpu=... --format=csv[,nounits] [-l N]` output.

The header names the queried fields with their unit in brackets (`memory.used [MiB]`); values repeat the unit
(`1234 MiB`) unless `nounits` was given, and unsupported readings print as `[N/A]` or `[Not Supported]`.
The timestamp is the host's local time as `YYYY/MM/DD HH:MM:SS.mmm`; staging applies the host time zone."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ..landing import LandedFile
from ..rules import GPU_MODELS, READINGS, Reading, model_limit
from ..specs import Batch
from .base import FILE, Parsed, duckdb_columns, frames_batch, read_day_lines, rejects, split_bad_encoding

# query field -> (raw column, unit nvidia-smi documents for it, type)
FIELDS = {
    "timestamp": ("measured_at_local", None, "ts"),
    "name": ("gpu_name", None, "str"),
    "pci.bus_id": ("pci_bus_id", None, "str"),
    "driver_version": ("driver_version", None, "str"),
    "uuid": ("gpu_uuid", None, "str"),
    "index": ("gpu", None, "int"),
    "utilization.gpu": ("utilization_gpu_pct", "%", "float"),
    "utilization.memory": ("utilization_memory_pct", "%", "float"),
    "memory.total": ("memory_total_mib", "MiB", "float"),
    "memory.used": ("memory_used_mib", "MiB", "float"),
    "memory.free": ("memory_free_mib", "MiB", "float"),
    "power.draw": ("power_draw_w", "W", "float"),
    "temperature.gpu": ("temperature_gpu_c", None, "float"),
}
REQUIRED = ("timestamp", "uuid", "index", "utilization.gpu")
RANGES = {r.nvidia_smi: r for r in READINGS if r.nvidia_smi}
# text read into Python at a time (a fleet-day of logs is gigabytes)
BATCH_BYTES = 64 << 20
NOT_A_READING = r"^\[(N/A|Not Supported|Unknown Error|Insufficient Permissions|GPU requires reset)\]$"
SCHEMA = {"source_line": pl.Int64, "hostname": pl.String} | {
    col: {"ts": pl.Datetime("us"), "str": pl.String, "int": pl.Int64, "float": pl.Float64}[kind]
    for col, _, kind in FIELDS.values()
}


class HeaderError(ValueError):
    pass


def _header(text: str) -> list[tuple[str, str | None]]:
    fields = []
    for name in (h.strip() for h in text.split(",")):
        m = re.fullmatch(r"([a-z_.]+)(?: \[(.+)\])?", name)
        if not m:
            raise HeaderError(f"unrecognised header field {name!r}")
        fields.append((m.group(1), m.group(2)))
    missing = [f for f in REQUIRED if f not in {n for n, _ in fields}]
    if missing:
        raise HeaderError(f"header lacks required field(s) {', '.join(missing)}")
    for name, unit in fields:
        expected = FIELDS.get(name, (None, None, None))[1]
        if unit is not None and expected is not None and unit != expected:
            raise HeaderError(f"field {name} is in [{unit}], expected [{expected}]")
    return fields


def _beyond_model(column: str, reading: Reading) -> pl.Expr:
    """Whether a reading exceeds its GPU model's memory or power (rules.GPU_MODELS; the first model matching the
    logged name), False for a model not listed."""
    limit = pl.lit(None, pl.Float64)
    for model in reversed(GPU_MODELS):  # built inside out, so the first match wins
        bound = model_limit(reading, model)
        if bound is not None:
            limit = pl.when(pl.col("gpu_name").str.contains(f"(?i){model.pattern}")).then(bound).otherwise(limit)
    return pl.col(column) > limit


def parse_nvidia_smi(path: Path, hostname: str) -> Parsed:
    """One log's rows and rejects."""
    day = parse_nvidia_smi_day([path], [hostname])
    return Parsed(day.rows.drop(FILE), day.rejects.drop(FILE))


def parse_nvidia_smi_day(paths: list[Path], hostnames: list[str]) -> Parsed:
    """A day of logs (one per host) parsed together, rows and rejects tagged with their file: a fleet logs to
    a file per host, and parsing each on its own costs ~12 ms of frame work however few lines it holds. The
    files are read BATCH_BYTES at a time, so the text held in Python stays bounded whatever the fleet."""
    sizes = [p.stat().st_size for p in paths]
    parts, start = [], 0
    while start < len(paths):
        stop, size = start, 0
        while stop < len(paths) and (stop == start or size + sizes[stop] <= BATCH_BYTES):  # at least one file
            size += sizes[stop]
            stop += 1
        part = _parse_batch(paths[start:stop], hostnames[start:stop])
        parts.append(Parsed(*(f.with_columns(pl.col(FILE) + start) for f in (part.rows, part.rejects))))
        start = stop
    if not parts:
        return _parse_batch([], [])
    return Parsed(pl.concat([p.rows for p in parts]), pl.concat([p.rejects for p in parts]))


def _parse_batch(paths: list[Path], hostnames: list[str]) -> Parsed:
    lines = read_day_lines(paths).with_columns(
        hostname=pl.col(FILE).replace_strict(dict(enumerate(hostnames)), default=None, return_dtype=pl.String)
    )
    lines, bad_enc = split_bad_encoding(lines)
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    # each file's first line is its header; the files that queried the same fields are parsed as one
    heads = lines.group_by(FILE, maintain_order=True).agg(
        header=pl.col("text").first(), header_line=pl.col("source_line").first()
    )
    lines = lines.join(heads, on=FILE)
    rows, rejected = [pl.DataFrame(schema=SCHEMA | {FILE: pl.Int32})], [bad_enc]
    for header in heads["header"].unique(maintain_order=True):
        group = lines.filter(pl.col("header") == header)
        try:
            fields = _header(header)
        except HeaderError as e:
            rejected.append(rejects(group, "bad_header", str(e)))
            continue
        # -l repeats no header, but a restarted logger writes a new one: tolerate it
        body = group.filter(
            (pl.col("source_line") != pl.col("header_line")) & ~pl.col("text").str.starts_with("timestamp")
        )
        good, bad = _body(body, fields)
        rows.append(good)
        rejected.append(bad)
    return Parsed(pl.concat(rows), pl.concat(rejected))


def _body(body: pl.DataFrame, fields: list[tuple[str, str | None]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The data lines of files that share a header: typed rows, and the lines that cannot be."""
    cells = body.with_columns(cells=pl.col("text").str.split(","))
    wrong = cells.filter(pl.col("cells").list.len() != len(fields))
    cells = cells.filter(pl.col("cells").list.len() == len(fields))
    cols = []
    for i, (name, unit) in enumerate(fields):
        if name not in FIELDS:
            continue  # queried but not part of the canonical table
        col, _, kind = FIELDS[name]
        cell = pl.col("cells").list.get(i).str.strip_chars()
        if unit:
            cell = cell.str.strip_suffix(" " + unit)
        cell = pl.when(cell.str.contains(NOT_A_READING)).then(None).otherwise(cell)
        if kind == "ts":
            cell = cell.str.to_datetime("%Y/%m/%d %H:%M:%S%.3f", strict=False, time_unit="us")
        elif kind in ("int", "float"):
            cell = cell.cast(pl.Int64 if kind == "int" else pl.Float64, strict=False)
        cols.append(cell.alias(col))
        cols.append(pl.col("cells").list.get(i).str.strip_chars().alias(f"_{col}"))
    typed = cells.with_columns(cols)
    bad_cells = pl.lit(False)
    problems = []
    for col, _, kind in FIELDS.values():
        if kind != "str" and col in typed.columns:
            broken = pl.col(col).is_null() & ~pl.col(f"_{col}").str.contains(NOT_A_READING)
            bad_cells = bad_cells | broken
            problems.append(pl.when(broken).then(pl.lit(col)))
    with_problem = typed.with_columns(problem=pl.concat_str(problems, separator=",", ignore_nulls=True))
    broken = with_problem.filter(bad_cells)
    typed = typed.filter(~bad_cells)
    impossible = pl.lit(False)
    for col, reading in RANGES.items():
        if col in typed.columns:
            below = pl.col(col) < reading.low if reading.low is not None else pl.lit(False)
            above = pl.col(col) > reading.high if reading.high is not None else pl.lit(False)
            impossible = impossible | (below | above | _beyond_model(col, reading)).fill_null(False)
    out_of_range = typed.filter(impossible)
    good = typed.filter(~impossible)
    for col, dtype in SCHEMA.items():
        if col not in good.columns:
            good = good.with_columns(pl.lit(None, dtype).alias(col))
    out = [
        rejects(wrong, "field_count", f"expected {len(fields)} comma-separated fields"),
        rejects(broken, "bad_value", pl.format("unparseable value in {}", "problem")),
        rejects(
            out_of_range,
            "out_of_range",
            "a reading outside its possible range (utilisation 0-100 %, power and memory >= 0 and within the GPU "
            "model's, -40-150 °C)",
        ),
    ]
    return good.select(*SCHEMA, FILE).cast(SCHEMA), pl.concat(out)


def host_of(log: Path) -> str:
    """A log is named after its host: `gpu-node-07.csv` -> `gpu-node-07`, `10.0.0.5.csv.gz` -> `10.0.0.5`."""
    return log.name.removesuffix(".gz").removesuffix(".csv")


class NvidiaSmi:
    """The loader of nvidia-smi logs: a day of them (one per host) parsed together."""

    raw_columns = duckdb_columns(SCHEMA)

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch:
        paths = [f.path for f in files]
        return frames_batch(parse_nvidia_smi_day(paths, [host_of(p) for p in paths]), files)
