"""The published file's versions: complete DuckDB files in a hidden folder beside it, the published path being a
hard link to the current one. A publish writes only a version that is not current — the previous one, brought
up to date — and then moves the link in one rename. A reader opens the path and holds that version's file: it
never waits, never sees a version being written, and a crash before the rename leaves the current one as it was.

A reader still holding the previous version keeps a lock on its file (DuckDB locks a file it opens); the publish
then sets that version aside (unlinked: the reader keeps reading it) and writes a new one in full."""

from __future__ import annotations

import fcntl
import os
import shutil
import struct
from pathlib import Path


class Versions:
    def __init__(self, published: Path):
        self.published = published
        self.folder = published.parent / f".{published.name}.versions"

    def all(self) -> list[Path]:
        """Oldest first."""
        return sorted(self.folder.glob("*.duckdb"), key=lambda p: int(p.stem))

    def current(self) -> Path | None:
        """The version the published path links to, if it is one of ours."""
        try:
            linked = self.published.stat()
        except FileNotFoundError:
            return None
        return next((v for v in self.all() if os.path.samestat(v.stat(), linked)), None)

    def standby(self) -> Path | None:
        """The newest version that is not current: what the next publish brings up to date."""
        current = self.current()
        return next((v for v in reversed(self.all()) if v != current), None)

    def new(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        numbers = [int(v.stem) for v in self.all()]
        return self.folder / f"{max(numbers, default=0) + 1}.duckdb"

    def spare(self, version: Path) -> Path:
        """A standby made as a file copy of `version` (closed and synced), so the next publish brings it up to date
        instead of writing a version in full."""
        standby = self.new()
        shutil.copyfile(version, standby)
        fsync_file(standby)
        return standby

    def make_current(self, version: Path) -> None:
        """Point the published path at `version` in one rename (durable once it returns), then keep only it and the
        version it replaced, which becomes the standby."""
        before = self.current()
        link = self.published.with_name(f".{self.published.name}.{os.getpid()}.tmp")
        link.unlink(missing_ok=True)
        os.link(version, link)
        os.replace(link, self.published)
        fsync_dir(self.published.parent)
        for old in self.all():
            if old not in (version, before):
                discard(old)


def held(version: Path) -> bool:
    """Whether a reader has `version` open. DuckDB locks each file it opens with a POSIX record lock, which another
    process's lock would conflict with, but not one of the same process; an open-file-description lock conflicts
    with both, so a reader in this very process is seen too."""
    try:
        fd = os.open(version, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        whole_file = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, whole_file)
    except OSError:
        return True
    finally:
        os.close(fd)  # the probe's lock goes with its file description
    return False


def discard(version: Path) -> None:
    """Remove a version (a reader holding it keeps its open file) and any write-ahead log left beside it."""
    version.unlink(missing_ok=True)
    version.with_name(version.name + ".wal").unlink(missing_ok=True)


def fsync_file(path: Path) -> None:
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
