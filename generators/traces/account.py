"""A trace's account of every row: written to the landing area (through the one landing writer,
generators/landing.py), or rejected with a reason (a row the warehouse cannot represent). The rejects land too
(`adapter_rejects`), so they are counted in the warehouse, never silently dropped."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from generators.landing import Landing, empty_frame


@dataclass
class TraceAccount:
    read: int = 0
    written: int = 0
    rejected: Counter = field(default_factory=Counter)

    @property
    def reconciles(self) -> bool:
        return self.read == self.written + sum(self.rejected.values())


class DatasetLanding:
    """A fresh landing area for one dataset (the shared writer), with the account of the traces it reads."""

    def __init__(self, root: Path, dataset: str, traces: Path):
        self.files = Landing(root)
        self.root, self.dataset, self.traces = root, dataset, traces
        self.accounts: dict[str, TraceAccount] = {}
        self._rejects: list[pl.DataFrame] = []

    def trace(self, relative: str) -> Path:
        return self.traces / relative

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

    def write(self, table: str, day: date, name: str, rows: pl.DataFrame | Iterable[dict], **options) -> None:
        self.files.write(table, day, name, rows, **options)

    def write_by_day(self, table: str, frame: pl.DataFrame, day: pl.Expr, name: str, **options) -> None:
        self.files.write_by_day(table, frame, day, name, **options)

    def finish(self, coverage: dict[str, tuple[str, str]]) -> dict:
        """Land the coverage declaration and the rejects; return (and keep beside the landing) the account."""
        day = self.files.first_day or date(2016, 1, 1)
        declared = pl.DataFrame(
            [(self.dataset, subject, level, note) for subject, (level, note) in coverage.items()],
            schema=["dataset", "subject", "coverage", "note"],
            orient="row",
        )
        self.write("dataset_coverage", day, f"{self.dataset}.csv", declared)
        rejects = pl.concat(self._rejects) if self._rejects else empty_frame("adapter_rejects")
        self.write("adapter_rejects", day, f"{self.dataset}.csv", rejects)
        account = {
            f: {"read": a.read, "written": a.written, "rejected": dict(a.rejected), "reconciles": a.reconciles}
            for f, a in sorted(self.accounts.items())
        }
        (self.root / "_dataset.json").write_text(json.dumps({"dataset": self.dataset, "traces": account}, indent=1))
        return account
