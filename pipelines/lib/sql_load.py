"""Replacing a raw day from files DuckDB reads itself (Parquet, Prometheus text): the source supplies one SELECT
that yields the raw columns plus `source_file`, `source_line`, `problem` (a reason code, NULL when the row loads),
`message` and `raw_text`; this module runs it inside one transaction that replaces the day's rows, quarantine and
audit, and refuses to commit unless read = loaded + quarantined for the day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from .warehouse import AUDIT_DDL, QUARANTINE_DDL, file_sha256, relative

BATCH = "load_batch"


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def source_file_expr(landing: Path, column: str = "filename") -> str:
    """SQL for a scanned file's name relative to the landing area (as `relative()` gives it in Python)."""
    prefix = sql_literal(str(landing).rstrip("/") + "/")
    return (
        f"case when starts_with({column}, {prefix}) then {column}[length({prefix}) + 1:] "
        f"else parse_filename({column}) end"
    )


def replace_partition_sql(
    con: duckdb.DuckDBPyConnection,
    table: str,
    partition_date: str,
    paths: list[Path],
    landing: Path,
    *,
    raw_ddl: str,
    batch_sql: Callable[[], str],
    materialize: bool,
    rows_read: Callable[[], dict[str, int]] | None = None,
) -> dict:
    """Replace the day of raw.<table> from `paths`. `materialize` parses once into a temporary table (text that is
    costly to parse); otherwise the SELECT is scanned twice (Parquet, cheap to re-read). `rows_read` gives the rows
    each file holds (by relative name) when the batch cannot count them itself."""
    day = date.fromisoformat(partition_date)
    names = {p: relative(p, landing) for p in paths}
    con.begin()
    try:
        con.execute("create schema if not exists raw")
        con.execute(raw_ddl)
        con.execute(QUARANTINE_DDL)
        con.execute(AUDIT_DDL)
        for name in (table, "quarantine", "load_audit"):
            key = "" if name == table else "table_name = $table and "
            con.execute(
                f"delete from raw.{name} where {key}partition_date = $day",
                {"day": day} | ({"table": table} if key else {}),
            )
        audit = []
        if paths:
            kind = "table" if materialize else "view"
            con.execute(f"create or replace temp {kind} {BATCH} as {batch_sql()}")
            con.execute(
                f"insert into raw.{table} by name "
                f"select * exclude (problem, message, raw_text), $day as partition_date from {BATCH} "
                "where problem is null",
                {"day": day},
            )
            con.execute(
                f"""insert into raw.quarantine by name
                select $table as table_name, $day as partition_date, source_file, source_line,
                    problem as reason, message, raw_text
                from {BATCH} where problem is not null""",
                {"table": table, "day": day},
            )
            if rows_read is None:
                counted = con.execute(
                    f"select source_file, count(*), count(problem) from {BATCH} group by all"
                ).fetchall()
                read, rejected = {f: n for f, n, _ in counted}, {f: bad for f, _, bad in counted}
            else:
                read = rows_read()
                rejected = dict(
                    con.execute(
                        "select source_file, count(*) from raw.quarantine where table_name = ? "
                        "and partition_date = ? group by all",
                        [table, day],
                    ).fetchall()
                )
            now = datetime.now(UTC)
            for p in paths:
                n, bad = read.get(names[p], 0), rejected.get(names[p], 0)
                status = "loaded" if not bad else ("rejected" if bad == n else "partial")
                audit.append((table, day, names[p], p.stat().st_size, file_sha256(p), n, n - bad, bad, now, status))
            # one statement from a frame: executemany costs ~1 ms a row, and a telemetry day has a file per host
            columns = [c[0] for c in con.execute("select * from raw.load_audit limit 0").description]
            con.register("audit_rows", pl.DataFrame(audit, schema=columns, orient="row"))
            con.execute("insert into raw.load_audit by name select * from audit_rows")
            con.unregister("audit_rows")
            con.execute(f"drop {kind} {BATCH}")
        loaded = con.execute(f"select count(*) from raw.{table} where partition_date = ?", [day]).fetchall()[0][0]
        read_total, quarantined = sum(a[5] for a in audit), sum(a[7] for a in audit)
        if read_total != loaded + quarantined:  # every row read is loaded or quarantined, or the day is not replaced
            raise RuntimeError(f"raw.{table} {day}: read {read_total} != loaded {loaded} + quarantined {quarantined}")
        con.commit()
    except Exception:
        con.rollback()
        raise
    return {"files": len(paths), "rows_read": read_total, "rows_loaded": loaded, "rows_quarantined": quarantined}
