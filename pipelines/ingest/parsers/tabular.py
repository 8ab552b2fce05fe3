"""CSV with a header and JSON lines: the inventory, org, registry, deployment, traffic and event exports.

Each source declares its columns and types; a line whose field count, JSON or typed values do not fit is
quarantined with the column at fault. Columns the file has beyond the declared ones are ignored (a newer export
may add fields); a declared column the file lacks is an error for the whole file."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ..landing import LandedFile
from ..rules import Rule, line_rules
from ..specs import Batch
from .base import (
    Parsed,
    day_of_files,
    duckdb_columns,
    frames_batch,
    keep_line_rules,
    read_lines,
    rejects,
    split_bad_encoding,
)

STR, INT, FLOAT, TS = pl.String, pl.Int64, pl.Float64, "ts"

# a column type is a polars dtype, or ("ts", format) for text timestamps parsed strictly
TIMESTAMP_FORMATS = ["%Y-%m-%dT%H:%M:%S%.fZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S"]


def _typed(frame: pl.DataFrame, columns: dict, optional: set[str]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast the string columns; a non-empty cell that does not cast sends its line to quarantine."""
    exprs, broken = [], []
    for col, dtype in columns.items():
        text = pl.col(col).str.strip_chars()
        empty = text.is_null() | (text == "")
        if dtype == "ts":
            value = pl.coalesce([text.str.to_datetime(f, strict=False, time_unit="us") for f in TIMESTAMP_FORMATS])
        elif dtype == pl.Boolean:
            value = text.str.to_lowercase().replace_strict(
                {"true": True, "false": False}, default=None, return_dtype=pl.Boolean
            )
        else:
            value = text.cast(dtype, strict=False)
        value = pl.when(empty).then(None).otherwise(value)
        exprs.append(value.alias(col))
        bad = (~empty & value.is_null()) | (empty & pl.lit(col not in optional))
        broken.append(pl.when(bad).then(pl.lit(col)))
    frame = frame.with_columns(problem=pl.concat_str(broken, separator=",", ignore_nulls=True))
    bad = frame.filter(pl.col("problem") != "")
    good = frame.filter(pl.col("problem") == "").with_columns(exprs)
    return good, rejects(bad, "bad_value", pl.format("missing or unparseable value in {}", "problem"))


def _schema(columns: dict) -> dict:
    """The typed frame's columns, under their raw names."""
    return {"source_line": pl.Int64} | {snake(c): pl.Datetime("us") if t == "ts" else t for c, t in columns.items()}


def parse_csv(path: Path, columns: dict, optional: set[str] = frozenset(), rules: list[Rule] = ()) -> Parsed:
    """CSV with a header; rows under their raw (snake_case) names, checked against `rules` (raw names)."""
    lines = read_lines(path)
    lines, bad_enc = split_bad_encoding(lines)
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    schema = _schema(columns)
    if lines.is_empty():
        return Parsed(pl.DataFrame(schema=schema), bad_enc)
    header = [h.strip() for h in next(csv.reader([lines["text"][0]]))]
    missing = [c for c in columns if c not in header and c not in optional]
    body = lines.slice(1)
    if missing:
        msg = f"file lacks column(s) {', '.join(missing)}"
        return Parsed(pl.DataFrame(schema=schema), pl.concat([bad_enc, rejects(body, "missing_column", msg)]))
    records = list(csv.reader(body["text"].to_list()))
    fits = pl.Series([len(r) == len(header) for r in records], dtype=pl.Boolean)
    wrong = body.filter(~fits) if len(records) else body
    body = body.filter(fits) if len(records) else body
    kept = [r for r in records if len(r) == len(header)]
    data = {c: [r[header.index(c)] for r in kept] if c in header else [None] * len(kept) for c in columns}
    frame = body.with_columns(pl.DataFrame(data, schema={c: pl.String for c in columns}))
    good, bad = _typed(frame, columns, set(optional))
    out = [bad_enc, rejects(wrong, "field_count", f"expected {len(header)} fields as in the header"), bad]
    return _checked(good, schema, out, rules)


def parse_jsonl(
    path: Path,
    columns: dict,
    optional: set[str] = frozenset(),
    extra_column: str | None = None,
    rules: list[Rule] = (),
) -> Parsed:
    """JSON lines; the declared keys become columns (under their raw names), and with `extra_column` every other
    key is kept as a JSON object in that column (event payloads differ by event type)."""
    lines = read_lines(path)
    lines, bad_enc = split_bad_encoding(lines)
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    values: dict[str, list] = {c: [] for c in columns}
    extras, ok = [], []
    for text in lines["text"]:
        try:
            rec = json.loads(text)
            if not isinstance(rec, dict):
                raise ValueError
        except ValueError:
            ok.append(False)
            continue
        ok.append(True)
        for c in columns:
            v = rec.get(c)
            values[c].append(None if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else str(v)))
        if extra_column:
            extras.append(json.dumps({k: v for k, v in rec.items() if k not in columns}, sort_keys=True))
    mask = pl.Series(ok, dtype=pl.Boolean)
    bad_json = lines.filter(~mask) if len(ok) else lines
    good_lines = lines.filter(mask) if len(ok) else lines
    frame = good_lines.with_columns(pl.DataFrame(values, schema={c: pl.String for c in columns}))
    if extra_column:
        frame = frame.with_columns(pl.Series(extra_column, extras, dtype=pl.String))
    good, bad = _typed(frame, columns, set(optional))
    schema = _schema(columns) | ({extra_column: pl.String} if extra_column else {})
    out = [bad_enc, rejects(bad_json, "bad_json", "line is not a JSON object"), bad]
    return _checked(good, schema, out, rules)


def _checked(good: pl.DataFrame, schema: dict, rejected: list[pl.DataFrame], rules: list[Rule]) -> Parsed:
    """The typed lines under their raw names, those that break a line rule moved to the rejects."""
    good, broken = keep_line_rules(good.rename({c: snake(c) for c in good.columns if c != "text"}), rules)
    return Parsed(good.select(list(schema)).cast(schema), pl.concat([*rejected, broken]))


def snake(name: str) -> str:
    """A landed column's raw name: `ContextTokens` -> `context_tokens`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Tabular:
    """The loader of a CSV or JSON-lines source: its landed columns and types, which may be empty, and for JSON
    the column that keeps every other key. Lines are checked against the table's line rules once typed."""

    table: str
    format: str  # "csv" or "jsonl"
    columns: dict
    optional: frozenset[str] = field(default_factory=frozenset)
    extra: str | None = None

    @property
    def raw_columns(self) -> dict[str, str]:
        return duckdb_columns(_schema(self.columns) | ({self.extra: pl.String} if self.extra else {}))

    def parse(self, path: Path) -> Parsed:
        """One file's typed rows (under their raw names) and rejects."""
        rules = line_rules(self.table)
        if self.format == "csv":
            return parse_csv(path, self.columns, self.optional, rules)
        return parse_jsonl(path, self.columns, self.optional, self.extra, rules)

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch:
        return frames_batch(day_of_files(self.parse, [f.path for f in files]), files)
