"""Bring a standby version of the published file up to date with the working file, copying what changed since the
version was last published: the ranges the change log holds for a logged table (pipelines/lib/changes.py), every
other table whole, the views whose definition differs. One transaction: a crash rolls the version back to what it
was, and it is not current, so no reader sees it.

A version remembers what it was made from (`meta.publish_state`): the change log's id and last entry, whether
people's names were pseudonymised and with which identities, and its storage version. When any of it no longer
holds — another log, other identities (a name new to the inputs may sit in rows published earlier) — the version
cannot be brought up to date by ranges, and the publish writes a new one in full."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from datetime import datetime

import duckdb

from .changes import LOG, LOG_ID, WRITER_TABLES
from .privacy import IDENTITIES, scrub_identities

STATE = "meta.publish_state"
SOURCE, TARGET = "work", "published"  # the catalogs' names on the publishing connection


@dataclass(frozen=True)
class Origin:
    """What a version is made from."""

    log_id: str | None
    seq: int
    scrubbed: bool
    identities: str  # a digest of who is who, when scrubbed
    storage_version: str


def origin(con: duckdb.DuckDBPyConnection, catalog: str, scrubbed: bool, storage_version: str) -> Origin:
    """The working file's state, read through `catalog`."""
    log_id, seq = None, 0
    if _exists(con, catalog, LOG):
        log_id = str(con.execute(f"select any_value(log_id) from {catalog}.{LOG_ID}").fetchall()[0][0])
        seq = con.execute(f"select coalesce(max(seq), 0) from {catalog}.{LOG}").fetchall()[0][0]
    identities = ""
    if scrubbed and _exists(con, catalog, IDENTITIES):
        identities = con.execute(
            "select md5(coalesce(string_agg(concat_ws(':', name_lower, kind, pseudonym), ',' "
            f"order by name_lower, kind), '')) from {catalog}.{IDENTITIES}"
        ).fetchall()[0][0]
    return Origin(log_id, seq, scrubbed, identities, storage_version)


def write_origin(con: duckdb.DuckDBPyConnection, made_from: Origin) -> None:
    con.execute("create schema if not exists meta")
    con.execute(
        f"create or replace table {STATE} as select ?::varchar as log_id, ?::bigint as seq, ?::boolean as scrubbed, "
        "?::varchar as identities, ?::varchar as storage_version, now() as published_at",
        list(astuple(made_from)),
    )


def read_origin(con: duckdb.DuckDBPyConnection, catalog: str) -> Origin | None:
    if not _exists(con, catalog, STATE):
        return None
    rows = con.execute(f"select log_id, seq, scrubbed, identities, storage_version from {catalog}.{STATE}").fetchall()
    return Origin(*rows[0]) if rows else None


def bring_up_to_date(con: duckdb.DuckDBPyConnection, now: Origin) -> dict[str, str] | None:
    """With the working file attached as `work` and the version as `published` (the default catalog): apply what
    changed, in one transaction. Returns each rewritten table and the rows rewritten (a SQL predicate, `true` for
    the whole table), or None when the version cannot be brought up to date by ranges."""
    was = read_origin(con, TARGET)
    if was is None or now.log_id is None or was.seq > now.seq:
        return None
    if (was.log_id, was.scrubbed, was.identities, was.storage_version) != (
        now.log_id,
        now.scrubbed,
        now.identities,
        now.storage_version,
    ):
        return None
    con.begin()
    try:
        _drop_views_gone(con)  # first: a model made a table may take a view's name (and a table's gone below)
        rewritten = _copy_changed_tables(con, was.seq)
        _copy_changed_views(con)
        if now.scrubbed:
            scrub_identities(con, rewritten)
        write_origin(con, now)
        con.commit()
    except Exception:
        con.rollback()
        raise
    return rewritten


def _copy_changed_tables(con: duckdb.DuckDBPyConnection, since: int) -> dict[str, str]:
    source, target = _columns(con, SOURCE), _columns(con, TARGET)
    pending: dict[str, list[tuple[str, datetime, datetime]]] = {}
    for relation, column, start, end in con.execute(
        f"select relation, column_name, range_start, range_end from {SOURCE}.{LOG} where seq > ? order by seq",
        [since],
    ).fetchall():
        pending.setdefault(relation, []).append((column, start, end))
    logged = {r for (r,) in con.execute(f"select distinct relation from {SOURCE}.{LOG}").fetchall()}
    rewritten = {}
    for relation, columns in source.items():
        schema, table = relation.split(".")
        name = f'"{schema}"."{table}"'
        if relation in logged and target.get(relation) == columns:
            if relation not in pending:
                continue
            rows = in_ranges(merged(pending[relation]), dict(columns))
            con.execute(f"delete from {TARGET}.{name} where {rows}")
            con.execute(f"insert into {TARGET}.{name} select * from {SOURCE}.{name} where {rows}")
        else:
            con.execute(f'create schema if not exists {TARGET}."{schema}"')
            con.execute(f"create or replace table {TARGET}.{name} as select * from {SOURCE}.{name}")
            rows = "true"
        rewritten[relation] = rows
    for relation in target.keys() - source.keys() - {STATE}:
        schema, table = relation.split(".")
        con.execute(f'drop table {TARGET}."{schema}"."{table}"')
    return rewritten


def _drop_views_gone(con: duckdb.DuckDBPyConnection) -> None:
    for relation in _views(con, TARGET).keys() - _views(con, SOURCE).keys():
        schema, view = relation.split(".")
        con.execute(f'drop view {TARGET}."{schema}"."{view}"')


def _copy_changed_views(con: duckdb.DuckDBPyConnection) -> None:
    source, target = _views(con, SOURCE), _views(con, TARGET)
    todo = {r: sql for r, sql in source.items() if target.get(r) != sql}
    while todo:  # a view is bound when created: one reading a view not made yet waits for the next pass
        failed = {}
        for relation, sql in todo.items():
            con.execute(f'create schema if not exists {TARGET}."{relation.split(".")[0]}"')
            try:
                con.execute(sql.replace("CREATE VIEW", "CREATE OR REPLACE VIEW", 1))
            except duckdb.CatalogException:
                failed[relation] = sql
        if len(failed) == len(todo):
            raise RuntimeError(f"views that read what does not exist: {sorted(failed)}")
        todo = failed


def in_ranges(ranges: list[tuple[str, datetime, datetime]], types: dict[str, str]) -> str:
    """The rows in any of the ranges; each bound cast to its column's type, so DuckDB skips row groups by their
    min/max (a cast column could not)."""
    return " or ".join(
        f"(\"{c}\" >= cast('{lo.isoformat()}' as {types[c]}) and \"{c}\" < cast('{hi.isoformat()}' as {types[c]}))"
        for c, lo, hi in ranges
    )


def merged(ranges: list[tuple[str, datetime, datetime]]) -> list[tuple[str, datetime, datetime]]:
    """Overlapping or touching ranges of the same column, as one."""
    out: list[tuple[str, datetime, datetime]] = []
    for column, start, end in sorted(ranges):
        if out and out[-1][0] == column and start <= out[-1][2]:
            out[-1] = (column, out[-1][1], max(end, out[-1][2]))
        else:
            out.append((column, start, end))
    return out


def _columns(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, list[tuple[str, str]]]:
    """Each base table's (column, type) in order, but for the working file's own bookkeeping."""
    rows = con.execute(
        "select c.schema_name || '.' || c.table_name, c.column_name, c.data_type "
        "from duckdb_columns() c join duckdb_tables() t using (database_name, schema_name, table_name) "
        "where c.database_name = ? order by c.schema_name, c.table_name, c.column_index",
        [catalog],
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for relation, column, kind in rows:
        if relation not in WRITER_TABLES:
            out.setdefault(relation, []).append((column, kind))
    return out


def _views(con: duckdb.DuckDBPyConnection, catalog: str) -> dict[str, str]:
    rows = con.execute(
        "select schema_name || '.' || view_name, sql from duckdb_views() where database_name = ? and not internal",
        [catalog],
    ).fetchall()
    return dict(rows)


def _exists(con: duckdb.DuckDBPyConnection, catalog: str, relation: str) -> bool:
    schema, table = relation.split(".")
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where database_name = ? and schema_name = ? and table_name = ?",
            [catalog, schema, table],
        ).fetchall()[0][0]
    )
