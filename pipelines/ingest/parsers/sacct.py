"""Slurm `sacct --parsable2` (`-P`) output: pipe-separated, with a header line unless `--noheader` was given,
in which case the field order of XDMoD's Slurm shredder is assumed. Values are kept as Slurm prints them
(`Unknown`/`None` times, `[DD-]HH:MM:SS` elapsed, TRES strings); staging interprets them. Job steps
(`123.batch`, `123.0`) are kept as rows and flagged in staging, so they cannot double-count GPU-hours.

`AdminComment` (asked for with `--format ...,AdminComment`) may hold Princeton jobstats' per-job summary,
`JS1:` + base64(gzip(JSON)) (jobstats.py `report_job_json`). SQL cannot gunzip, so the loader decodes it into the
`jobstats` column (the JSON text); staging reads the numbers. A summary that does not decode leaves `jobstats`
NULL and says why in `jobstats_problem`: the job line itself still loads. `JS1:Short` and `JS1:None` (a job too
short to summarise, or without data) are no summary, and no problem."""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ..landing import LandedFile
from ..specs import Batch
from .base import Parsed, day_of_files, duckdb_columns, frames_batch, read_lines, rejects, split_bad_encoding
from .hostlist import MAX_HOSTS, HostlistTooLarge, expand_hostlist

XDMOD_ORDER = [
    "JobID",
    "JobIDRaw",
    "Cluster",
    "Partition",
    "QOS",
    "Account",
    "Group",
    "GID",
    "User",
    "UID",
    "Submit",
    "Eligible",
    "Start",
    "End",
    "Elapsed",
    "ExitCode",
    "State",
    "NNodes",
    "NCPUS",
    "ReqCPUS",
    "ReqMem",
    "ReqTRES",
    "AllocTRES",
    "Timelimit",
    "NodeList",
    "JobName",
]
REQUIRED = ["JobID", "Cluster", "Account", "User", "Submit", "Start", "End", "State", "AllocTRES", "NodeList"]
# fields read when a header names them: WCKey (workload characterization key, here the project)
# and AdminComment (jobstats' JS1 summary, or a site's own note)
OPTIONAL = ["WCKey", "AdminComment"]
COLUMNS = {
    name: re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower() for name in XDMOD_ORDER + OPTIONAL
}
SCHEMA = (
    {"source_line": pl.Int64}
    | {c: pl.String for c in COLUMNS.values()}
    | {"node_names": pl.List(pl.String), "jobstats": pl.String, "jobstats_problem": pl.String}
)
JOBSTATS_PREFIX = "JS1:"
JOBSTATS_EMPTY = ("JS1:Short", "JS1:None")  # jobstats' markers: too short to summarise, no data


def decode_jobstats(comment: str | None) -> tuple[str | None, str | None]:
    """(summary JSON, problem) of an AdminComment: the decoded jobstats summary, or why a JS1 one does not decode.
    A comment that is not a jobstats summary is neither."""
    if not comment or not comment.startswith(JOBSTATS_PREFIX) or comment in JOBSTATS_EMPTY:
        return None, None
    try:
        summary = json.loads(gzip.decompress(base64.b64decode(comment[len(JOBSTATS_PREFIX) :], validate=True)))
    except (binascii.Error, OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as error:
        return None, f"bad_jobstats: JS1 summary does not decode as base64 gzip JSON ({type(error).__name__})"
    if not isinstance(summary, dict) or not isinstance(summary.get("nodes"), dict):
        return None, "bad_jobstats: JS1 summary has no nodes object"
    return json.dumps(summary, separators=(",", ":"), sort_keys=True), None


SLURM_TIME = r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|Unknown|None|)$"


def parse_sacct(path: Path) -> Parsed:
    lines = read_lines(path)
    lines, bad_enc = split_bad_encoding(lines)
    lines = lines.filter(pl.col("text").str.strip_chars() != "")
    if lines.is_empty():
        return Parsed(pl.DataFrame(schema=SCHEMA), bad_enc)
    first = lines["text"][0].split("|")
    if "JobID" in first:
        header, body = first, lines.slice(1)
        missing = [f for f in REQUIRED if f not in header]
        if missing:
            msg = f"header lacks required field(s) {', '.join(missing)}"
            return Parsed(pl.DataFrame(schema=SCHEMA), pl.concat([bad_enc, rejects(lines, "missing_column", msg)]))
    else:
        header, body = XDMOD_ORDER, lines
    cells = body.with_columns(cells=pl.col("text").str.split("|"))
    wrong = cells.filter(pl.col("cells").list.len() != len(header))
    cells = cells.filter(pl.col("cells").list.len() == len(header))
    frame = cells.with_columns(
        pl.col("cells").list.get(i).alias(COLUMNS.get(name, name.lower()))
        for i, name in enumerate(header)
        if name in COLUMNS
    )
    for col in COLUMNS.values():
        if col not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(col))
    # the JobID is the job's key: without it the row would load as job `slurm:<cluster>:`
    no_id = pl.col("job_id").fill_null("").str.strip_chars() == ""
    missing_id = frame.filter(no_id)
    frame = frame.filter(~no_id)
    bad_time = ~(
        pl.col("submit").str.contains(SLURM_TIME)
        & pl.col("start").str.contains(SLURM_TIME)
        & pl.col("end").str.contains(SLURM_TIME)
    )
    bad_times = frame.filter(bad_time)
    frame = frame.filter(~bad_time)
    # ISO times compare as text; Unknown/None never trigger it
    ends_first = (
        pl.col("end").str.contains(r"^\d") & pl.col("start").str.contains(r"^\d") & (pl.col("end") < pl.col("start"))
    )
    reversed_times = frame.filter(ends_first)
    frame = frame.filter(~ends_first)
    nodes, bad_nodes, huge_nodes = [], [], []
    for line, expr in zip(frame["source_line"], frame["node_list"]):
        try:
            nodes.append(expand_hostlist(expr or ""))
        except HostlistTooLarge:
            nodes.append(None)
            huge_nodes.append(line)
        except ValueError:
            nodes.append(None)
            bad_nodes.append(line)
    frame = frame.with_columns(node_names=pl.Series(nodes, dtype=pl.List(pl.String)))
    decoded = [decode_jobstats(c) for c in frame["admin_comment"]]
    frame = frame.with_columns(
        jobstats=pl.Series([d[0] for d in decoded], dtype=pl.String),
        jobstats_problem=pl.Series([d[1] for d in decoded], dtype=pl.String),
    )
    bad_list = frame.filter(pl.col("source_line").is_in(bad_nodes))
    huge_list = frame.filter(pl.col("source_line").is_in(huge_nodes))
    frame = frame.filter(~pl.col("source_line").is_in(bad_nodes + huge_nodes))
    out = [
        bad_enc,
        rejects(wrong, "field_count", f"expected {len(header)} |-separated fields"),
        rejects(missing_id, "missing_job_id", "JobID is empty"),
        rejects(bad_times, "bad_timestamp", "Submit/Start/End is not YYYY-MM-DDTHH:MM:SS, Unknown or None"),
        rejects(reversed_times, "end_before_start", pl.format("End {} is before Start {}", "end", "start")),
        rejects(bad_list, "bad_nodelist", pl.format("cannot expand NodeList {}", "node_list")),
        rejects(huge_list, "nodelist_too_large", f"NodeList names more than {MAX_HOSTS:,} hosts"),
    ]
    return Parsed(frame.select(list(SCHEMA)).cast(SCHEMA), pl.concat(out))


class Sacct:
    """The loader of sacct dumps: each file parsed on its own (a header, or none, per file)."""

    raw_columns = duckdb_columns(SCHEMA)

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch:
        return frames_batch(day_of_files(parse_sacct, [f.path for f in files]), files)
