"""The one writer of raw data: a day of a source replaced in one transaction — its rows, its quarantine and its
audit — so a re-run never duplicates, a crash never leaves half a day, and the day is not replaced unless every
line read was loaded or quarantined."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import polars as pl

from pipelines.lib.changes import Change, record

from .landing import LandedFile
from .rules import partition_window
from .specs import Batch, RawSource

QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    table_name varchar, partition_date date, source_file varchar, source_line bigint,
    reason varchar, message varchar, raw_text varchar)"""
AUDIT_DDL = """
create table if not exists raw.load_audit (
    table_name varchar, partition_date date, source_file varchar, file_bytes bigint, file_sha256 varchar,
    rows_read bigint, rows_loaded bigint, rows_quarantined bigint, loaded_at timestamptz, status varchar,
    problem varchar)"""
BATCH = "load_batch"


def replace_day(
    con: duckdb.DuckDBPyConnection, source: RawSource, partition_date: str, files: list[LandedFile]
) -> dict:
    """Replace one day of raw.<table> from its landed files; a summary of what was read, loaded and quarantined."""
    day = date.fromisoformat(partition_date)
    ordered = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    # rows carry their file and line: their order in the table means nothing, and keeping it costs parallelism
    con.execute("set preserve_insertion_order = false")
    unique = files_to_read(files)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            batch = source.loader(con, day, unique, Path(scratch)) if unique else None
            try:
                return _replace(con, source, day, files, batch)
            except duckdb.Error as error:  # the day was rolled back
                again = batch.retry(error) if batch and batch.retry else None
                if again is None:
                    raise
                return _replace(con, source, day, files, again)
    finally:
        con.execute(f"set preserve_insertion_order = {ordered}")


def files_to_read(files: list[LandedFile]) -> list[LandedFile]:
    """The files a day is read from: the readable ones, each content once. The same bytes delivered under a second
    name (`dep-001 (1).csv`) are read under the first name in order, and the copy is audited as a duplicate."""
    first: dict[str, LandedFile] = {}
    for f in files:
        if not f.problem:
            first.setdefault(f.sha256, f)
    return list(first.values())


def _replace(con, source: RawSource, day: date, files: list[LandedFile], batch: Batch | None) -> dict:
    table = source.table
    con.begin()
    try:
        _create_tables(con, source)
        for name in (table, "quarantine", "load_audit"):
            key = "" if name == table else "table_name = $table and "
            con.execute(
                f"delete from raw.{name} where {key}partition_date = $day",
                {"day": day} | ({"table": table} if key else {}),
            )
        audit = _write_batch(con, source, day, files, batch) if batch else _insert_audit(con, table, day, files)
        record(con, _replaced(table, day))
        loaded = con.execute(f"select count(*) from raw.{table} where partition_date = ?", [day]).fetchall()[0][0]
        read, quarantined = sum(a[5] for a in audit), sum(a[7] for a in audit)
        if read != loaded + quarantined:  # every row read is loaded or quarantined, or the day is not replaced
            raise RuntimeError(f"raw.{table} {day}: read {read} != loaded {loaded} + quarantined {quarantined}")
        con.commit()
    except Exception:
        con.rollback()
        raise
    return {"files": len(files), "rows_read": read, "rows_loaded": loaded, "rows_quarantined": quarantined}


def _replaced(table: str, day: date) -> list[Change]:
    """The rows a day's replacement rewrote, in the change log the publish reads."""
    start = datetime.combine(day, time(), UTC)
    return [
        Change(f"raw.{name}", "partition_date", start, start + timedelta(days=1))
        for name in (table, "quarantine", "load_audit")
    ]


def _write_batch(con, source: RawSource, day: date, files: list[LandedFile], batch: Batch) -> list[tuple]:
    table = source.table
    for name, frame in batch.frames.items():
        con.register(name, frame)
    kind = "table" if batch.materialize else "view"
    con.execute(f"create or replace temp {kind} {BATCH} as {_with_skew_rule(source, day, batch.sql)}")
    loaded = con.execute(
        f"insert into raw.{table} by name "
        f"select * exclude (reject_reason, reject_message, reject_text), $day as partition_date from {BATCH} "
        "where reject_reason is null",
        {"day": day},
    ).fetchall()[0][0]
    read = batch.rows_read() if batch.rows_read else None
    # where the rows read are known and every one loaded, none is left to quarantine: the batch is not read twice
    if read is None or loaded < sum(read.values()):
        con.execute(
            f"""insert into raw.quarantine by name
            select $table as table_name, $day as partition_date, source_file, source_line,
                reject_reason as reason, reject_message as message, reject_text as raw_text
            from {BATCH} where reject_reason is not null""",
            {"table": table, "day": day},
        )
    if read is None:
        counted = con.execute(
            f"select source_file, count(*), count(reject_reason) from {BATCH} group by all"
        ).fetchall()
        read, rejected = {f: n for f, n, _ in counted}, {f: bad for f, _, bad in counted}
    else:
        rejected = dict(
            con.execute(
                "select source_file, count(*) from raw.quarantine where table_name = ? and partition_date = ? "
                "group by all",
                [table, day],
            ).fetchall()
        )
    con.execute(f"drop {kind} {BATCH}")
    for name in batch.frames:
        con.unregister(name)
    return _insert_audit(con, table, day, files, read, rejected)


def _insert_audit(con, table: str, day: date, files: list[LandedFile], read=None, rejected=None) -> list[tuple]:
    """One audit row per file: its counts and status — loaded, partial, rejected, empty (no data line), duplicate
    (the same bytes as a file before it, read once) or unreadable (with the problem)."""
    read, rejected, now = read or {}, rejected or {}, datetime.now(UTC)
    audit, read_from = [], {f.name for f in files_to_read(files)}
    for f in files:
        if f.problem:
            audit.append((table, day, f.name, f.size, f.sha256, 0, 0, 0, now, "unreadable", f.problem))
            continue
        if f.name not in read_from:
            audit.append((table, day, f.name, f.size, f.sha256, 0, 0, 0, now, "duplicate", None))
            continue
        n, bad = read.get(f.name, 0), rejected.get(f.name, 0)
        # an empty delivery (no file, or only a header) is kept apart from one that loaded, so it is seen
        status = "empty" if n == 0 else "loaded" if not bad else ("rejected" if bad == n else "partial")
        audit.append((table, day, f.name, f.size, f.sha256, n, n - bad, bad, now, status, None))
    if audit:  # one statement from a frame: executemany costs ~1 ms a row, and a telemetry day has a file per host
        columns = [c[0] for c in con.execute("select * from raw.load_audit limit 0").description]
        con.register("audit_rows", pl.DataFrame(audit, schema=columns, orient="row"))
        con.execute("insert into raw.load_audit by name select * from audit_rows")
        con.unregister("audit_rows")
    return audit


def _with_skew_rule(source: RawSource, day: date, sql: str) -> str:
    """The batch, with the lines that load but were measured more than a day outside the partition's day
    quarantined (the row as read kept as JSON)."""
    if not source.time_column:
        return sql
    start, end = partition_window(day)
    at = f'"{source.time_column}"'
    skewed = f"reject_reason is null and epoch_us({at}) not between {_epoch_us(start)} and {_epoch_us(end) - 1}"
    row = ", ".join(f'"{c}" := "{c}"' for c in source.loader.raw_columns)
    return f"""select * replace (
            case when {skewed} then 'timestamp_outside_partition' else reject_reason end as reject_reason,
            case when {skewed} then format('{source.time_column} {{}} is more than a day outside partition {day}',
                {at}) else reject_message end as reject_message,
            case when {skewed} then to_json(struct_pack({row}))::varchar else reject_text end as reject_text)
        from ({sql})"""


def _epoch_us(at: datetime) -> int:
    return int(at.timestamp()) * 1_000_000


def _create_tables(con: duckdb.DuckDBPyConnection, source: RawSource) -> None:
    create_audit_tables(con)
    create_raw_table(con, source)


def create_raw_table(con: duckdb.DuckDBPyConnection, source: RawSource) -> None:
    """The raw table from its contract; a contract that gained a column (a newer export) widens an existing table,
    whose older days read NULL there."""
    columns = source.loader.raw_columns | {"partition_date": "date", "source_file": "varchar"}
    ddl = ", ".join(f'"{c}" {kind}' for c, kind in columns.items())
    con.execute(f"create table if not exists raw.{source.table} ({ddl})")
    have = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [source.table],
        ).fetchall()
    }
    for name, kind in columns.items():
        if name not in have:
            con.execute(f'alter table raw.{source.table} add column "{name}" {kind}')


def create_audit_tables(con: duckdb.DuckDBPyConnection) -> None:
    """The quarantine and the audit, at their current columns (an audit written before `problem` gains it)."""
    con.execute("create schema if not exists raw")
    con.execute(QUARANTINE_DDL)
    con.execute(AUDIT_DDL)
    con.execute("alter table raw.load_audit add column if not exists problem varchar")


def loaded_fingerprints(con: duckdb.DuckDBPyConnection, table: str, partition_date: str) -> dict[str, str]:
    """The files (relative path -> sha256) the day was last loaded from; empty if never loaded."""
    if not raw_table_exists(con, "load_audit"):
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
