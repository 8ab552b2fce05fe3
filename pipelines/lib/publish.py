"""Publish the working DuckDB file as the analysts' file with an atomic replace.

Readers open data/warehouse.duckdb read-only. We never write to it: the working file is checkpointed, copied
beside the published file in the storage format readers open (DuckDB 1.x for BI tools; settings), verified by
opening the copy, and renamed over it. A reader holding the old file keeps its consistent version; the next open
sees the new one; a crash leaves the old one intact."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from .privacy import scrub_identities
from .processes import process_alive
from .settings import DEFAULT_STORAGE_VERSION


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("checkpoint")


def publish_copy(
    work: Path, published: Path, scrub: bool = False, storage_version: str = DEFAULT_STORAGE_VERSION
) -> dict[str, int]:
    """Copy `work` (closed and checkpointed by the caller) over `published`, written in `storage_version`; returns
    rows per schema.table. With `scrub`, identities in the copy's raw tables are pseudonymised before it is
    published."""
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_copies(published)
    tmp = published.with_name(f".{published.name}.{os.getpid()}.tmp")
    try:
        copy_database(work, tmp, storage_version)
        if scrub:
            with duckdb.connect(str(tmp)) as con:
                scrub_identities(con)
                con.execute("checkpoint")
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        counts = table_row_counts(tmp)
        os.replace(tmp, published)
        dir_fd = os.open(published.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def copy_database(source: Path, target: Path, storage_version: str) -> None:
    """Write every schema, table, view and macro of `source` into a new file `target` in `storage_version`."""
    with duckdb.connect() as con:
        con.execute(f"attach {sql_literal(str(source))} as source (read_only)")
        con.execute(f"attach {sql_literal(str(target))} as target (storage_version {sql_literal(storage_version)})")
        con.execute("copy from database source to target")


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def remove_stale_copies(published: Path) -> list[Path]:
    """A publish killed mid-copy leaves its temporary copy behind; remove those whose process is gone."""
    removed = []
    for tmp in published.parent.glob(f".{published.name}.*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if not process_alive(pid):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def table_row_counts(path: Path) -> dict[str, int]:
    """Open a warehouse file read-only and count the rows of every table and view (also proves it opens)."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = current_database() order by 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchall()[0][0] for s, t in names}


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    """How analysts and the project's helpers open the warehouse: read-only, UTC."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set TimeZone = 'UTC'")  # not in connect(): the built-in ICU extension loads after it
    return con


def export_table(published: Path, table: str, stem: Path) -> list[Path]:
    """Write one published table as <stem>.parquet and <stem>.csv (each replaced atomically)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with open_published(published) as con:
        for suffix, options in ((".parquet", "format parquet"), (".csv", "format csv, header true")):
            target = stem.with_suffix(suffix)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            # COPY takes no bound parameter for its target; the path is ours, quoted as a SQL string literal
            con.execute(f"copy (select * from {table}) to {sql_literal(str(tmp))} ({options})")
            os.replace(tmp, target)
            written.append(target)
    return written
