"""The one landing writer of every producer (simulator, trace adapters, benchmark fleet): a file per (table, day)
under <landing>/<table>/dt=YYYY-MM-DD/<name>, in the format the table's source reads.

The column contracts are the source registry's (`pipelines.ingest.registry.BY_TABLE`), never a copy: for a CSV
or JSON-lines source, its `Tabular` loader's `columns` (landed names -> types) and `optional`. A frame (or, for
JSON lines, each record) must hold every required column, no column the contract lacks (JSON lines may carry
other keys when the loader keeps them as `extra`), values of a kind the column's type reads; columns are written
in the contract's order, optional ones only when the producer has them. Columnar telemetry (Parquet) is checked
against the columns its loader reads, a `sacct -P` frame against the fields the sacct parser needs. Formats the
registry does not describe as columns (dcgm-exporter text, nvidia-smi CSV, sacct lines) arrive rendered
(generators/sim/formats.py) and are written as they are. Every file name must match its source's patterns, or the
loader would never see it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from datetime import date
from fnmatch import fnmatch
from pathlib import Path

import polars as pl

from pipelines.ingest.parsers import parquet, sacct
from pipelines.ingest.parsers.tabular import Tabular
from pipelines.ingest.registry import BY_TABLE
from pipelines.ingest.specs import RawSource

CSV_DATETIME = "%Y-%m-%d %H:%M:%S%.f"  # what the CSV loaders' timestamp formats read
TEXT = (pl.String, pl.Null)


class ContractError(ValueError):
    """A frame or record that does not fit its table's landing contract (pipelines/ingest/registry.py)."""


def _source(table: str) -> RawSource:
    if table not in BY_TABLE:
        raise ContractError(f"no raw source lands in {table!r} (pipelines/ingest/registry.py knows {sorted(BY_TABLE)})")
    return BY_TABLE[table]


def _fits(dtype: pl.DataType, wanted) -> bool:
    """A frame column of `dtype` lands as text the loader reads as `wanted` (text is always taken as rendered)."""
    if dtype in TEXT or wanted == pl.String:
        return True
    if wanted == "ts":
        return isinstance(dtype, pl.Datetime | pl.Date)
    if wanted == pl.Boolean:
        return dtype == pl.Boolean
    if wanted.is_integer():
        return dtype.is_integer()
    if wanted.is_float():
        return dtype.is_numeric()
    return False


def arranged(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` checked against the CSV contract of `table`, its columns in the contract's order."""
    contract = _tabular(table)
    columns = frame.columns
    missing = [c for c in contract.columns if c not in columns and c not in contract.optional]
    if missing:
        raise ContractError(f"{table}: the frame lacks required column(s) {', '.join(missing)}")
    unknown = [c for c in columns if c not in contract.columns]
    if unknown:
        raise ContractError(
            f"{table}: column(s) {', '.join(unknown)} are not in its contract ({', '.join(contract.columns)})"
        )
    empty = [c for c in contract.columns if c in columns and c not in contract.optional and frame[c].has_nulls()]
    if empty:
        raise ContractError(f"{table}: required column(s) {', '.join(empty)} have empty values")
    wrong = [
        f"{c} ({frame.schema[c]}, not {t})"
        for c, t in contract.columns.items()
        if c in columns and not _fits(frame.schema[c], t)
    ]
    if wrong:
        raise ContractError(f"{table}: column(s) of the wrong type: {', '.join(wrong)}")
    return frame.select([c for c in contract.columns if c in columns])


def arranged_record(table: str, record: dict, contract: Tabular | None = None) -> dict:
    """One JSON-lines record checked against the contract of `table`: the contract's keys first, in its order,
    then (when the loader keeps them) the others as given."""
    contract = contract or _tabular(table)
    missing = [c for c in contract.columns if record.get(c) is None and c not in contract.optional]
    if missing:
        raise ContractError(f"{table}: a record lacks required key(s) {', '.join(missing)}: {record}")
    others = [k for k in record if k not in contract.columns]
    if others and not contract.extra:
        raise ContractError(
            f"{table}: key(s) {', '.join(others)} are not in its contract ({', '.join(contract.columns)})"
        )
    return {c: record[c] for c in contract.columns if c in record} | {k: record[k] for k in others}


def empty_frame(table: str) -> pl.DataFrame:
    """No rows, every column of the CSV contract of `table`: a file that says "nothing today" with its header."""
    return pl.DataFrame(schema={c: pl.Datetime("us") if t == "ts" else t for c, t in _tabular(table).columns.items()})


def _tabular(table: str) -> Tabular:
    loader = _source(table).loader
    if not isinstance(loader, Tabular):
        raise ContractError(f"{table} is not a CSV or JSON-lines source; its loader is {type(loader).__name__}")
    return loader


def _check_columnar(frame: pl.DataFrame) -> None:
    """Canonical columnar telemetry: the columns the Parquet loader reads, with a time, a host and a GPU index."""
    known = {c for candidates in parquet.LABELS.values() for c in candidates} | {
        r.field for r in parquet.METRICS.values()
    }
    unknown = [c for c in frame.columns if c not in known]
    if unknown:
        raise ContractError(f"gpu_samples: column(s) {', '.join(unknown)} are not read by its loader")
    for column, candidates in (
        ("measured_at", parquet.LABELS["measured_at"]),
        ("hostname", parquet.LABELS["hostname"]),
        ("gpu", parquet.LABELS["gpu"]),
    ):
        if not any(c in frame.columns for c in candidates):
            raise ContractError(f"gpu_samples: the frame has no {column} column ({' or '.join(candidates)})")


def _check_sacct(frame: pl.DataFrame) -> None:
    unknown = [c for c in frame.columns if c not in sacct.COLUMNS]
    missing = [c for c in sacct.REQUIRED if c not in frame.columns]
    if unknown or missing:
        raise ContractError(
            f"sacct_jobs: fields {', '.join(missing)} missing, {', '.join(unknown)} unknown to sacct -P"
        )


class Landing:
    """A fresh landing area (whatever was under `root` is removed): one file per call, for a table and a day."""

    def __init__(self, root: Path):
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        self.root = root
        self.first_day: date | None = None

    def path(self, table: str, day: date, name: str) -> Path:
        """Where a file of `table` for `day` lands; the name must match the source's patterns."""
        source = _source(table)
        if not any(fnmatch(name, p) for p in source.patterns):
            raise ContractError(f"{table}: {name!r} matches none of its patterns {source.patterns}; it would not load")
        self.first_day = min(self.first_day or day, day)
        p = self.root / table / f"dt={day.isoformat()}" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def write(self, table: str, day: date, name: str, rows: pl.DataFrame | Iterable[dict], **parquet_options) -> Path:
        """A frame (CSV, Parquet, sacct -P) or records (CSV, JSON lines: dicts), checked against the contract."""
        loader = _source(table).loader
        if isinstance(loader, Tabular) and loader.format == "jsonl":
            if isinstance(rows, pl.DataFrame):
                raise ContractError(f"{table} lands JSON lines: pass records (dicts), which json.dumps renders")
            if loader.lists and name.endswith(".json"):  # a kubectl List: one document, a record per item
                items = [arranged_record(table, r, loader) for r in rows]
                document = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
                return self.write_text(table, day, name, json.dumps(document, indent=4) + "\n", check=False)
            lines = "".join(json.dumps(arranged_record(table, r, loader)) + "\n" for r in rows)
            return self.write_text(table, day, name, lines, check=False)
        if isinstance(loader, Tabular) and not isinstance(rows, pl.DataFrame):  # CSV rows as records
            rows = list(rows)
            rows = pl.from_dicts(rows, infer_schema_length=None) if rows else empty_frame(table)
        if not isinstance(rows, pl.DataFrame):
            raise ContractError(f"{table} lands a table: pass a polars DataFrame")
        path = self.path(table, day, name)
        if isinstance(loader, Tabular):
            arranged(table, rows).write_csv(path, datetime_format=CSV_DATETIME)
        elif isinstance(loader, parquet.ColumnarParquet):
            _check_columnar(rows)
            rows.write_parquet(path, **parquet_options)
        elif isinstance(loader, sacct.Sacct):  # sacct --parsable2: a header, |-separated, nothing quoted
            _check_sacct(rows)
            rows.write_csv(path, separator="|", quote_style="never")
        else:
            raise ContractError(f"{table} lands rendered text ({type(loader).__name__}): use write_text")
        return path

    def write_by_day(self, table: str, frame: pl.DataFrame, day: pl.Expr, name: str, **parquet_options) -> None:
        """One file per UTC day (`day` gives each row's date): a measurement lands in its own day's partition."""
        for (key,), part in frame.group_by(day.alias("_day"), maintain_order=True):
            self.write(table, key, name, part.drop("_day", strict=False), **parquet_options)

    def write_text(self, table: str, day: date, name: str, text: str, *, check: bool = True) -> Path:
        """A file already rendered in its tool's format (dcgm-exporter text, nvidia-smi CSV, sacct -P lines)."""
        if check and isinstance(_source(table).loader, Tabular):
            raise ContractError(f"{table} has a column contract: write a frame or records, not text")
        path = self.path(table, day, name)
        path.write_text(text, encoding="utf-8")
        return path
