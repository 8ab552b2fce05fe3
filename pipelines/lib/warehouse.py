"""Writing raw partitions to DuckDB: one transaction per (table, day) that replaces the day's rows, its
quarantine and its audit entries, so a re-run never duplicates and a crash never leaves half a day."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from .parsers.base import FILE, REJECT_SCHEMA, Parsed, no_rejects

if TYPE_CHECKING:  # sources imports the SQL loaders, which build on this module
    from .sources import RawSource

QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    table_name varchar, partition_date date, source_file varchar, source_line bigint,
    reason varchar, message varchar, raw_text varchar)"""
AUDIT_DDL = """
create table if not exists raw.load_audit (
    table_name varchar, partition_date date, source_file varchar, file_bytes bigint, file_sha256 varchar,
    rows_read bigint, rows_loaded bigint, rows_quarantined bigint, loaded_at timestamptz, status varchar)"""


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def relative(path: Path, landing: Path) -> str:
    return path.relative_to(landing).as_posix() if path.is_relative_to(landing) else path.name


def loaded_fingerprints(con: duckdb.DuckDBPyConnection, table: str, partition_date: str) -> dict[str, str]:
    """The files (relative path -> sha256) the day was last loaded from; empty if never loaded."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = 'load_audit'"
    ).fetchall()[0][0]
    if not exists:
        return {}
    rows = con.execute(
        "select source_file, file_sha256 from raw.load_audit where table_name = ? and partition_date = ?",
        [table, date.fromisoformat(partition_date)],
    ).fetchall()
    return dict(rows)


def raw_table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = ?", [table]
        ).fetchall()[0][0]
    )


def parse_day(source: RawSource, paths: list[Path]) -> Parsed:
    """The day's files as one Parsed whose rows and rejects carry their file's index (FILE)."""
    if source.parse_day:
        return source.parse_day(paths)
    # a day without files still replaces the day (with nothing): the table's schema comes from an empty parse
    parsed = [source.parse(p) for p in paths] or [Parsed(_empty_rows(source), no_rejects())]
    return Parsed(
        pl.concat([p.rows.with_columns(pl.lit(i, pl.Int32).alias(FILE)) for i, p in enumerate(parsed)]),
        pl.concat([p.rejects.with_columns(pl.lit(i, pl.Int32).alias(FILE)) for i, p in enumerate(parsed)]),
    )


def load_partition(
    con: duckdb.DuckDBPyConnection, source: RawSource, partition_date: str, paths: list[Path], landing: Path
) -> dict:
    """Replace one day of raw.<table> from its files: in DuckDB for a source it reads itself, else parsed here."""
    if source.load:
        return source.load(con, source.table, partition_date, paths, landing)
    return replace_partition(con, source, partition_date, paths, parse_day(source, paths), landing)


def replace_partition(
    con: duckdb.DuckDBPyConnection,
    source: RawSource,
    partition_date: str,
    paths: list[Path],
    parsed: Parsed,
    landing: Path,
) -> dict:
    """Replace the day from `parsed`, the day's files parsed (rows and rejects tagged with their FILE)."""
    day = date.fromisoformat(partition_date)
    if source.time_column:
        parsed = outside_partition(parsed, source.time_column, day)
    names = [relative(p, landing) for p in paths]
    source_file = pl.col(FILE).replace_strict(dict(enumerate(names)), default="", return_dtype=pl.String)
    rows = parsed.rows
    batch = rows.rename({c: snake(c) for c in rows.columns}).select(
        pl.exclude(FILE), partition_date=pl.lit(day), source_file=source_file
    )
    rejected = parsed.rejects.select(
        table_name=pl.lit(source.table),
        partition_date=pl.lit(day),
        source_file=source_file,
        source_line="source_line",
        reason="reason",
        message="message",
        raw_text="raw_text",
    )
    loaded = dict(rows.group_by(FILE).len().iter_rows())
    quarantined = dict(parsed.rejects.group_by(FILE).len().iter_rows())
    now = datetime.now(UTC)
    audit = []
    for i, path in enumerate(paths):
        good, bad = loaded.get(i, 0), quarantined.get(i, 0)
        audit.append(
            {
                "table_name": source.table,
                "partition_date": day,
                "source_file": names[i],
                "file_bytes": path.stat().st_size,
                "file_sha256": file_sha256(path),
                "rows_read": good + bad,
                "rows_loaded": good,
                "rows_quarantined": bad,
                "loaded_at": now,
                "status": "loaded" if not bad else ("rejected" if not good else "partial"),
            }
        )
    table = f"raw.{source.table}"
    con.begin()
    try:
        con.execute("create schema if not exists raw")
        con.execute(QUARANTINE_DDL)
        con.execute(AUDIT_DDL)
        con.register("batch", batch)
        con.execute(f"create table if not exists {table} as select * from batch limit 0")
        _add_new_columns(con, source.table)
        con.execute(f"delete from {table} where partition_date = ?", [day])
        con.execute(f"insert into {table} by name select * from batch")
        con.unregister("batch")
        for name, frame in (("quarantine", rejected), ("load_audit", pl.DataFrame(audit) if audit else None)):
            con.execute(f"delete from raw.{name} where table_name = ? and partition_date = ?", [source.table, day])
            if frame is not None and frame.height:
                con.register("extra", frame)
                con.execute(f"insert into raw.{name} by name select * from extra")
                con.unregister("extra")
        con.commit()
    except Exception:
        con.rollback()
        raise
    return {
        "files": len(paths),
        "rows_read": sum(a["rows_read"] for a in audit),
        "rows_loaded": batch.height,
        "rows_quarantined": sum(a["rows_quarantined"] for a in audit),
    }


SKEW_TOLERANCE = timedelta(days=1)


def outside_partition(parsed: Parsed, column: str, day: date) -> Parsed:
    """Measurements more than a day outside their partition's day (a skewed clock, a misfiled file) are
    quarantined: they would land in the wrong day and be replaced with the wrong partition."""
    start = datetime.combine(day, time.min) - SKEW_TOLERANCE
    end = datetime.combine(day, time.min) + timedelta(days=1) + SKEW_TOLERANCE
    ts = pl.col(column)
    if parsed.rows.schema[column] == pl.Datetime("us", "UTC"):
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    off = ts.is_not_null() & ((ts < start) | (ts >= end))
    skewed = parsed.rows.filter(off)
    if skewed.is_empty():
        return parsed
    tagged = [pl.col(FILE)] if FILE in skewed.columns else []
    rejected = skewed.select(
        pl.col("source_line"),
        pl.lit("timestamp_outside_partition").alias("reason"),
        pl.format(
            "{} {} is more than a day outside partition {}", pl.lit(column), ts.cast(pl.String), pl.lit(str(day))
        ).alias("message"),
        pl.lit(None, pl.String).alias("raw_text"),
        *tagged,
    ).cast(REJECT_SCHEMA)
    return Parsed(parsed.rows.filter(~off), pl.concat([parsed.rejects, rejected]))


def _add_new_columns(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """A source that gained a column (a newer export) widens its raw table; older days read NULL there."""
    have = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?", [table]
        ).fetchall()
    }
    for name, dtype, *_ in con.execute("describe select * from batch").fetchall():
        if name not in have:
            con.execute(f'alter table raw.{table} add column "{name}" {dtype}')


def _empty_rows(source: RawSource) -> pl.DataFrame:
    """The table's columns, from parsing an empty file (every parser returns its schema then)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"empty{source.patterns[0].lstrip('*')}"
        p.write_text("")
        return source.parse(p).rows
