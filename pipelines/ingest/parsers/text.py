"""A day of text files read by DuckDB as numbered lines: each file read whole by `read_text`, split at its
newlines, so every line keeps its file and number without passing through Python. DuckDB refuses a file that
is not UTF-8: then the day is read again with each file checked, and a file with bad bytes is read from a copy
with those bytes replaced by U+FFFD (its lines holding one are quarantined as `invalid_utf8`)."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..landing import LandedFile
from ..specs import Batch
from .base import glob_safe, sql_literal

INVALID_UTF8 = ("invalid_utf8", "'line holds bytes that are not UTF-8'")


@dataclass(frozen=True)
class TextFile:
    landed: LandedFile
    readable: Path  # what DuckDB reads: the landed file, or a UTF-8 copy of it (gzip, bytes that are not UTF-8)
    sanitized: bool  # bytes that were not UTF-8 were replaced by U+FFFD: those lines are quarantined


def readable(path: Path, scratch: Path, check_utf8: bool = True) -> tuple[Path, bool]:
    """The file itself when DuckDB can read it as text; otherwise a decompressed, UTF-8 copy in `scratch`.
    Without `check_utf8` a plain file is passed as it is: DuckDB refuses one that is not UTF-8, and the caller
    retries with the check."""
    if path.suffix != ".gz" and not check_utf8:
        return glob_safe(path, scratch), False
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        raw.decode("utf-8")
        if path.suffix != ".gz":
            return glob_safe(path, scratch), False
        sanitized = False
    except UnicodeDecodeError:
        sanitized = True
    copy = scratch / f"{len(list(scratch.iterdir()))}.txt"
    copy.write_text(raw.decode("utf-8", errors="replace"), encoding="utf-8")
    return copy, sanitized


def text_files(files: list[LandedFile], scratch: Path, check_utf8: bool) -> list[TextFile]:
    return [TextFile(f, *readable(f.path, scratch, check_utf8)) for f in files]


def lines_sql(files: list[TextFile], threads: int = 1) -> str:
    """(file_id, source_line, text) for every line of `files` (file_id: the position in `files`; 1-based lines, a
    byte order mark and a trailing carriage return cut; the empty text after a final newline included)."""
    # one scan per thread: a scan of many small files is not split across threads, a union of scans is. Lines
    # carry their file's number, not its name, to be joined on (found by position: a join would copy the texts)
    names = [sql_literal(str(f.readable)) for f in files]
    number = f"list_position([{', '.join(names)}], filename) - 1"
    groups = [names[i::threads] for i in range(min(threads, len(names)))]
    scans = " union all ".join(
        "select file_id, unnest(lines) as line, generate_subscripts(lines, 1) as source_line from ("
        f"select {number} as file_id, string_split(content, chr(10)) as lines from read_text([{', '.join(group)}]))"
        for group in groups
    )
    # a UTF-8 byte order mark (Excel, PowerShell exports) is not part of the first line's text
    return f"""select file_id, source_line,
            case when ends_with(text, chr(13)) then substring(text, 1, length(text) - 1) else text end as text
        from (
            select file_id, source_line,
                case when source_line = 1 and starts_with(line, chr(65279)) then line[2:] else line end as text
            from ({scans})
        )"""


# a document that is not a List is quarantined whole, with this much of its text
DOCUMENT_TEXT_CHARS = 4096


def list_items_sql(files: list[TextFile], documents: list[int]) -> str:
    """(file_id, source_line, text, document_problem) for the JSON documents among `files` (`documents`: their
    positions, which become file_id), one row per item of a List (`{"kind": "List", "items": [...]}`, as
    `kubectl get <kind> -A -o json` writes it): source_line is the item's 1-based position in `items`, text the
    item as JSON. A document holding one object that is not a List is its own single item. A document that is not
    valid JSON (a truncated export) or holds no object is one row, at line 1, with the problem said and the start
    of its text."""
    names = [sql_literal(str(files[n].readable)) for n in documents]
    number = f"[{', '.join(map(str, documents))}][list_position([{', '.join(names)}], filename)]"
    not_json = sql_literal("the document is not valid JSON (cut short, or not JSON at all)")
    not_list = sql_literal("the document is not a JSON object with an items array (not a kubectl List)")
    return f"""with documents as (
            select {number} as file_id, content, doc,
                case
                    when doc is null then {not_json}
                    when json_type(doc) <> 'OBJECT' then {not_list}
                    when json_type(doc, '$.items') = 'ARRAY' then null
                    -- one object (`kubectl get pod <name> -o json`) is its own item; a List without items is not
                    when coalesce(doc ->> '$.kind', 'List') = 'List' then {not_list}
                end as problem
            from (
                select filename, content, case when json_valid(content) then content end as doc
                from read_text([{", ".join(names)}])
            )
        ),
        items as (
            select file_id,
                case when json_type(doc, '$.items') = 'ARRAY' then json_extract(doc, '$.items[*]') else [doc::json] end
                    as items
            from documents where problem is null
        )
        select file_id, generate_subscripts(items, 1)::bigint as source_line, unnest(items)::varchar as text,
            null::varchar as document_problem
        from items
        union all
        select file_id, 1::bigint as source_line, left(content, {DOCUMENT_TEXT_CHARS}) as text, problem
        from documents where problem is not null"""


def inputs_sql(files: list[TextFile], *extra: list[str]) -> str:
    """VALUES rows of (file_id, source_file, sanitized, *extra) for `files`; `extra` holds SQL per file."""
    rows = [
        ", ".join([str(n), sql_literal(f.landed.name), str(f.sanitized).lower(), *(column[n] for column in extra)])
        for n, f in enumerate(files)
    ]
    return ", ".join(f"({row})" for row in rows)


def text_batch(files: list[LandedFile], scratch: Path, sql: Callable[[list[TextFile]], str]) -> Batch:
    """The batch `sql` builds over the day's files as DuckDB reads them; read again with every file checked if
    DuckDB refuses one as not UTF-8."""

    def batch(check_utf8: bool) -> Batch:
        retry = None if check_utf8 else (lambda error: batch(True) if not_utf8(error) else None)
        return Batch(sql(text_files(files, scratch, check_utf8)), materialize=True, retry=retry)

    return batch(False)


def not_utf8(error: duckdb.Error) -> bool:
    return isinstance(error, duckdb.InvalidInputException) and "UTF-8" in str(error)
