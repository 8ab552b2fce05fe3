"""The working file's change log: which rows of a day-partitioned table a writer replaced, as a column and a
range [start, end). The raw loader records its day in the transaction that replaces it; the dbt refresh records
its microbatch models' window before dbt runs (an entry for a batch that then fails only costs a copy). The
publish copies the logged ranges into the standby version instead of whole tables (pipelines/lib/sync.py); a
table no writer logs is copied whole, so a writer that forgets to log costs time, never correctness.

The log has an id, made when the log is: a working file rebuilt from nothing starts a new log, and a version
synced from the old one is then copied whole instead of trusting sequence numbers that restarted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

LOG = "meta.change_log"
LOG_ID = "meta.change_log_id"
# the days the latest dbt refresh rebuilds: its tests of models rebuilt by day read only those (macro rebuilt_window)
REBUILT_WINDOW = "meta.rebuilt_window"
# the working file's own bookkeeping, never published
WRITER_TABLES = (LOG, LOG_ID, REBUILT_WINDOW)


@dataclass(frozen=True)
class Change:
    relation: str  # schema.table
    column: str  # what the rows are dated by
    start: datetime
    end: datetime


def create_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists meta")
    con.execute(
        f"create table if not exists {LOG} (seq bigint not null, relation varchar not null, "
        "column_name varchar not null, range_start timestamptz not null, range_end timestamptz not null, "
        "recorded_at timestamptz not null)"
    )
    con.execute(f"create table if not exists {LOG_ID} (log_id uuid not null)")
    con.execute(f"insert into {LOG_ID} select uuid() where not exists (select 1 from {LOG_ID})")


def record(con: duckdb.DuckDBPyConnection, changes: list[Change]) -> None:
    """Append the changes (in the caller's transaction, if it has one). The writer is the only one (pool
    duckdb_writer), so the next sequence number is the largest so far plus one."""
    create_log(con)
    for c in changes:
        con.execute(
            f"insert into {LOG} select coalesce(max(seq), 0) + 1, $relation, $column, $start, $end, now() from {LOG}",
            {"relation": c.relation, "column": c.column, "start": c.start, "end": c.end},
        )


def record_rebuild(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime, changes: list[Change]) -> None:
    """The refresh's days [start, end): the rows its models replace, logged for the publish, and the window its
    tests read, in one transaction."""
    con.begin()
    record(con, changes)
    con.execute(
        f"create or replace table {REBUILT_WINDOW} as select ?::timestamptz as range_start, "
        "?::timestamptz as range_end",
        [start, end],
    )
    con.commit()
