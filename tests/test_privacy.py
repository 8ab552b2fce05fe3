"""Scrubbing identities from a copy about to be published."""

import hashlib
import json

import duckdb

from pipelines.lib.privacy import scrub_identities


def pseudonym(key: str, name: str) -> str:
    return "u_" + hashlib.sha256(f"{key}:{name}".encode()).hexdigest()[:12]


def test_identities_become_the_same_pseudonyms_dbt_computes(tmp_path):
    with duckdb.connect(str(tmp_path / "copy.duckdb")) as con:
        con.execute("create schema raw")
        con.execute(
            "create table raw.sacct_jobs as select 'alice' as \"user\", '20011' as uid, "
            "'jupyter-alice' as job_name union all select '', '', 'batch'"
        )
        con.execute("create table raw.users as select 'alice' as user_name, 'alice@example.com' as email")
        metadata = {"name": "nb-1", "labels": {"fleet.example.com/user": "alice", "fleet.example.com/team": "t"}}
        con.execute("create table raw.k8s_jobs as select ? as metadata", [json.dumps(metadata)])
        con.execute(
            "create table raw.training_events as select ? as attributes union all select '{}'",
            [json.dumps({"user": "alice", "team": "t"})],
        )
        con.execute("create table raw.quarantine as select 'alice|oops' as raw_text")
        changed = scrub_identities(con, "secret")
        assert "raw.sacct_jobs.job_name" in changed and "raw.quarantine.raw_text" in changed
        p = pseudonym("secret", "alice")
        assert con.execute('select "user", job_name from raw.sacct_jobs order by 1 desc').fetchall() == [
            (p, f"jupyter-{p}"),
            ("", "batch"),
        ]
        assert con.execute("select user_name from raw.users").fetchall() == [(p,)]
        labels = json.loads(con.execute("select metadata from raw.k8s_jobs").fetchall()[0][0])["labels"]
        assert labels == {"fleet.example.com/user": p, "fleet.example.com/team": "t"}
        events = [r[0] for r in con.execute("select attributes from raw.training_events order by 1").fetchall()]
        assert sorted(json.loads(e) for e in events if e != "{}") == [{"user": p, "team": "t"}] and "{}" in events
        assert con.execute("select raw_text from raw.quarantine").fetchall() == [(None,)]
        everything = con.execute("select * from raw.sacct_jobs, raw.users, raw.k8s_jobs").fetchall()
        assert "alice" not in repr(everything)
