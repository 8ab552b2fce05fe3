"""CSV with a header and JSON lines: the inventory, org, registry, deployment, traffic and event exports.

DuckDB reads them (a day of files as numbered lines, text.py) and types them in SQL: each source declares its
columns and types, and which may be empty. A line whose field count, JSON, typed values or the table's line rules
(rules.py) do not fit is quarantined with the column or rule at fault. Columns a file has beyond the declared ones
are ignored (a newer export may add fields); a declared column a CSV file's header lacks is an error for every
line of that file. A CSV record is one line (a quoted value may hold commas and doubled quotes, not newlines)."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from ..landing import LandedFile
from ..rules import OneAtATime, Rule
from ..specs import Batch
from .base import Parsed, batch_as_parsed, duckdb_columns, sql_literal
from .text import INVALID_UTF8, TextFile, inputs_sql, lines_sql, list_items_sql, text_batch, text_files

STR, INT, FLOAT, TS = pl.String, pl.Int64, pl.Float64, "ts"
# text timestamps are parsed strictly, in one of these (%n: up to nine fractional digits, kept to microseconds)
TIMESTAMP_FORMATS = ["%Y-%m-%dT%H:%M:%S.%nZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S.%n", "%Y-%m-%d %H:%M:%S"]
# a field of a CSV line that starts with a comma: quoted (commas and doubled quotes inside) or up to the next comma
CSV_FIELD = r',("(?:[^"]|"")*"|[^,]*)'
BLANK = "' ' || chr(9)"


def snake(name: str) -> str:
    """A landed column's raw name: `ContextTokens` -> `context_tokens`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@dataclass(frozen=True)
class Tabular:
    """The loader of a CSV or JSON-lines source: its landed columns (name -> STR, INT, FLOAT or TS), those that may
    be empty, the line rules of its table, and for JSON the column that keeps every other key as an object."""

    format: str  # "csv" or "jsonl"
    columns: dict
    optional: frozenset[str] = field(default_factory=frozenset)
    extra: str | None = None
    rules: tuple[Rule, ...] = ()
    # JSON: a `*.json` file is one document, a List (`kubectl get ... -o json`) whose items are the rows
    lists: bool = False

    @property
    def raw_columns(self) -> dict[str, str]:
        schema = {"source_line": pl.Int64} | {snake(c): _dtype(t) for c, t in self.columns.items()}
        return duckdb_columns(schema | ({self.extra: pl.String} if self.extra else {}))

    def __call__(self, con: duckdb.DuckDBPyConnection, day: date, files: list[LandedFile], scratch: Path) -> Batch:
        return text_batch(files, scratch, self.sql)

    def sql(self, files: list[TextFile]) -> str:
        """One row per non-blank line of `files` (a CSV file's header excepted): the raw columns, source_file,
        source_line and the reject columns."""
        cells = _csv_cells(self) if self.format == "csv" else _json_cells(self)
        documents = [n for n, f in enumerate(files) if f.landed.name.endswith(".json")]
        problem = ", l.document_problem" if self.lists else ""
        typed = ", ".join(f"{_typed(f'_{c}', t)} as {_raw(c)}" for c, t in self.columns.items())
        bad = [
            f"({_empty(c)} and {c not in self.optional}) or (not {_empty(c)} and {_raw(c)} is null)"
            for c in self.columns
        ]
        which = ", ".join(f"case when {b} then '{c}' end" for c, b in zip(self.columns, bad, strict=True))
        rules = [(r.reason, r.describe(), r.violated_sql(_raw)) for r in self.rules if not isinstance(r, OneAtATime)]
        across = [r for r in self.rules if isinstance(r, OneAtATime)]
        checks = [
            (INVALID_UTF8[0], "bad_encoding", INVALID_UTF8[1]),
            *([("bad_document", "document_problem is not null", "document_problem")] if self.lists else []),
            *cells.checks,
            ("bad_value", " or ".join(bad), f"'missing or unparseable value in ' || concat_ws(',', {which})"),
            *((reason, f"coalesce({violated}, false)", sql_literal(text)) for reason, text, violated in rules),
        ]
        reason = "case " + " ".join(f"when {cond} then '{code}'" for code, cond, _ in checks) + " end"
        # by condition, not by code: two rules may share a code (out_of_range) and not a message
        message = "case " + " ".join(f"when {cond} then {msg}" for _, cond, msg in checks) + " end"
        raw = ", ".join(_raw(c) for c in self.columns) + (f", {self.extra}" if self.extra else "")
        return f"""
        with inputs(file_id, source_file, sanitized) as (values {inputs_sql(files)}),
        lines as (
            select l.file_id, l.source_line, l.text, i.source_file,
                i.sanitized and contains(l.text, '\ufffd') as bad_encoding{problem}
            from ({_lines(files, documents) if self.lists else lines_sql(files)}) as l join inputs as i using (file_id)
            where trim(l.text, {BLANK}) <> ''
        ),
        {cells.sql},
        typed as (select *, {typed} from cells),
        checked as (select *, {reason} as line_reason, {message} as line_message from typed),
        settled as (select *, {_across_lines(across)} from checked)
        select source_file, source_line, {raw}, reject_reason, reject_message,
            case when reject_reason is not null then text end as reject_text
        from settled"""

    def parse(self, path: Path) -> Parsed:
        """One file's typed rows (under their raw names) and rejects, as frames (for a look at a file, and tests)."""
        with tempfile.TemporaryDirectory() as scratch, duckdb.connect() as con:
            landed = LandedFile(path, path.name, path.stat().st_size, "")
            frame = con.sql(f"{self.sql(text_files([landed], Path(scratch), True))} order by source_line").pl()
        return batch_as_parsed(frame, list(self.raw_columns))


def _lines(files: list[TextFile], documents: list[int]) -> str:
    """(file_id, source_line, text[, document_problem]) of the day: the lines of line-oriented files, the items of
    List documents (`documents`: their positions in `files`), each under its file's position in `files`."""
    parts = [list_items_sql(files, documents)] if documents else []
    others = [n for n in range(len(files)) if n not in documents]
    if others:
        ids = ", ".join(map(str, others))
        parts.append(
            f"select [{ids}][file_id + 1] as file_id, source_line, text, null::varchar as document_problem "
            f"from ({lines_sql([files[n] for n in others])})"
        )
    return " union all ".join(f"select * from ({part})" for part in parts)


def _across_lines(rules: list[OneAtATime]) -> str:
    """reject_reason and reject_message: a line's own, else the first rule across lines it breaks (judged among the
    lines with no reason of their own, in the day's file and line order)."""
    if not rules:
        return "line_reason as reject_reason, line_message as reject_message"
    broken = [
        (r.reason, r.describe(), r.overlaps_sql(_raw, "line_reason is null", "file_id, source_line")) for r in rules
    ]
    reason = " ".join(f"when {cond} then '{code}'" for code, _, cond in broken)
    message = " ".join(f"when {cond} then {sql_literal(text)}" for _, text, cond in broken)
    return (
        f"coalesce(line_reason, case {reason} end) as reject_reason, "
        f"case when line_reason is not null then line_message {message} end as reject_message"
    )


@dataclass(frozen=True)
class Cells:
    """SQL for the `cells` CTE (from `lines`: a `_<column>` text per declared column) and the checks of the line's
    shape that come before its values: (reason, condition, message)."""

    sql: str
    checks: list[tuple[str, str, str]]


def _csv_cells(t: Tabular) -> Cells:
    required = "[" + ", ".join(sql_literal(c) for c in t.columns if c not in t.optional) + "]"
    values = ", ".join(
        f"{_strip(_unquote(f'fields[list_position(header, {sql_literal(c)})]'))} as _{c}" for c in t.columns
    )
    sql = f"""heads as (  -- each file's first good line is its header
            select file_id, min(source_line) as header_line,
                list_transform({_fields("arg_min(text, source_line)")}, lambda h: {_strip(_unquote("h"))}) as header,
                list_filter({required}::varchar[], lambda c: not list_contains(header, c)) as missing
            from lines where not bad_encoding group by file_id
        ),
        cells as (
            select lines.*, heads.header, heads.missing, {_fields("text")} as fields, {values}
            from lines left join heads using (file_id)
            where source_line is distinct from heads.header_line
        )"""
    return Cells(
        sql,
        [
            ("missing_column", "len(missing) > 0", "'file lacks column(s) ' || array_to_string(missing, ', ')"),
            ("field_count", "len(fields) <> len(header)", "format('expected {} fields as in the header', len(header))"),
        ],
    )


def _json_cells(t: Tabular) -> Cells:
    declared = ", ".join(map(sql_literal, t.columns))
    # every other key of the object, in key order (the same payload gives the same text whatever its key order)
    others = (
        f""", case when is_object then to_json(map_from_entries(list_sort(list_filter(
                map_entries(json_transform(doc, '"MAP(VARCHAR, JSON)"')), lambda e: e.key not in ({declared})
            ))))::varchar end as {t.extra}"""
        if t.extra
        else ""
    )
    sql = f"""objects as (
            -- json_type fails on text that is not JSON: it reads only the valid lines
            select *, case when json_valid(text) then text end as valid from lines
        ),
        documents as (
            select *, coalesce(json_type(valid) = 'OBJECT', false) as is_object,
                case when is_object then valid end as doc
            from objects
        ),
        cells as (
            select *, {", ".join(f"{_json_value(c)} as _{c}" for c in t.columns)}{others}
            from documents
        )"""
    # DuckDB reads NaN and Infinity as JSON numbers; where text belongs, a number with a fraction (NaN among them)
    # or a boolean is a wrong value, not an id (whole numbers are kept: ids are often numbers)
    texts = [c for c, kind in t.columns.items() if kind == STR]
    not_text = {c: f"json_type(doc, {_json_path(c)}) in ('BOOLEAN', 'DOUBLE')" for c in texts}
    wrong = " or ".join(not_text.values())
    which = ", ".join(f"case when {cond} then '{c}' end" for c, cond in not_text.items())
    checks = [("bad_json", "not is_object", "'line is not a JSON object'")]
    if texts:
        checks.append(
            (
                "bad_value",
                f"coalesce({wrong}, false)",
                f"'a number or boolean where text belongs: ' || concat_ws(',', {which})",
            )
        )
    return Cells(sql, checks)


def _json_value(key: str) -> str:
    """A key's value as text: a string as it is, an object or array as JSON, NULL when absent or null."""
    path = _json_path(key)
    return (
        f"case json_type(doc, {path}) when 'VARCHAR' then json_extract_string(doc, {path}) "
        f"when 'NULL' then null else {_strip(f'json_extract(doc, {path})::varchar')} end"
    )


def _json_path(key: str) -> str:
    return sql_literal(f'$."{key}"')


def _fields(line: str) -> str:
    return f"regexp_extract_all(',' || {line}, {sql_literal(CSV_FIELD)}, 1)"


def _unquote(cell: str) -> str:
    return (
        f"""case when length({cell}) >= 2 and starts_with({cell}, '"') and ends_with({cell}, '"') """
        f"""then replace({cell}[2:-2], '""', '"') else {cell} end"""
    )


def _strip(text: str) -> str:
    return f"trim({text}, {BLANK})"


def _empty(column: str) -> str:
    return f"coalesce(_{column}, '') = ''"


def _raw(column: str) -> str:
    return f'"{snake(column)}"'


def _dtype(kind) -> pl.DataType:
    return pl.Datetime("us") if kind == TS else kind


def _typed(text: str, kind) -> str:
    """A cell's text as its declared type; NULL when empty or when it does not parse."""
    if kind == TS:
        formats = ", ".join(map(sql_literal, TIMESTAMP_FORMATS))
        return f"try_strptime(nullif({text}, ''), [{formats}])::timestamp"
    if kind == INT:  # digits only: DuckDB would round '1.5' and read '0x10'
        return f"case when regexp_full_match({text}, '[+-]?[0-9]+') then try_cast({text} as bigint) end"
    if kind == FLOAT:  # NaN and infinities are no measurement
        return f"case when isfinite(try_cast(nullif({text}, '') as double)) then try_cast({text} as double) end"
    return f"nullif({text}, '')"
