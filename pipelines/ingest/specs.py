"""What a raw source is: where it lands, the one loader that reads a day of its files, and the raw table it fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Protocol

import duckdb
import polars as pl

from .landing import LandedFile, day_paths, landed


@dataclass
class Batch:
    """A day's lines as the writer takes them: `sql` yields one row per data line read, with the raw columns plus
    `source_file`, `source_line`, `reject_reason` (a reason code, NULL when the line loads), `reject_message` and
    `reject_text` (the line as read, for the quarantine)."""

    sql: str
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # registered under their names for `sql`
    # parse once into a temporary table (text that is costly to parse); otherwise `sql` is read twice
    materialize: bool = False
    # the rows each file holds (by name) when the batch cannot count them itself (Parquet: from its footer)
    rows_read: Callable[[], dict[str, int]] | None = None
    # after DuckDB refuses the batch (and the day was rolled back): another batch to try once, or None to fail
    retry: Callable[[duckdb.Error], Batch | None] | None = None


class Loader(Protocol):
    """Reads a day of one source's files into a Batch; `raw_columns` is the raw table's contract."""

    raw_columns: dict[str, str]  # column -> DuckDB type, beyond partition_date and source_file

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch: ...


@dataclass(frozen=True)
class RawSource:
    source: str  # dbt source name = first part of the asset key
    table: str  # raw table, dbt source table, landing folder
    patterns: tuple[str, ...]
    loader: Loader
    description: str
    # for measurements: the raw time column that must fall near the partition's day (clock skew, misfiled files)
    time_column: str | None = None

    @property
    def key(self) -> list[str]:
        return [self.source, self.table]

    def files(self, landing: Path, day: str) -> list[LandedFile]:
        return landed(day_paths(landing, self.table, self.patterns, day), landing)
