"""What every parser returns, and the line reading they share.

A parser never drops a line silently: each data line of a file ends up either in `rows` (with its
`source_line`) or in `rejects` with a reason code and a message, so lines_read = loaded + quarantined."""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import polars as pl

REJECT_SCHEMA = {"source_line": pl.Int64, "reason": pl.String, "message": pl.String, "raw_text": pl.String}


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
    return frame.select(
        pl.col("source_line"), reason=pl.lit(reason), message=msg.cast(pl.String), raw_text=pl.col("text")
    ).cast(REJECT_SCHEMA)


def no_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def read_lines(path: Path) -> pl.DataFrame:
    """(source_line, text) for every line, 1-based; gzip is read transparently. Bytes that are not UTF-8
    become U+FFFD so the line can still be quarantined with its number."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    frame = pl.DataFrame({"text": lines}, schema={"text": pl.String})
    return frame.with_row_index("source_line", offset=1).with_columns(
        pl.col("source_line").cast(pl.Int64), pl.col("text").str.strip_suffix("\r")
    )


def split_bad_encoding(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    bad = pl.col("text").str.contains("\ufffd", literal=True)
    return lines.filter(~bad), rejects(lines.filter(bad), "invalid_utf8", "line holds bytes that are not UTF-8")
