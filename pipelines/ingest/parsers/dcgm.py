"""dcgm-exporter output: the Prometheus text exposition format, as `curl host:9400/metrics` or a federated dump
returns it. Labels differ across exporter versions (`Hostname` vs `hostname`, optional pod/namespace/container
and hpc_job); samples may carry their own millisecond timestamp, otherwise the scrape time of the file is used.
Values stay in the unit the exporter used (GPU_UTIL %, PROF_* ratio, FB MiB, POWER W); staging converts.

DuckDB parses a whole day of files in one statement (a fleet-day of text never becomes Python objects, and DuckDB
checks the UTF-8 itself): each line is split once at `}` into its `metric{labels` head and its tail (value,
timestamp, cut at its spaces; only an unusual tail goes through a regular expression); each distinct head is cut
once and each distinct label set parsed once, then joined back. Every sample line is loaded or quarantined with
a reason; comments and blank lines are not samples."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import polars as pl

from ..landing import LandedFile
from ..rules import (
    DCGM_BLANK_FP64,
    DCGM_BLANK_INT64_MIN,
    READINGS,
    XID_FIELDS,
    mig_sizes_sql,
    model_limit_sql,
    unknown_mig_profile_sql,
)
from ..specs import Batch
from .base import Parsed, batch_as_parsed, duckdb_columns, sql_literal
from .text import INVALID_UTF8, TextFile, inputs_sql, lines_sql, text_batch, text_files

SCHEMA = {
    "source_line": pl.Int64,
    "metric": pl.String,
    "value": pl.Float64,
    "unit": pl.String,
    "scraped_at": pl.Datetime("us", "UTC"),
    "hostname": pl.String,
    "gpu": pl.Int64,
    "gpu_uuid": pl.String,
    "model_name": pl.String,
    "pod": pl.String,
    "namespace": pl.String,
    "container": pl.String,
    "hpc_job": pl.String,
    "gpu_instance_id": pl.String,
    "gpu_instance_profile": pl.String,
    "gpu_replica": pl.String,
}
METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
# what follows the labels (or, without labels, the whole line): [name] value [timestamp]
TAIL = r"^(" + METRIC_NAME + r")?[ \t]+(\S+)(?:[ \t]+(-?\d+))?[ \t]*$"
HELP_UNIT = r"^#\s*HELP\s+(\S+)\s.*\(in ([^)]+)\)"
LABELS = {
    "gpu_uuid": "UUID",
    "model_name": "modelName",
    "pod": "pod",
    "namespace": "namespace",
    "container": "container",
    "hpc_job": "hpc_job",
    # a MIG instance of the GPU (dcgm-exporter labels each instance's series with both)
    "gpu_instance_id": "GPU_I_ID",
    "gpu_instance_profile": "GPU_I_PROFILE",
    # a time-sliced GPU's replica: with KUBERNETES_VIRTUAL_GPUS, the exporter copies each series per replica
    "gpu_replica": "vgpu",
}
# a single-scrape file without per-sample timestamps names its scrape time: <host>_20250303T120000Z.prom
SCRAPE_TIME_IN_NAME = re.compile(r"(\d{8}T\d{6}Z)")
SCRAPE_FILE_SUFFIX = re.compile(r"(_\d{8}T\d{6}Z)?\.(prom|txt)(\.gz)?$")
# a label set: name="value" pairs, the value with backslash escapes (a comma or `}` inside a value is part of it)
LABEL_PAIR = r'([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"'
ESCAPE_OR_TEXT = r"\\.|[^\\]+"
ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
# OpenMetrics: a sample may end with an exemplar, ` # {trace_id="..."} <value> [<timestamp>]`, which is not the
# sample's value
EXEMPLAR = " # {"


def file_context(path: Path) -> tuple[datetime | None, str]:
    """The scrape time and host a file's name gives: <host>[_<YYYYMMDDTHHMMSSZ>].prom[.gz] (or .txt); the host is
    the whole name before them (`gpu_node_01`, `10.0.0.5`)."""
    m = SCRAPE_TIME_IN_NAME.search(path.name)
    at = datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if m else None
    return at, SCRAPE_FILE_SUFFIX.sub("", path.name)


def _label(name: str) -> str:
    """A label's value, decoded, NULL when the label set has no such label (an empty value stays '')."""
    return _unescaped(f"quoted_values[list_position(label_names, {sql_literal(name)})]")


def _unescaped(value: str) -> str:
    """A label value with the exposition format's escapes (backslash, double quote, newline) undone."""
    pieces = f"regexp_extract_all({value}, {sql_literal(ESCAPE_OR_TEXT)})"
    cases = " ".join(f"when {sql_literal(k)} then {sql_literal(v)}" for k, v in ESCAPES.items())
    return f"array_to_string(list_transform({pieces}, lambda t: case t {cases} else t end), '')"


def _out_of_range() -> str:
    """Whether a sample's value is outside its reading's range (rules.READINGS, and its GPU model's limits where
    the model is listed), as SQL. A percentage sent as a ratio is judged as one, memory sent in bytes in MiB."""
    cases = []
    for r in READINGS:
        applies = f"starts_with(metric, '{r.field}')" if r.field.endswith("_") else f"metric = '{r.field}'"
        if r.is_percent:
            cases.append(f"when {applies} and unit = 'ratio' then {_outside('value', r.low, 1)}")
        memory = r.model_limit == "memory"
        value = "(case when unit in ('B', 'bytes') then value / 1048576 else value end)" if memory else "value"
        limit = model_limit_sql(r, "model_name")
        beyond_model = f" or coalesce({value} > {limit}, false)" if limit else ""
        cases.append(f"when {applies} then {_outside(value, r.low, r.high)}{beyond_model}")
    return "case " + " ".join(cases) + " else false end"


def _outside(value: str, low: float | None, high: float | None) -> str:
    bounds = [f"{value} < {low}"] * (low is not None) + [f"{value} > {high}"] * (high is not None)
    return " or ".join(bounds) or "false"


BLANK = f"(value >= {DCGM_BLANK_INT64_MIN} or value = {DCGM_BLANK_FP64})"
IS_XID = f"list_contains({list(XID_FIELDS)}, metric)"


def _problem() -> tuple[str, str]:
    """The first rule a line breaks (reason code, NULL when it loads) and its message, as SQL."""
    rules = [
        (INVALID_UTF8[0], "sanitized and contains(text, '\ufffd')", INVALID_UTF8[1]),
        ("unparseable_line", "not parsed", "'not a Prometheus text sample line'"),
        ("duplicate_label", "duplicate_label", "'a label name appears twice in the label set'"),
        ("bad_value", "value is null", "format('value {} is not a number', value_text)"),
        ("non_finite_value", "not isfinite(value)", "format('value {} is not finite', value_text)"),
        (
            "dcgm_blank_sentinel",
            f"{BLANK} and not {IS_XID}",
            "format('value {} is a DCGM blank sentinel (no reading)', value_text)",
        ),
        (
            "out_of_range",
            f"not ({IS_XID} and {BLANK}) and ({_out_of_range()})",
            "format('{} = {} is outside the possible range', metric, value_text)",
        ),
        ("missing_timestamp", "scraped_at is null", "'sample has no timestamp and the file no scrape time'"),
        ("missing_hostname", "hostname is null", "'no Hostname/hostname label and no host for the file'"),
        ("missing_gpu", "gpu is null", "'no gpu label (the GPU index)'"),
        (
            "unknown_mig_profile",
            unknown_mig_profile_sql("gpu_instance_profile", mig_sizes_sql("model_name")),
            "format('GPU_I_PROFILE {} is no MIG profile of {}', gpu_instance_profile, coalesce(model_name, '?'))",
        ),
    ]
    problem = "case " + " ".join(f"when {cond} then '{code}'" for code, cond, _ in rules) + " end"
    message = "case problem " + " ".join(f"when '{code}' then {msg}" for code, _, msg in rules) + " end"
    return problem, message


def batch_sql(files: list[TextFile], threads: int = 1, context: list[tuple] | None = None) -> str:
    """One row per sample line of `files`: the raw columns, source_file/source_line, problem, message, raw_text.
    `context`: each file's (scrape time, host) when its name does not give them."""
    context = context or [file_context(f.landed.path) for f in files]
    scraped = [sql_literal(at.isoformat()) + "::timestamptz" if at else "null::timestamptz" for at, _ in context]
    hosts = [sql_literal(host) if host else "null" for _, host in context]
    problem, message = _problem()
    label_columns = ", ".join(f"{_label(name)} as {column}" for column, name in LABELS.items())
    return f"""
    with inputs(file_id, source_file, sanitized, file_scraped_at, default_host) as (
        values {inputs_sql(files, scraped, hosts)}
    ),
    numbered as not materialized (  -- streamed, not kept: the units and the samples each read the files
        {lines_sql(files, threads)}
    ),
    units as (  -- the unit each metric's HELP line states, per file ("(in %)", "(in MiB)")
        select file_id, h.metric, arg_max(h.unit, source_line) as unit
        from (
            select file_id, source_line, regexp_extract(text, {sql_literal(HELP_UNIT)}, ['metric', 'unit']) as h
            from numbered where starts_with(text, '#')
        )
        where h.metric <> '' group by all
    ),
    samples as (
        -- the labels end at the last '}}' (a label value may hold one, the value and timestamp cannot) of the
        -- sample without its exemplar
        select *, string_split(body, '}}') as pieces
        from (
            select *,
                case when contains(text, {sql_literal(EXEMPLAR)})
                    then rtrim(text[:instr(text, {sql_literal(EXEMPLAR)}) - 1]) else text end as body
            from numbered
        )
        -- not a blank line or a comment; only a line that starts with whitespace needs trimming to tell
        where text <> '' and not starts_with(text, '#') and (
            not (starts_with(text, ' ') or starts_with(text, chr(9)))
            or not (trim(text, ' ' || chr(9)) = '' or starts_with(ltrim(text, ' ' || chr(9)), '#'))
        )
    ),
    cut as (
        select file_id, source_line, text,
            len(pieces) > 1 and contains(body, '{{') as labelled,
            -- `metric{{labels`: a GPU repeats it on every scrape, so it is parsed once per distinct value (heads)
            case when labelled then
                case when len(pieces) = 2 then pieces[1] else array_to_string(pieces[:-2], '}}') end
            end as head,
            case when labelled then pieces[-1] else body end as rest,
            string_split(rest, ' ') as words,
            -- the usual tail, " <value> <timestamp>" or " <value>", is cut at its spaces; anything else goes to
            -- the pattern
            labelled and words[1] = '' and len(words) in (2, 3) and words[2] <> '' and coalesce(words[3], 'x') <> ''
                and not contains(rest, chr(9)) as plain,
            case when not plain then regexp_extract(rest, {sql_literal(TAIL)}, ['name', 'value_text', 'ts_text'])
            end as odd,
            case when plain then words[2] else struct_extract(odd, 'value_text') end as value_text,
            case when plain then coalesce(words[3], '') else struct_extract(odd, 'ts_text') end as ts_text,
            case when labelled then plain or struct_extract(odd, 'name') = '' else struct_extract(odd, 'name') <> ''
            end as tail_ok,
            case when not labelled then struct_extract(odd, 'name') end as bare_metric
        from samples
    ),
    heads as (  -- each distinct head cut into its metric and label set
        select head, instr(head, '{{') as open_at, head[:open_at - 1] as metric, head[open_at + 1:] as labels
        from (select distinct head from cut where head is not null)
    ),
    label_sets as (  -- a GPU's label set is the same on every metric: each distinct set is read once
        select labels,
            coalesce({_label("Hostname")}, {_label("hostname")}) as host_label,
            try_cast({_label("gpu")} as bigint) as gpu,
            {label_columns},
            len(label_names) <> len(list_distinct(label_names)) as duplicate_label
        from (
            select labels, regexp_extract_all(labels, {sql_literal(LABEL_PAIR)}, 1) as label_names,
                regexp_extract_all(labels, {sql_literal(LABEL_PAIR)}, 2) as quoted_values
            from (select distinct labels from heads)
        )
    ),
    head_info as (
        select heads.head, heads.metric,
            heads.open_at > 0 and regexp_full_match(heads.metric, {sql_literal(METRIC_NAME)}) as head_ok,
            label_sets.* exclude (labels)
        from heads join label_sets using (labels)
    ),
    parsed as (
        select cut.*, i.source_file, i.sanitized, l.* exclude (head, host_label, metric, head_ok), u.unit,
            coalesce(l.metric, cut.bare_metric) as metric,
            try_cast(value_text as double) as value,
            coalesce(host_label, i.default_host) as hostname,
            coalesce(timezone('UTC', epoch_ms(try_cast(nullif(ts_text, '') as bigint))), i.file_scraped_at)
                as scraped_at,
            value_text <> '' and tail_ok and (ts_text = '' or try_cast(ts_text as bigint) is not null)
                and coalesce(l.head_ok, not labelled) as parsed
        from cut
        left join head_info as l using (head)
        left join units as u on u.file_id = cut.file_id and u.metric = coalesce(l.metric, cut.bare_metric)
        join inputs as i on i.file_id = cut.file_id
    ),
    checked as (select *, {problem} as problem from parsed)
    select source_file, source_line, metric,
        -- a blank XID is no XID (see rules.XID_FIELDS): an empty reading
        case when {IS_XID} and {BLANK} then null else value end as value,
        unit, scraped_at, hostname, gpu, gpu_uuid, model_name, pod, namespace, container, hpc_job, gpu_instance_id,
        gpu_instance_profile, gpu_replica, problem as reject_reason, {message} as reject_message,
        case when problem is not null then text end as reject_text
    from checked"""


class DcgmText:
    """The loader of dcgm-exporter text: DuckDB reads the day's files as they are; only when one is not UTF-8 is
    the day read again with every file checked (the offending ones copied with their bad bytes replaced, those
    lines quarantined)."""

    raw_columns = duckdb_columns(SCHEMA)

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch:
        threads = int(con.execute("select current_setting('threads')").fetchall()[0][0])
        return text_batch(files, scratch, lambda texts: batch_sql(texts, threads))


def parse_dcgm(path: Path, scraped_at: datetime | None = None, default_host: str | None = None) -> Parsed:
    """One file's samples and rejects as frames (for a look at a file, and the parser's tests)."""
    with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        landed = LandedFile(path, path.name, path.stat().st_size, "")
        sql = batch_sql(text_files([landed], Path(scratch), check_utf8=True), context=[(scraped_at, default_host)])
        frame = con.sql(f"{sql} order by source_line").pl()
    parsed = batch_as_parsed(frame, list(SCHEMA))
    return Parsed(parsed.rows.cast(SCHEMA), parsed.rejects)
