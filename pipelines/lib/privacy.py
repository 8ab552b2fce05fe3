"""Pseudonymising people. A user name becomes `u_` + 12 hex of sha256(key + ':' + lower(name)), computed in dbt
only (macro `pseudonym`); dbt also lists every identity the inputs carry (model `identities`) and rewrites every
identifier that names one (model `identifiers_redacted`). The copy about to be published gets its raw tables
rewritten from those two tables, then loses their contents. The key comes from WAREHOUSE_PSEUDONYM_KEY, or from
a key file created once beside the working warehouse (never from the repo)."""

from __future__ import annotations

import os
import secrets

import duckdb

from . import settings

KEY_ENV = "WAREHOUSE_PSEUDONYM_KEY"
ALLOW_NAMES_ENV = "WAREHOUSE_PUBLISH_USER_NAMES"  # "1": publish raw user names (an explicit opt-in)

IDENTITIES = "private.identities"
REDACTIONS = "private.identifiers_redacted"

# (table, column, JSON path or None) whose whole value is a person: a name, or an address whose local part is
# one. Replaced by the name's pseudonym; a name dbt has not listed becomes NULL (never published as is)
NAME_COLUMNS = [
    ("raw.sacct_jobs", "user", None),
    ("raw.users", "user_name", None),
    ("raw.users", "email", None),
    ("raw.k8s_jobs", "metadata", ("labels", "fleet.example.com/user")),
    ("raw.k8s_pods", "metadata", ("labels", "fleet.example.com/user")),
    ("raw.training_events", "attributes", ("user",)),
]
# free-text identifiers that may contain names: rewritten as dbt rewrote them, so the raw tables agree with every
# model built from them. The inputs of model identifiers_redacted: keep the two lists the same
IDENTIFIER_COLUMNS = [
    ("raw.sacct_jobs", "job_name", None),
    ("raw.sacct_jobs", "group", None),
    ("raw.k8s_jobs", "metadata", ("name",)),
    ("raw.k8s_jobs", "metadata", ("namespace",)),
    ("raw.k8s_jobs", "metadata", ("labels", "fleet.example.com/run-id")),
    ("raw.k8s_jobs", "metadata", ("labels", "fleet.example.com/workload")),
    ("raw.k8s_pods", "metadata", ("name",)),
    ("raw.k8s_pods", "metadata", ("namespace",)),
    ("raw.k8s_pods", "metadata", ("labels", "fleet.example.com/run-id")),
    ("raw.k8s_pods", "metadata", ("labels", "fleet.example.com/workload")),
    ("raw.dcgm_samples", "pod", None),
    ("raw.dcgm_samples", "namespace", None),
    ("raw.dcgm_samples", "container", None),
    ("raw.gpu_samples", "pod", None),
    ("raw.gpu_samples", "namespace", None),
    ("raw.gpu_samples", "container", None),
    ("raw.prometheus_samples", "pod", None),
    ("raw.prometheus_samples", "namespace", None),
    ("raw.prometheus_samples", "container", None),
    ("raw.training_events", "run_id", None),
    ("raw.training_events", "scheduler_job_id", None),
]
# JSON documents whose every string equal to an identifier dbt rewrote is rewritten, wherever it sits (a pod's
# metadata.ownerReferences[*].name, its owning Job's name, is inside a list no JSON path above reaches)
EMBEDDED_IDENTIFIER_COLUMNS = [("raw.k8s_pods", "metadata")]
# identify a person and nothing reads them: numeric ids, and quarantined lines (a rejected line can hold a name
# anywhere)
DROPPED_COLUMNS = [
    ("raw.sacct_jobs", "uid"),
    ("raw.sacct_jobs", "gid"),
    # a site's free-text AdminComment; the jobstats summary dbt reads is decoded beside it (column jobstats)
    ("raw.sacct_jobs", "admin_comment"),
    ("raw.quarantine", "raw_text"),
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


def scrub_identities(con: duckdb.DuckDBPyConnection, rows: dict[str, str] | None = None) -> list[str]:
    """Replace the identities in the raw tables of a (to-be-published) copy with what dbt made of them, then empty
    the private tables; returns what it changed. `rows`: only these tables' rows matching each one's SQL predicate
    were newly copied, and only they are rewritten (a rewritten row rewritten again would lose its pseudonym).
    Refuses a copy that holds raw identities but no private tables."""
    tables = {
        r[0]
        for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_type = 'BASE TABLE' and table_catalog = current_database()"
        ).fetchall()
    }
    listed = {t for t, _, _ in NAME_COLUMNS + IDENTIFIER_COLUMNS} & tables
    if listed and not {IDENTITIES, REDACTIONS} <= tables:
        raise RuntimeError(f"{sorted(listed)} hold people's names but dbt has not built {IDENTITIES}, {REDACTIONS}")
    new = {t: "true" for t in tables} if rows is None else {t: p for t, p in rows.items() if t in tables}
    changed = []
    for table, column, path in IDENTIFIER_COLUMNS:
        if table in new:
            con.execute(redact_identifier_sql(table, column, path, new[table]))
            changed.append(described(table, column, path))
    for table, column in EMBEDDED_IDENTIFIER_COLUMNS:
        if table in new:
            con.execute(redact_embedded_sql(table, column, new[table]))
            changed.append(described(table, column, ("*",)))
    for table, column, path in NAME_COLUMNS:
        if table in new:
            con.execute(pseudonymise_name_sql(table, column, path, new[table]))
            changed.append(described(table, column, path))
    present = {
        (f"{r[0]}.{r[1]}", r[2])
        for r in con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database()"
        ).fetchall()
    }
    for table, column in DROPPED_COLUMNS:
        if table in new and (table, column) in present:  # a raw table loaded before its contract gained the column
            con.execute(f'update {table} set "{column}" = null where {new[table]}')
            changed.append(described(table, column, None))
    for table in sorted(t for t in tables if t.startswith("private.")):
        con.execute(f"delete from {table}")
        changed.append(table)
    return changed


def described(table: str, column: str, path: tuple[str, ...] | None) -> str:
    return ".".join([table, column, *(path or ())])


def json_value(column: str, path: tuple[str, ...], table: str | None = None) -> str:
    qualified = f'{table}."{column}"' if table else f'"{column}"'
    return f"({qualified} ->> '$." + ".".join(f'"{p}"' for p in path) + "')"


def json_patch(path: tuple[str, ...], value: str) -> str:
    for part in reversed(path):
        value = f"json_object('{part}', {value})"
    return value


def redact_embedded_sql(table: str, column: str, rows: str = "true") -> str:
    """Every JSON string of the document equal to a rewritten identifier, rewritten (longest first); only the rows
    holding one are touched. Rows are told apart by their file and line (unique in a raw table)."""
    key = "partition_date, source_file, source_line"
    same_row = " and ".join(f"{table}.{c} = patched.{c}" for c in key.split(", "))
    return f"""update {table} set "{column}" = patched.value from (
            select {key}, list_reduce(
                list({{'was': to_json(redaction.identifier)::varchar, 'now': to_json(redaction.redacted)::varchar}}
                    order by length(redaction.identifier) desc, redaction.identifier),
                lambda text, r: replace(text, r.was, r.now),
                any_value(document."{column}")
            ) as value
            from {table} as document
            join {REDACTIONS} as redaction on contains(document."{column}", to_json(redaction.identifier)::varchar)
            where {rows}
            group by {key}
        ) as patched
        where {same_row}"""


def redact_identifier_sql(table: str, column: str, path: tuple[str, ...] | None, rows: str = "true") -> str:
    """Only the rows whose identifier dbt rewrote are touched: the telemetry tables are large."""
    if path is None:
        return (
            f'update {table} set "{column}" = redaction.redacted from {REDACTIONS} as redaction '
            f'where {table}."{column}" = redaction.identifier and ({rows})'
        )
    patched = f'json_merge_patch("{column}", {json_patch(path, "redaction.redacted")})::varchar'
    return (
        f'update {table} set "{column}" = {patched} from {REDACTIONS} as redaction '
        f"where {json_value(column, path)} = redaction.identifier and ({rows})"
    )


def pseudonymise_name_sql(table: str, column: str, path: tuple[str, ...] | None, rows: str = "true") -> str:
    # qualified: inside the subquery a bare "user" is DuckDB's current user, not the column
    value = f'{table}."{column}"' if path is None else json_value(column, path, table)
    pseudonym = (
        f"(select identity.pseudonym from {IDENTITIES} as identity "
        f"where identity.name_lower = lower(trim(split_part({value}, '@', 1))))"
    )
    if path is None:
        return f"update {table} set \"{column}\" = {pseudonym} where coalesce({value}, '') <> '' and ({rows})"
    # a NULL in a merge patch deletes the key: a name dbt has not listed disappears
    patched = f'json_merge_patch("{column}", {json_patch(path, pseudonym)})::varchar'
    return f'update {table} set "{column}" = {patched} where {value} is not null and ({rows})'
