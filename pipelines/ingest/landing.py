"""The landing area's layout: <landing>/<table>/dt=YYYY-MM-DD/<files>. The table name is also the raw table, the
dbt source table and, with the source name, the Dagster asset key. A landed file is fingerprinted once, when it is
listed: the same fingerprint tells whether the day changed and goes into its audit row."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib import settings


@dataclass(frozen=True)
class LandedFile:
    path: Path
    name: str  # relative to the landing area: what raw.* and the audit call the file
    size: int
    sha256: str
    problem: str | None = None  # why the file cannot be read: it is audited as unreadable, and the day loads

    @classmethod
    def of(cls, path: Path, landing: Path) -> LandedFile:
        name = relative(path, landing)
        try:
            size = path.stat().st_size
            digest = file_sha256(path)
            if path.suffix == ".gz":
                _check_gzip(path)
        except (OSError, EOFError, zlib.error) as error:  # unreadable, a dangling link, a broken or fake gzip
            why = getattr(error, "strerror", None) or str(error)
            return cls(path, name, 0, "", f"{type(error).__name__}: {why}")
        return cls(path, name, size, digest)


def _check_gzip(path: Path) -> None:
    """Read a gzip file through to its end: a truncated or fake one fails here, not in the middle of a load."""
    with gzip.open(path, "rb") as fh:
        while fh.read(1 << 20):
            pass


def relative(path: Path, landing: Path) -> str:
    return path.relative_to(landing).as_posix() if path.is_relative_to(landing) else path.name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def landed(paths: list[Path], landing: Path) -> list[LandedFile]:
    return [LandedFile.of(p, landing) for p in paths]


def day_paths(landing: Path, table: str, patterns: tuple[str, ...], day: str) -> list[Path]:
    """The files landed for one table and day that match its patterns, in name order."""
    folder = landing / table / f"dt={day}"
    # a link whose target is gone is listed too: it is audited as unreadable, not silently passed over
    return sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file() or p.is_symlink()})


def landed_partitions(landing: Path, first: str | None = None) -> list[str]:
    """The days with a folder in the landing area that are partitions (see `stray_day_folders` for the others)."""
    return sorted({p.name[3:] for p in landing.glob("*/dt=*") if p.is_dir() and is_partition(p.name[3:], first)})


def stray_day_folders(landing: Path, first: str | None = None) -> list[str]:
    """`<table>/dt=<x>` folders whose x is not a partition day (`dt=2025-13-01`, a day before the first): their
    files are never loaded, so they are reported instead."""
    return sorted(
        p.relative_to(landing).as_posix()
        for p in landing.glob("*/dt=*")
        if p.is_dir() and not is_partition(p.name[3:], first)
    )


def is_partition(day: str, first: str | None = None) -> bool:
    """A UTC day, written YYYY-MM-DD, on or after the first partition day: `first` (the loaded definitions'),
    else the configured one; with neither, every day is (the first is then the earliest landed)."""
    first = first or settings.configured_first_partition()
    return settings.is_day(day) and (first is None or day >= first)
