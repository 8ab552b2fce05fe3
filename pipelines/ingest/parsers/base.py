"""What the parsers share: the frames a polars parser returns (`Parsed`) and their way into a writer's Batch,
the line reading of those parsers, and small SQL helpers for the loaders DuckDB runs.

A parser never drops a line silently: each data line of a file ends up either in `rows` (with its
`source_line`) or in `rejects` with a reason code and a message, so lines_read = loaded + quarantined.
A day of files parsed together carries a `file` column in both: the file's position in the day's list."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ..landing import LandedFile
from ..specs import Batch

REJECT_SCHEMA = {"source_line": pl.Int64, "reason": pl.String, "message": pl.String, "raw_text": pl.String}
FILE = "file"  # a day parsed at once: which of the day's files a row or reject came from (its index)


@dataclass
class Parsed:
    rows: pl.DataFrame
    rejects: pl.DataFrame

    @property
    def lines_read(self) -> int:
        return self.rows.height + self.rejects.height


def rejects(frame: pl.DataFrame, reason: str, message: str | pl.Expr) -> pl.DataFrame:
    """Turn the (source_line, text) rows of `frame` into quarantine rows."""
    msg = message if isinstance(message, pl.Expr) else pl.lit(message)
    tagged = [pl.col(FILE)] if FILE in frame.columns else []
    return frame.select(
        pl.col("source_line"),
        pl.lit(reason).alias("reason"),
        msg.cast(pl.String).alias("message"),
        pl.col("text").alias("raw_text"),
        *tagged,
    ).cast(REJECT_SCHEMA)


DUCKDB_TYPES = {
    pl.String: "varchar",
    pl.Int64: "bigint",
    pl.Float64: "double",
    pl.Boolean: "boolean",
    pl.Datetime("us"): "timestamp",
    pl.Datetime("us", "UTC"): "timestamptz",
    pl.List(pl.String): "varchar[]",
}


GLOB_CHARACTERS = set("*?[]{}")


def glob_safe(path: Path, scratch: Path) -> Path:
    """A path DuckDB's readers take as a file, not a pattern: a name holding `*`, `?`, `[`, `]` or braces is read
    through a link in `scratch` (a pattern would read one file twice and another not at all)."""
    if not GLOB_CHARACTERS & set(str(path)):
        return path
    link = scratch / f"link-{len(list(scratch.iterdir()))}{''.join(path.suffixes[-2:])}"
    link.symlink_to(path.resolve())
    return link


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_columns(schema: dict[str, pl.DataType]) -> dict[str, str]:
    """A parser's frame schema as the raw table's columns."""
    return {column: DUCKDB_TYPES[dtype] for column, dtype in schema.items()}


def day_of_files(parse: Callable[[Path], Parsed], paths: list[Path]) -> Parsed:
    """Each file parsed on its own, as one Parsed whose rows and rejects carry the file's index (FILE)."""
    parsed = [parse(p) for p in paths]
    return Parsed(
        pl.concat([p.rows.with_columns(pl.lit(i, pl.Int32).alias(FILE)) for i, p in enumerate(parsed)]),
        pl.concat([p.rejects.with_columns(pl.lit(i, pl.Int32).alias(FILE)) for i, p in enumerate(parsed)]),
    )


def batch_as_parsed(frame: pl.DataFrame, columns: list[str]) -> Parsed:
    """A batch's rows read back as frames: the loaded rows' `columns`, and the rejects (a file at a look, tests)."""
    rejected = frame.filter(pl.col("reject_reason").is_not_null())
    return Parsed(
        frame.filter(pl.col("reject_reason").is_null()).select(columns),
        rejected.select("source_line", reason="reject_reason", message="reject_message", raw_text="reject_text").cast(
            REJECT_SCHEMA
        ),
    )


def frames_batch(parsed: Parsed, files: list[LandedFile]) -> Batch:
    """A day parsed into frames (rows and rejects tagged with their FILE), as the writer takes a batch."""
    source_file = pl.col(FILE).replace_strict(dict(enumerate(f.name for f in files)), return_dtype=pl.String)
    rows = parsed.rows.select(
        pl.exclude(FILE),
        source_file=source_file,
        reject_reason=pl.lit(None, pl.String),
        reject_message=pl.lit(None, pl.String),
        reject_text=pl.lit(None, pl.String),
    )
    rejected = parsed.rejects.select(
        "source_line",
        source_file=source_file,
        reject_reason="reason",
        reject_message="message",
        reject_text="raw_text",
    )
    return Batch("select * from parsed_lines", {"parsed_lines": pl.concat([rows, rejected], how="diagonal_relaxed")})


def _lines(path: Path) -> list[str]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    lines = raw.decode("utf-8", errors="replace").removeprefix("\ufeff").split("\n")  # a byte order mark is no text
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_lines(path: Path) -> pl.DataFrame:
    """(source_line, text) for every line, 1-based; gzip is read transparently. Bytes that are not UTF-8
    become U+FFFD so the line can still be quarantined with its number."""
    return _framed(pl.DataFrame({"text": _lines(path)}, schema={"text": pl.String}).with_row_index("source_line", 1))


def read_day_lines(paths: list[Path]) -> pl.DataFrame:
    """(file, source_line, text) for every line of every file, as read_lines gives them, in one frame: a day of
    small files costs a read each, not a frame each."""
    texts: list[str] = []
    counts = []
    for path in paths:
        lines = _lines(path)
        texts.extend(lines)
        counts.append(len(lines))
    files = pl.DataFrame({FILE: range(len(paths)), "n": counts}, schema={FILE: pl.Int32, "n": pl.Int64})
    numbered = files.filter(pl.col("n") > 0).select(
        pl.col(FILE).repeat_by("n").explode(), source_line=pl.int_ranges(1, pl.col("n") + 1).explode()
    )
    return _framed(numbered.with_columns(text=pl.Series(texts, dtype=pl.String)))


def _framed(lines: pl.DataFrame) -> pl.DataFrame:
    return lines.with_columns(pl.col("source_line").cast(pl.Int64), pl.col("text").str.strip_suffix("\r"))


def split_bad_encoding(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    bad = pl.col("text").str.contains("\ufffd", literal=True)
    return lines.filter(~bad), rejects(lines.filter(bad), "invalid_utf8", "line holds bytes that are not UTF-8")
