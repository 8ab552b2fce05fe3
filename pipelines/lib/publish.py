"""Publish the working DuckDB file as the analysts' file, costing what changed.

Readers open data/warehouse.duckdb read-only. We never write to the version they open: the publish brings the
standby version up to date from the working file (pipelines/lib/sync.py; a new version is written in full when
there is none or it cannot be), in the storage format readers open (DuckDB 1.x for BI tools; settings), verifies
it by opening it and counting its rows against the working file's, and moves the published path to it in one
rename (pipelines/lib/versions.py). A reader holding the old version keeps it; the next open sees the new one; a
crash leaves the current one intact. Every connection runs within the pipeline's DuckDB budget (settings): an
unbounded one kept each block a copy read or wrote, and a bulk run's publish grew with its days."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .changes import WRITER_TABLES
from .privacy import scrub_identities
from .processes import process_alive
from .settings import DEFAULT_STORAGE_VERSION, duckdb_config
from .sync import SOURCE, STATE, TARGET, bring_up_to_date, origin, write_origin
from .versions import Versions, discard, fsync_file, held


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("checkpoint")


@dataclass
class Published:
    how: str  # "synced": the standby brought up to date; "copied": a version written in full (and why)
    counts: dict[str, int]  # rows per schema.table
    rewritten: dict[str, str]  # each table copied and the rows (a SQL predicate; `true`: the whole table)


def publish_warehouse(
    work: Path, published: Path, scrub: bool = False, storage_version: str = DEFAULT_STORAGE_VERSION
) -> Published:
    """Publish `work` (closed and checkpointed by the caller) at `published`, written in `storage_version`. With
    `scrub`, identities in the published raw tables are pseudonymised."""
    published.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_copies(published)
    versions = Versions(published)
    expected = working_counts(work, scrub)
    version, rewritten, counts, why = versions.standby(), None, {}, "no standby version"
    if version and held(version):
        why = "a reader holds the standby version"
    elif version:
        rewritten = synced(work, version, scrub, storage_version)
        why = "the standby version was made from another state" if rewritten is None else None
    if rewritten is not None:
        counts = table_row_counts(version)
        if counts != expected:
            rewritten, why = None, "the synced version's row counts differ from the working file's"
    if rewritten is None:
        if version:
            discard(version)
        version = versions.new()
        copied(work, version, scrub, storage_version)
        counts, rewritten = table_row_counts(version), {t: "true" for t in expected}
        if counts != expected:
            raise RuntimeError(f"the copy {version} does not hold the working file's rows")
    fsync_file(version)
    versions.make_current(version)
    if versions.standby() is None:
        versions.spare(version)
    return Published("synced" if why is None else f"copied ({why})", counts, rewritten)


def synced(work: Path, version: Path, scrub: bool, storage_version: str) -> dict[str, str] | None:
    """Bring `version` up to date from `work`; None when it cannot be (a reader holds it, it is incomplete, or it
    was made from another state)."""
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        # a view stored in a 1.x storage format reads back in 1.x's lambda syntax (`x -> x > 1`), which DuckDB 2
        # parses only when allowed: the changed views are made again from that text
        con.execute("set lambda_syntax = 'ENABLE_SINGLE_ARROW'")
        con.execute(f"attach {sql_literal(str(work))} as {SOURCE} (read_only)")
        try:
            con.execute(f"attach {sql_literal(str(version))} as {TARGET}")
        except duckdb.Error:  # a reader took it since we looked (DuckDB never waits for a lock), or it is incomplete
            return None
        con.execute(f"use {TARGET}")
        rewritten = bring_up_to_date(con, origin(con, SOURCE, scrub, storage_version))
        if rewritten is not None:
            con.execute("checkpoint")
        return rewritten


def copied(work: Path, version: Path, scrub: bool, storage_version: str) -> None:
    """Write every schema, table, view and macro of `work` into the new file `version`, as published: a copy of the
    file when `work` is stored in `storage_version` (readers that all open DuckDB's own format), else DuckDB's copy
    of the database, which rewrites every block in the older format. The working file stays in DuckDB's own
    format: in a 1.x format every checkpoint rewrites the metadata of every table (docs/performance.md), and the
    nightly run checkpoints ~17 times."""
    as_file = stored_as(work) == storage_version and not Path(f"{work}.wal").exists()
    if as_file:
        shutil.copyfile(work, version)
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute("set TimeZone = 'UTC'")
        if as_file:
            con.execute(f"attach {sql_literal(str(version))} as {TARGET}")
            made_from = origin(con, TARGET, scrub, storage_version)
        else:
            con.execute(f"attach {sql_literal(str(work))} as {SOURCE} (read_only)")
            made_from = origin(con, SOURCE, scrub, storage_version)
            con.execute(
                f"attach {sql_literal(str(version))} as {TARGET} (storage_version {sql_literal(storage_version)})"
            )
            con.execute(f"copy from database {SOURCE} to {TARGET}")
        con.execute(f"use {TARGET}")
        for table in WRITER_TABLES:
            con.execute(f"drop table if exists {table}")
        if scrub:
            scrub_identities(con)
        write_origin(con, made_from)
        con.execute("checkpoint")


def stored_as(path: Path) -> str:
    """The storage format a DuckDB file is written in, as `storage_version` names it (v1.2.0, v2.0.0, ...)."""
    with duckdb.connect(config=duckdb_config()) as con:
        con.execute(f"attach {sql_literal(str(path))} as stored (read_only)")
        tags = con.execute("select tags from duckdb_databases() where database_name = 'stored'").fetchall()[0][0]
    return tags.get("storage_version", "").rstrip("+")


def working_counts(work: Path, scrub: bool) -> dict[str, int]:
    """The rows a published version must hold: the working file's, but for its change log and, when scrubbed, the
    private tables' (emptied); plus the version's own state row."""
    counts = table_row_counts(work)
    counts = {t: n for t, n in counts.items() if t not in WRITER_TABLES}
    if scrub:
        counts = {t: 0 if t.startswith("private.") else n for t, n in counts.items()}
    return counts | {STATE: 1}


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
    """Open a warehouse file read-only and count the rows of every table (also proves it opens, and that every
    view binds: a view reading a table that is not there fails here, not in an analyst's query)."""
    with duckdb.connect(str(path), read_only=True, config=duckdb_config()) as con:
        for (view,) in con.execute(
            'select format(\'"{}"."{}"\', schema_name, view_name) from duckdb_views() '
            "where database_name = current_database() and not internal"
        ).fetchall():
            con.execute(f"select * from {view} limit 0").fetchall()
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database() order by 1, 2"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchall()[0][0] for s, t in names}


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    """How analysts and the project's helpers open the warehouse: read-only, UTC."""
    con = duckdb.connect(str(path), read_only=True)
    con.execute("set TimeZone = 'UTC'")  # not in connect(): the built-in ICU extension loads after it
    return con
