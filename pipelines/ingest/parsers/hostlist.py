"""Slurm hostlist expressions (`node-[01-03,07],gpu7`) both ways, as `scontrol show hostnames` does."""

from __future__ import annotations

import re
from itertools import groupby

_TOKEN = re.compile(r"([^,\[]+)(?:\[([^\]]+)\])?([^,\[]*)")
# the most hosts one expression may name: above the largest GPU clusters' node counts (~10,000 nodes), so a
# 90-byte line cannot ask for millions of names
MAX_HOSTS = 65_536


class HostlistTooLarge(ValueError):
    pass


def expand_hostlist(expr: str, limit: int = MAX_HOSTS) -> list[str]:
    """`cpn-f13-03-[01-02],k10n26s01` -> ['cpn-f13-03-01', 'cpn-f13-03-02', 'k10n26s01']. An expression naming
    more than `limit` hosts raises HostlistTooLarge before any is expanded."""
    if not expr or expr.strip() in ("None assigned", "(null)"):
        return []
    hosts: list[str] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise ValueError(f"bad hostlist expression {expr!r} at {pos}")
        prefix, ranges, suffix = m.groups()
        if ranges is None:
            hosts.append(prefix + suffix)
        else:
            for part in ranges.split(","):
                lo, _, hi = part.partition("-")
                width = len(lo)
                span = range(int(lo), int(hi or lo) + 1)
                if len(hosts) + len(span) > limit:
                    raise HostlistTooLarge(f"hostlist expression names more than {limit:,} hosts")
                for n in span:
                    hosts.append(f"{prefix}{n:0{width}d}{suffix}")
        pos = m.end()
        if pos < len(expr) and expr[pos] == ",":
            pos += 1
    return hosts


def compress_hostlist(hosts: list[str]) -> str:
    """Inverse of expand_hostlist for names ending in a zero-padded number."""
    parts = []
    named = [(h, re.match(r"(.*?)(\d+)$", h)) for h in sorted(hosts)]
    for prefix, group in groupby(named, key=lambda hm: hm[1].group(1) if hm[1] else hm[0]):
        items = [m for _, m in group]
        if items[0] is None or len(items) == 1:
            parts.append(items[0].string if items[0] else prefix)
            continue
        width = len(items[0].group(2))
        nums = [int(m.group(2)) for m in items]
        runs, lo = [], nums[0]
        for a, b in zip(nums, nums[1:] + [None]):
            if b != a + 1:
                runs.append(f"{lo:0{width}d}" + (f"-{a:0{width}d}" if a != lo else ""))
                lo = b
        parts.append(f"{prefix}[{','.join(runs)}]")
    return ",".join(parts)
