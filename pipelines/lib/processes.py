"""Whether a process still runs: how stale pool claims and stale publish copies are told from live ones."""

from __future__ import annotations

import os


def process_alive(pid: int | str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
