"""The landing area's layout: <landing>/<table>/dt=YYYY-MM-DD/<files>. The table name is also the raw table, the
dbt source table and, with the source name, the Dagster asset key. A landed file is fingerprinted once, when it is
listed: the same fingerprint tells whether the day changed and goes into its audit row."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LandedFile:
    path: Path
    name: str  # relative to the landing area: what raw.* and the audit call the file
    size: int
    sha256: str

    @classmethod
    def of(cls, path: Path, landing: Path) -> LandedFile:
        return cls(path, relative(path, landing), path.stat().st_size, file_sha256(path))


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
    return sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})


def landed_partitions(landing: Path) -> list[str]:
    return sorted({p.name[3:] for p in landing.glob("*/dt=*") if p.is_dir()})
