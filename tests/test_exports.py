"""The per-period export rewrites the periods whose rows changed, and only those, on a published file of our own."""

import json
import os

import duckdb
import pytest

from pipelines.lib.exports import MANIFEST, export_by_period

PERIOD = "'month=' || strftime(day, '%Y-%m')"


@pytest.fixture
def published(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.charges as select date '2025-01-01' + i::integer as day, i % 7 as team, "
            "i * 1.5 as cost from range(90) t(i)"
        )
    return path


def change(path, sql: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(sql)


def written_months(files) -> list[str]:
    return sorted({f.parent.name for f in files})


def exported_rows(folder, suffix: str) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(
            f"select day::date, team::bigint, cost::double from read_{suffix}('{folder}/*/charges.{suffix}') "
            "order by day"
        ).fetchall()


def test_every_period_is_written_once_then_only_the_changed_ones(published, tmp_path):
    out = tmp_path / "exports"
    first = export_by_period(published, "marts.charges", PERIOD, out)
    assert written_months(first) == ["month=2025-01", "month=2025-02", "month=2025-03"]
    assert {f.suffix for f in first} == {".parquet", ".csv"}
    with duckdb.connect(str(published), read_only=True) as con:
        table = con.execute("select day, team, cost::double from marts.charges order by day").fetchall()
    assert exported_rows(out, "parquet") == table and exported_rows(out, "csv") == table

    assert export_by_period(published, "marts.charges", PERIOD, out) == []  # nothing changed, nothing written

    change(published, "update marts.charges set cost = cost + 1 where day = date '2025-02-10'")
    assert written_months(export_by_period(published, "marts.charges", PERIOD, out)) == ["month=2025-02"]
    # a change that keeps the period's row count and its total cost is found too
    change(published, "update marts.charges set team = 6 - team where day = date '2025-03-05'")
    assert written_months(export_by_period(published, "marts.charges", PERIOD, out)) == ["month=2025-03"]
    with duckdb.connect(str(published), read_only=True) as con:
        table = con.execute("select day, team, cost::double from marts.charges order by day").fetchall()
    assert exported_rows(out, "parquet") == table and exported_rows(out, "csv") == table


def test_a_new_column_rewrites_every_period_and_a_period_gone_is_removed(published, tmp_path):
    out = tmp_path / "exports"
    export_by_period(published, "marts.charges", PERIOD, out)
    change(published, "alter table marts.charges add column unit varchar default 'GPU-hour'")
    assert len(written_months(export_by_period(published, "marts.charges", PERIOD, out))) == 3
    change(published, "delete from marts.charges where day < date '2025-02-01'")
    assert export_by_period(published, "marts.charges", PERIOD, out) == []
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["month=2025-02", "month=2025-03"]
    assert set(json.loads((out / MANIFEST).read_text())["periods"]) == {"month=2025-02", "month=2025-03"}


def test_a_missing_file_or_a_lost_manifest_is_written_again(published, tmp_path):
    out = tmp_path / "exports"
    export_by_period(published, "marts.charges", PERIOD, out)
    os.remove(out / "month=2025-02" / "charges.csv")
    assert written_months(export_by_period(published, "marts.charges", PERIOD, out)) == ["month=2025-02"]
    os.remove(out / MANIFEST)  # an export killed before its manifest: the next writes every period again
    assert len(written_months(export_by_period(published, "marts.charges", PERIOD, out))) == 3
    assert not [p for p in out.rglob(".*.tmp")]
