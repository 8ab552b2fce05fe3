"""Writing a trace into the landing area, in the raw formats the production loaders read, with an account of
every trace row: written to the landing area, or rejected with a reason (a row the warehouse cannot represent).
The rejects land too (`adapter_rejects`), so they are counted in the warehouse, never silently dropped."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

REJECT_COLUMNS = ["dataset", "trace_file", "trace_line", "reason", "message", "raw_text"]


@dataclass
class TraceAccount:
    read: int = 0
    written: int = 0
    rejected: Counter = field(default_factory=Counter)

    @property
    def reconciles(self) -> bool:
        return self.read == self.written + sum(self.rejected.values())


class DatasetLanding:
    """A fresh landing area for one dataset: files under <root>/<table>/dt=YYYY-MM-DD/."""

    def __init__(self, root: Path, dataset: str, traces: Path):
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        self.root, self.dataset, self.traces = root, dataset, traces
        self.accounts: dict[str, TraceAccount] = {}
        self._rejects: list[pl.DataFrame] = []
        self._first_day: date | None = None

    def trace(self, relative: str) -> Path:
        return self.traces / relative

    def path(self, table: str, day: date, name: str) -> Path:
        self._first_day = min(self._first_day or day, day)
        p = self.root / table / f"dt={day.isoformat()}" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def read(self, trace_file: str, rows: int) -> None:
        self.accounts.setdefault(trace_file, TraceAccount()).read += rows

    def written(self, trace_file: str, rows: int) -> None:
        self.accounts.setdefault(trace_file, TraceAccount()).written += rows

    def reject(self, trace_file: str, frame: pl.DataFrame, reason: str, message: str) -> None:
        """`frame` holds `trace_line` (1-based, header excluded) and the row's own columns."""
        if frame.is_empty():
            return
        self.accounts.setdefault(trace_file, TraceAccount()).rejected[reason] += frame.height
        row = frame.drop("trace_line")
        self._rejects.append(
            pl.DataFrame(
                {
                    "dataset": self.dataset,
                    "trace_file": trace_file,
                    "trace_line": frame["trace_line"],
                    "reason": reason,
                    "message": message,
                    "raw_text": [json.dumps(r, default=str) for r in row.iter_rows(named=True)],
                }
            )
        )

    def write_by_day(self, table: str, frame: pl.DataFrame, day: pl.Expr, name: str, fmt: str = "csv") -> None:
        """One file per UTC day (`day` gives each row's date): a measurement lands in its own day's partition."""
        for (key,), part in frame.group_by(day.alias("_day"), maintain_order=True):
            self.write(table, key, name, part.drop("_day", strict=False), fmt)

    def write(self, table: str, day: date, name: str, frame: pl.DataFrame, fmt: str = "csv") -> None:
        path = self.path(table, day, name)
        if fmt == "parquet":
            frame.write_parquet(path)
        elif fmt == "jsonl":
            frame.write_ndjson(path)
        elif fmt == "sacct":  # sacct --parsable2: a header, |-separated, nothing quoted
            frame.write_csv(path, separator="|", quote_style="never")
        else:
            frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M:%S%.f")

    def finish(self, coverage: dict[str, tuple[str, str]]) -> dict:
        """Land the coverage declaration and the rejects; return (and keep beside the landing) the account."""
        day = self._first_day or date(2016, 1, 1)
        declared = pl.DataFrame(
            [(self.dataset, subject, level, note) for subject, (level, note) in coverage.items()],
            schema=["dataset", "subject", "coverage", "note"],
            orient="row",
        )
        self.write("dataset_coverage", day, f"{self.dataset}.csv", declared)
        rejects = (
            pl.concat(self._rejects)
            if self._rejects
            else pl.DataFrame(schema={c: pl.Int64 if c == "trace_line" else pl.String for c in REJECT_COLUMNS})
        )
        self.write("adapter_rejects", day, f"{self.dataset}.csv", rejects)
        account = {
            f: {"read": a.read, "written": a.written, "rejected": dict(a.rejected), "reconciles": a.reconciles}
            for f, a in sorted(self.accounts.items())
        }
        (self.root / "_dataset.json").write_text(json.dumps({"dataset": self.dataset, "traces": account}, indent=1))
        return account
