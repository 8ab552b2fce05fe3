"""Scrubbing identities from a copy about to be published, with the tables dbt builds (private.identities,
private.identifiers_redacted) written here by hand."""

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from pipelines.lib import settings
from pipelines.lib.changes import Change, record
from pipelines.lib.privacy import IDENTIFIER_COLUMNS, scrub_identities
from pipelines.lib.publish import publish_warehouse


def pseudonym(key: str, name: str) -> str:
    """The dbt macro's formula (macro pseudonym): one person whatever the case they are spelled in."""
    return "u_" + hashlib.sha256(f"{key}:{name.lower()}".encode()).hexdigest()[:12]


P = pseudonym("secret", "alice")


def copy_with_private_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema raw")
    con.execute("create schema private")
    con.execute("create table private.identities as select 'alice' as name_lower, 'user' as kind, ? as pseudonym", [P])
    con.execute(
        "create table private.identifiers_redacted as select * from (values "
        "('jupyter-Alice', ?), ('alice', ?), ('jupyter-alice', ?), ('user-alice', ?), ('jupyter-alice-0', ?)) "
        "as t(identifier, redacted)",
        [f"jupyter-{P}", P, f"jupyter-{P}", f"user-{P}", f"jupyter-{P}-0"],
    )


def test_raw_identities_become_the_pseudonyms_and_redactions_dbt_computed(tmp_path):
    with duckdb.connect(str(tmp_path / "copy.duckdb")) as con:
        copy_with_private_tables(con)
        con.execute(
            "create table raw.sacct_jobs as select * from (values "
            "('Alice', '20011', 'alice', '20011', 'jupyter-Alice'), ('', '', '', '', 'batch'), "
            "('bob', '20012', 'vision', '5000', 'train-alpha')) as t(\"user\", uid, \"group\", gid, job_name)"
        )
        con.execute("create table raw.users as select 'alice' as user_name, 'alice@example.com' as email")
        metadata = {
            "name": "jupyter-alice",
            "namespace": "user-alice",
            "labels": {"fleet.example.com/user": "alice", "fleet.example.com/team": "t"},
        }
        con.execute("create table raw.k8s_jobs as select ? as metadata", [json.dumps(metadata)])
        con.execute(
            "create table raw.dcgm_samples as select * from (values ('jupyter-alice-0', 'user-alice', 'notebook'), "
            "('run-1-worker-0', 'team-t', 'trainer'), (null, null, null)) as t(pod, namespace, container)"
        )
        con.execute(
            "create table raw.training_events as select 'run-1' as run_id, 'run-1-a1' as scheduler_job_id, "
            "? as attributes union all select 'run-2', null, '{}'",
            [json.dumps({"user": "alice", "team": "t"})],
        )
        con.execute("create table raw.quarantine as select 'alice|oops' as raw_text")
        changed = scrub_identities(con)
        assert {"raw.sacct_jobs.job_name", "raw.sacct_jobs.group", "raw.k8s_jobs.metadata.namespace"} <= set(changed)
        assert {"raw.quarantine.raw_text", "private.identities", "private.identifiers_redacted"} <= set(changed)
        # a name dbt never listed (bob) is not published as is; a group naming a team stays
        assert con.execute(
            'select "user", uid, "group", gid, job_name from raw.sacct_jobs order by job_name'
        ).fetchall() == [
            ("", None, "", None, "batch"),
            (P, None, P, None, f"jupyter-{P}"),
            (None, None, "vision", None, "train-alpha"),
        ]
        assert con.execute("select user_name, email from raw.users").fetchall() == [(P, P)]
        stored = json.loads(con.execute("select metadata from raw.k8s_jobs").fetchall()[0][0])
        assert (stored["name"], stored["namespace"]) == (f"jupyter-{P}", f"user-{P}")
        assert stored["labels"] == {"fleet.example.com/user": P, "fleet.example.com/team": "t"}
        assert con.execute("select pod, namespace, container from raw.dcgm_samples order by pod").fetchall() == [
            (f"jupyter-{P}-0", f"user-{P}", "notebook"),
            ("run-1-worker-0", "team-t", "trainer"),
            (None, None, None),
        ]
        events = [r[0] for r in con.execute("select attributes from raw.training_events order by 1").fetchall()]
        assert sorted(json.loads(e) for e in events if e != "{}") == [{"user": P, "team": "t"}] and "{}" in events
        assert con.execute("select raw_text from raw.quarantine").fetchall() == [(None,)]
        # the names beside their pseudonyms stay in the working file only
        assert con.execute("select count(*) from private.identities").fetchall() == [(0,)]
        assert con.execute("select count(*) from private.identifiers_redacted").fetchall() == [(0,)]
        everything = con.execute(
            "select * from raw.sacct_jobs, raw.users, raw.k8s_jobs, raw.dcgm_samples, raw.training_events"
        ).fetchall()
        assert not re.search("alice", repr(everything), re.IGNORECASE)


def test_a_copy_with_raw_names_but_no_private_tables_is_refused(tmp_path):
    with duckdb.connect(str(tmp_path / "copy.duckdb")) as con:
        con.execute("create schema raw")
        con.execute("create table raw.users as select 'alice' as user_name, 'alice@example.com' as email")
        with pytest.raises(RuntimeError, match="private.identities"):
            scrub_identities(con)
        assert con.execute("select user_name from raw.users").fetchall() == [("alice",)]


def test_the_raw_scrub_rewrites_the_identifiers_dbt_redacted():
    """The published copy's raw tables must agree with the models: the scrub's identifier columns are the inputs
    of model identifiers_redacted."""
    model = (settings.DBT_DIR / "models" / "privacy" / "identifiers_redacted.sql").read_text()
    sources = {"raw.sacct_jobs": "sacct", "raw.k8s_jobs": "k8s", "raw.dcgm_samples": "dcgm"}
    sources |= {"raw.gpu_samples": "columnar", "raw.prometheus_samples": "pulled", "raw.training_events": "events"}
    for table, column, path in IDENTIFIER_COLUMNS:
        if path is None:
            quoted = f'"{column}"' if column == "group" else column
            found = f"select {quoted}( as identifier)? from {sources[table]}( where {quoted} is not null)?\n"
            assert re.search(found, model), (table, column)
        else:
            assert f"""{column} ->> '$.{".".join(f'"{p}"' if "." in p else p for p in path)}'""" in model, path


def test_a_synced_publish_pseudonymises_the_new_rows_once_and_new_identities_republish_in_full(tmp_path):
    """Rows published before keep their pseudonyms (a second scrub would find no name to map and blank them);
    a person new to the inputs may be named in rows published before, so the version is then written in full."""
    work, published = tmp_path / "work.duckdb", tmp_path / "warehouse.duckdb"
    day = datetime(2025, 3, 1, tzinfo=UTC)

    def land_user(con, n: int) -> None:
        con.execute("insert into raw.users values ('alice', 'alice@example.com', date '2025-03-01' + ?::int)", [n])
        start = day + timedelta(days=n)
        record(con, [Change("raw.users", "partition_date", start, start + timedelta(days=1))])

    with duckdb.connect(str(work)) as con:
        copy_with_private_tables(con)
        con.execute("create table raw.users (user_name varchar, email varchar, partition_date date)")
        land_user(con, 0)
    publish_warehouse(work, published, scrub=True)
    with duckdb.connect(str(work)) as con:
        land_user(con, 1)
    assert publish_warehouse(work, published, scrub=True).how == "synced"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select user_name, email from raw.users").fetchall() == [(P, P), (P, P)]
        assert con.execute("select count(*) from private.identities").fetchall() == [(0,)]
    with duckdb.connect(str(work)) as con:
        con.execute("insert into private.identities values ('bob', 'user', ?)", [pseudonym("secret", "bob")])
    again = publish_warehouse(work, published, scrub=True)
    assert again.how == "copied (the standby version was made from another state)"
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select user_name, email from raw.users").fetchall() == [(P, P), (P, P)]
