"""Pseudonymising people. A user name becomes `u_` + 12 hex of sha256(key + ':' + name) - the same in dbt
(macro `pseudonym`) and here. The key comes from WAREHOUSE_PSEUDONYM_KEY, or from a key file created once
beside the working warehouse (never from the repo)."""

from __future__ import annotations

import os
import secrets

import duckdb

from . import settings

KEY_ENV = "WAREHOUSE_PSEUDONYM_KEY"
ALLOW_NAMES_ENV = "WAREHOUSE_PUBLISH_USER_NAMES"  # "1": publish raw user names (an explicit opt-in)

# where raw tables hold identities: (table, column, JSON path or None). Plain columns are replaced by their
# pseudonym, JSON documents get the field at the path replaced; quarantined lines are dropped (NULL) since a
# rejected line can hold a name anywhere.
IDENTITY_COLUMNS = [
    ("raw.sacct_jobs", "user", None),
    ("raw.sacct_jobs", "uid", None),
    ("raw.users", "user_name", None),
    ("raw.users", "email", None),
    ("raw.k8s_jobs", "metadata", ("labels", "fleet.example.com/user")),
    ("raw.training_events", "attributes", ("user",)),
]


def pseudonym_key() -> str:
    key = os.getenv(KEY_ENV)
    if key:
        return key
    path = settings.work_db().parent / "pseudonym.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def export_key_to_env() -> None:
    """dbt reads the key from the environment it inherits: set it before running dbt."""
    os.environ[KEY_ENV] = pseudonym_key()


def publish_user_names() -> bool:
    return os.getenv(ALLOW_NAMES_ENV) == "1"


def scrub_identities(con: duckdb.DuckDBPyConnection, key: str) -> list[str]:
    """Replace the identities in the raw tables of a (to-be-published) copy; returns the columns it changed."""
    tables = {
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables where table_type = 'BASE TABLE'"
        ).fetchall()
    }

    def pseudo(value: str) -> str:
        return f"'u_' || left(sha256($key || ':' || {value}), 12)"

    changed = []
    if "raw.sacct_jobs" in tables:
        # job names such as jupyter-<user> carry the person: swap in the pseudonym before the user column goes
        user = '"user"'
        con.execute(
            f"update raw.sacct_jobs set job_name = replace(job_name, {user}, {pseudo(user)}) "
            f"where coalesce({user}, '') <> ''",
            {"key": key},
        )
        changed.append("raw.sacct_jobs.job_name")
    for table, column, path in IDENTITY_COLUMNS:
        if table not in tables:
            continue
        col = f'"{column}"'
        if path is None:
            expr = f"case when coalesce({col}, '') = '' then {col} else {pseudo(col)} end"
        else:
            value = f"({col} ->> '$." + ".".join(f'"{p}"' for p in path) + "')"
            patch = pseudo(value)
            for part in reversed(path):
                patch = f"json_object('{part}', {patch})"
            expr = f"case when {value} is null then {col} else json_merge_patch({col}, {patch})::varchar end"
        con.execute(f"update {table} set {col} = {expr}", {"key": key})
        changed.append(f"{table}.{column}")
    if "raw.quarantine" in tables:
        con.execute("update raw.quarantine set raw_text = null")
        changed.append("raw.quarantine.raw_text")
    return changed
