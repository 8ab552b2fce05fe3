"""Published tables as files for other tools, one folder of Parquet and CSV per period (a FOCUS dataset is delivered
by billing period), rewriting only the periods whose rows changed: a nightly export costs the days it touched, not
the history."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb

from .publish import open_published, sql_literal

FORMATS = {"parquet": "format parquet", "csv": "format csv, header true"}
MANIFEST = "manifest.json"


def export_by_period(published: Path, table: str, period: str, folder: Path) -> list[Path]:
    """Write `table` of the published file as folder/<period>/<name>.parquet and .csv, one folder per value of the
    SQL expression `period` (e.g. `billing_period=2025-08`). A period is rewritten when its rows differ from those
    last exported (a fingerprint per period and the table's columns, kept in folder/manifest.json) or its files are
    missing; a period no longer in the table is removed. Each file is replaced atomically and the manifest written
    last, so an export killed midway is finished by the next. Returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    name = table.rsplit(".", 1)[-1]
    before = read_manifest(folder)
    written = []
    with open_published(published) as con:
        columns = [list(c) for c in con.execute(f"select column_name, column_type from (describe {table})").fetchall()]
        # an order-independent fingerprint of each period's rows: the sum of each row's hash
        now = dict(
            con.execute(
                f"select {period} as period, count(*)::varchar || ':' || sum(hash(t))::varchar "
                f"from {table} as t group by all"
            ).fetchall()
        )
        same_columns = before.get("columns") == columns
        for key, fingerprint in sorted(now.items()):
            files = [folder / key / f"{name}.{suffix}" for suffix in FORMATS]
            if same_columns and before["periods"].get(key) == fingerprint and all(f.exists() for f in files):
                continue
            written += write_period(con, table, period, key, files)
    for gone in set(before.get("periods", {})) - set(now):
        shutil.rmtree(folder / gone, ignore_errors=True)
    write_manifest(folder, {"table": table, "columns": columns, "periods": now})
    return written


def write_period(con: duckdb.DuckDBPyConnection, table: str, period: str, key: str, files: list[Path]) -> list[Path]:
    files[0].parent.mkdir(parents=True, exist_ok=True)
    for target, options in zip(files, FORMATS.values(), strict=True):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        # COPY takes no bound parameter for its target; the path is ours, quoted as a SQL string literal
        con.execute(
            f"copy (select * from {table} as t where {period} = {sql_literal(key)}) to {sql_literal(str(tmp))} "
            f"({options})"
        )
        os.replace(tmp, target)
    return files


def read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return {"periods": {}}


def write_manifest(folder: Path, manifest: dict) -> None:
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, folder / MANIFEST)
