"""Canonical columnar GPU telemetry: Parquet with one row per GPU per sample and one column per DCGM field, as a
Prometheus export or a telemetry lake hands it over. DuckDB reads, checks and inserts it in SQL, streaming:
a fleet-day (14.4 million rows at 10,000 GPUs) never passes through Python objects.

Column names follow dcgm-exporter: the `timestamp`, the labels (`Hostname` or the newer `hostname`, `gpu`,
`UUID`, `modelName`, `hpc_job`, `pod`, `namespace`, `container`) and DCGM field names in the exporter's units
(GPU_UTIL %, FB MiB, POWER W, PROF_* ratios). Absent columns read NULL; columns beyond these are ignored.
Each row is loaded or quarantined with a reason, the same codes as the dcgm-exporter text parser."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from .parsers.dcgm import BLANK_FP64, BLANK_INT64_MIN
from .sql_load import replace_partition_sql, source_file_expr, sql_literal
from .warehouse import SKEW_TOLERANCE, relative

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
}
# raw column <- DCGM field, with the range a reading can have
METRICS = {
    "gpu_util_pct": ("DCGM_FI_DEV_GPU_UTIL", 0, 100),
    "mem_copy_util_pct": ("DCGM_FI_DEV_MEM_COPY_UTIL", 0, 100),
    "sm_active": ("DCGM_FI_PROF_SM_ACTIVE", 0, 1),
    "tensor_active": ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", 0, 1),
    "dram_active": ("DCGM_FI_PROF_DRAM_ACTIVE", 0, 1),
    "fb_used_mib": ("DCGM_FI_DEV_FB_USED", 0, None),
    "fb_free_mib": ("DCGM_FI_DEV_FB_FREE", 0, None),
    "power_w": ("DCGM_FI_DEV_POWER_USAGE", 0, None),
    "gpu_temp_c": ("DCGM_FI_DEV_GPU_TEMP", -40, 150),
    "xid": ("DCGM_FI_DEV_XID_ERRORS", 0, None),
}
TYPES = {"measured_at": "timestamptz", "gpu": "integer", **{m: "double" for m in METRICS}}
RAW_DDL = (
    "create table if not exists raw.{table} (source_line bigint, "
    + ", ".join(f"{c} {TYPES.get(c, 'varchar')}" for c in [*LABELS, *METRICS])
    + ", partition_date date, source_file varchar)"
)


def _select_list(con: duckdb.DuckDBPyConnection, files: list[str]) -> str:
    present = dict(
        (r[0], r[1])
        for r in con.execute("describe select * from read_parquet(?, union_by_name = true)", [files]).fetchall()
    )
    exprs = []
    for column, candidates in LABELS.items():
        kind = TYPES.get(column, "varchar")
        found = [f'"{c}"::{kind}' for c in candidates if c in present]
        value = f"coalesce({', '.join(found)})" if found else f"null::{kind}"
        exprs.append(f"nullif({value}, '') as {column}" if kind == "varchar" else f"{value} as {column}")
    if present.get("timestamp", "").startswith(("BIGINT", "INTEGER")):  # epoch milliseconds, as Prometheus has them
        exprs[0] = "epoch_ms(timestamp::bigint) as measured_at"
    for column, (field, _, _) in METRICS.items():
        exprs.append(f'"{field}"::double as {column}' if field in present else f"null::double as {column}")
    return ", ".join(exprs)


MESSAGES = {
    "missing_timestamp": "sample has no timestamp",
    "missing_hostname": "no Hostname/hostname column value",
    "missing_gpu": "no gpu or UUID value",
    "non_finite_value": "a reading is not finite",
    "dcgm_blank_sentinel": "a reading is a DCGM blank sentinel (no reading)",
    "out_of_range": "a reading is outside its possible range",
    "timestamp_outside_partition": "measured_at is more than a day outside its partition",
}


def _reason(day: date) -> str:
    """The first rule a row breaks (a reason code); NULL when it loads. Same codes as the text parser."""
    values = list(METRICS)
    lo = datetime.combine(day, datetime.min.time(), UTC) - SKEW_TOLERANCE
    hi = lo + timedelta(days=1) + 2 * SKEW_TOLERANCE
    rules = {
        "missing_timestamp": "measured_at is null",
        "missing_hostname": "hostname is null",
        "missing_gpu": "gpu is null and gpu_uuid is null",
        "non_finite_value": " or ".join(f"not isfinite({c})" for c in values),
        "dcgm_blank_sentinel": " or ".join(f"{c} >= {BLANK_INT64_MIN} or {c} = {BLANK_FP64}" for c in values),
        "out_of_range": " or ".join(
            f"{c} < {low}" + (f" or {c} > {high}" if high is not None else "") for c, (_, low, high) in METRICS.items()
        ),
        "timestamp_outside_partition": f"measured_at < '{lo.isoformat()}' or measured_at >= '{hi.isoformat()}'",
    }
    return "case " + " ".join(f"when {cond} then '{reason}'" for reason, cond in rules.items()) + " end"


def replace_partition_columnar(
    con: duckdb.DuckDBPyConnection, table: str, partition_date: str, paths: list[Path], landing: Path
) -> dict:
    """Replace the day's rows of raw.<table>, its quarantine and audit, from the day's Parquet files, in one
    transaction (a crash leaves the previous day intact). Parquet is cheap to re-read: the SELECT is a view."""
    day = date.fromisoformat(partition_date)
    files = [str(p) for p in paths]
    scan = (
        f"read_parquet([{', '.join(map(sql_literal, files))}], union_by_name = true, file_row_number = true, "
        "filename = true)"
    )
    message = "case problem " + " ".join(f"when '{k}' then '{v}'" for k, v in MESSAGES.items()) + " end"

    def batch_sql() -> str:
        # raw_text: the row as read, under the raw table's column names (JSON only for the rejected rows)
        return f"""select *, {message} as message,
                case when problem is not null then to_json(checked) end as raw_text
            from (
                select *, ({_reason(day)}) as problem from (
                    select {_select_list(con, files)}, file_row_number + 1 as source_line,
                        {source_file_expr(landing)} as source_file
                    from {scan}
                )
            ) as checked"""

    def rows_read() -> dict[str, int]:
        counts = con.execute("select file_name, num_rows from parquet_file_metadata(?)", [files]).fetchall()
        return {relative(Path(f), landing): n for f, n in counts}

    return replace_partition_sql(
        con,
        table,
        partition_date,
        paths,
        landing,
        raw_ddl=RAW_DDL.format(table=table),
        batch_sql=batch_sql,
        materialize=False,
        rows_read=rows_read,
    )
