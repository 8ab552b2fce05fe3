"""Canonical columnar GPU telemetry: Parquet with one row per GPU per sample and one column per DCGM field, as a
Prometheus export or a telemetry lake hands it over. DuckDB reads, checks and inserts it in SQL, streaming:
a fleet-day (14.4 million rows at 10,000 GPUs) never passes through Python objects.

Column names follow dcgm-exporter: the `timestamp`, the labels (`Hostname` or the newer `hostname`, `gpu`,
`UUID`, `modelName`, `hpc_job`, `pod`, `namespace`, `container`) and DCGM field names in the exporter's units
(GPU_UTIL %, FB MiB, POWER W, PROF_* ratios). Absent columns read NULL; columns beyond these are ignored.
Each row is loaded or quarantined with a reason, the same codes as the dcgm-exporter text parser."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from ..landing import LandedFile
from ..rules import (
    DCGM_BLANK_FP64,
    DCGM_BLANK_INT64_MIN,
    READINGS,
    XID_FIELDS,
    Reading,
    model_limit_column,
    model_limits_sql,
    unknown_mig_profile_sql,
)
from ..specs import Batch
from .base import glob_safe, sql_literal

# raw column <- candidate file columns, first present wins (labels were renamed across exporter versions)
LABELS = {
    "measured_at": ("timestamp",),
    "hostname": ("Hostname", "hostname"),
    "gpu": ("gpu",),
    "gpu_uuid": ("UUID", "uuid"),
    "model_name": ("modelName",),
    "hpc_job": ("hpc_job",),
    "pod": ("pod",),
    "namespace": ("namespace",),
    "container": ("container",),
    "gpu_instance_id": ("GPU_I_ID",),
    "gpu_instance_profile": ("GPU_I_PROFILE",),
    "gpu_replica": ("vgpu",),
}
# raw column <- the DCGM reading (its field and range)
METRICS = {r.gpu_samples: r for r in READINGS if r.gpu_samples}
TYPES = {"measured_at": "timestamptz", "gpu": "integer", **{m: "double" for m in METRICS}}
# a blank XID is no XID (rules.XID_FIELDS): loaded as an empty reading
XID_COLUMNS = [c for c, r in METRICS.items() if r.field in XID_FIELDS]


def _columns(con: duckdb.DuckDBPyConnection, files: list[str]) -> dict[str, str]:
    """Each raw column's SQL over the files' columns."""
    present = dict(
        (r[0], r[1])
        for r in con.execute("describe select * from read_parquet(?, union_by_name = true)", [files]).fetchall()
    )
    exprs = {}
    for column, candidates in LABELS.items():
        kind = TYPES.get(column, "varchar")
        found = [f'"{c}"::{kind}' for c in candidates if c in present]
        value = f"coalesce({', '.join(found)})" if found else f"null::{kind}"
        exprs[column] = f"nullif({value}, '')" if kind == "varchar" else value
    if present.get("timestamp", "").startswith(("BIGINT", "INTEGER")):  # epoch milliseconds, as Prometheus has them
        exprs["measured_at"] = "epoch_ms(timestamp::bigint)"
    for column, reading in METRICS.items():
        field = reading.field
        exprs[column] = f'"{field}"::double' if field in present else "null::double"
    return exprs


MESSAGES = {
    "missing_timestamp": "sample has no timestamp",
    "missing_hostname": "no Hostname/hostname column value",
    "missing_gpu": "no gpu value (the GPU index)",
    "non_finite_value": "a reading is not finite",
    "dcgm_blank_sentinel": "a reading is a DCGM blank sentinel (no reading)",
    "out_of_range": "a reading is outside its possible range (or beyond its GPU model's memory or power)",
    "unknown_mig_profile": "GPU_I_PROFILE is not a MIG instance profile of the GPU model",
}


def _reason() -> str:
    """The first rule a row breaks (a reason code); NULL when it loads. Same codes as the text parser."""
    values = list(METRICS)
    rules = {
        "missing_timestamp": "measured_at is null",
        "missing_hostname": "hostname is null",
        "missing_gpu": "gpu is null",
        "non_finite_value": " or ".join(f"not isfinite({c})" for c in values),
        "dcgm_blank_sentinel": " or ".join(_blank(c) for c in values if c not in XID_COLUMNS),
        "out_of_range": " or ".join(_outside(c, r) for c, r in METRICS.items() if c not in XID_COLUMNS)
        + "".join(f" or ({_outside(c, METRICS[c])}) and not {_blank(c)}" for c in XID_COLUMNS),
        "unknown_mig_profile": unknown_mig_profile_sql("gpu_instance_profile", "mig_sizes"),
    }
    return "case " + " ".join(f"when {cond} then '{reason}'" for reason, cond in rules.items()) + " end"


def _blank(column: str) -> str:
    return f"({column} >= {DCGM_BLANK_INT64_MIN} or {column} = {DCGM_BLANK_FP64})"


def _outside(column: str, r: Reading) -> str:
    """Whether a reading is outside its range, or beyond its GPU model's limit where the model is listed."""
    bounds = [f"{column} < {r.low}"] * (r.low is not None) + [f"{column} > {r.high}"] * (r.high is not None)
    limit = model_limit_column(r)
    return " or ".join(bounds + ([f"coalesce({column} > {limit}, false)"] if limit else []))


class ColumnarParquet:
    """The loader of columnar telemetry: DuckDB reads, checks and inserts the day's Parquet files, which are cheap
    to re-read (the batch is a view, not a copy)."""

    raw_columns = {"source_line": "bigint"} | {c: TYPES.get(c, "varchar") for c in [*LABELS, *METRICS]}

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch:
        paths = [str(glob_safe(f.path, scratch)) for f in files]
        quoted = ", ".join(map(sql_literal, paths))
        scan = f"read_parquet([{quoted}], union_by_name = true, file_row_number = true, filename = true)"
        names = f"[{', '.join(sql_literal(f.name) for f in files)}]"
        source_file = f"{names}[list_position([{quoted}], filename)]"
        messages = " ".join(f"when '{k}' then {sql_literal(v)}" for k, v in MESSAGES.items())
        message = f"case reject_reason {messages} end"
        # raw_text: the row as read, under the raw table's column names (JSON only for the rejected rows)
        no_xid = ", ".join(f"case when {_blank(c)} then null else {c} end as {c}" for c in XID_COLUMNS)
        columns = _columns(con, paths)
        listed = ", ".join(f"{expr} as {column}" for column, expr in columns.items())
        models = f"(select {columns['model_name']} as model_name from read_parquet([{quoted}], union_by_name = true))"
        sql = f"""select * replace ({no_xid}), {message} as reject_message,
                case when reject_reason is not null then to_json(checked) end as reject_text
            from (
                select scanned.*, ({_reason()}) as reject_reason
                from (
                    select {listed}, file_row_number + 1 as source_line, {source_file} as source_file
                    from {scan}
                ) as scanned
                left join ({model_limits_sql(models)}) as limits
                    on scanned.model_name is not distinct from limits.model_name
            ) as checked"""

        def rows_read() -> dict[str, int]:
            counts = dict(con.execute("select file_name, num_rows from parquet_file_metadata(?)", [paths]).fetchall())
            return {f.name: counts.get(p, 0) for f, p in zip(files, paths, strict=True)}

        return Batch(sql, rows_read=rows_read)
