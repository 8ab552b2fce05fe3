"""The static side of the synthetic fleet: hosts, GPUs, down windows, the org and its models."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import numpy as np

from .config import SKUS, FleetConfig

REGIONS = {"slurm-a": "us-east-1", "k8s-b": "us-east-1", "serve-c": "us-west-2"}


@dataclass
class Host:
    host_id: str
    cluster: str
    pool: str  # training | inference
    sku: str  # key of SKUS
    gpu_count: int
    reservation: str  # none | dr_buffer | push_buffer
    valid_from_s: int
    gpu_uuids: list[str]
    down: list[tuple[int, int, str]] = field(default_factory=list)  # (start_s, end_s, planned|unplanned)
    mig: tuple[tuple[int, str], ...] = ()  # each GPU's MIG instances (GPU_I_ID, profile); none: whole GPUs

    @property
    def schedulable(self) -> bool:
        return self.reservation == "none"

    def is_down(self, t: int) -> bool:
        return any(a <= t < b for a, b, _ in self.down)


@dataclass
class Org:
    teams: list[str]
    users: dict[str, str]  # user -> team
    projects: dict[str, str]  # project -> team
    models: dict[str, str]  # model -> project


def _uuid(rng: np.random.Generator) -> str:
    return "GPU-" + str(uuid.UUID(bytes=rng.bytes(16), version=4))


def build_hosts(cfg: FleetConfig, rng: np.random.Generator) -> list[Host]:
    hosts: list[Host] = []
    layout = [
        ("slurm-a", "training", cfg.slurm_hosts),
        ("k8s-b", "training", cfg.k8s_hosts),
        ("serve-c", "inference", cfg.inference_hosts),
    ]
    for cluster, pool, per_sku in layout:
        for sku, n in per_sku.items():
            for i in range(n):
                name = f"{cluster.split('-')[0]}-{SKUS[sku].short}-{i + 1:03d}"
                gpus = [_uuid(rng) for _ in range(cfg.gpus_per_host)]
                hosts.append(Host(name, cluster, pool, sku, cfg.gpus_per_host, "none", 0, gpus))
    training = [h for h in hosts if h.pool == "training"]
    inference = [h for h in hosts if h.pool == "inference"]
    for h in training[-cfg.dr_buffer_hosts :] if cfg.dr_buffer_hosts else []:
        h.reservation = "dr_buffer"
    for h in inference[-cfg.push_buffer_hosts :] if cfg.push_buffer_hosts else []:
        h.reservation = "push_buffer"
    # one host is racked mid-way, so "GPU existed" is not the same as "GPU in the first file"
    late = [h for h in training if h.reservation == "none"][-1]
    late.valid_from_s = min(cfg.horizon_s // 2, 36 * 3600) // 3600 * 3600
    _add_down_windows(cfg, rng, hosts)
    return hosts


def _add_down_windows(cfg: FleetConfig, rng: np.random.Generator, hosts: list[Host]) -> None:
    candidates = [h for h in hosts if h.reservation == "none"]
    # planned maintenance: one host per day-pair, 4 h starting on the hour
    for d in range(0, cfg.days, 2):
        h = candidates[int(rng.integers(len(candidates)))]
        start = max(h.valid_from_s, d * 86400 + int(rng.integers(8, 16)) * 3600)
        h.down.append((start, min(start + 4 * 3600, cfg.horizon_s), "planned"))
    # unplanned outages: about one a day across the fleet, 1-6 h, not aligned to the hour
    for _ in range(cfg.days):
        h = candidates[int(rng.integers(len(candidates)))]
        start = int(rng.integers(h.valid_from_s, cfg.horizon_s - 3600))
        start -= start % cfg.sample_interval_s
        length = int(rng.integers(3600, 6 * 3600)) // cfg.sample_interval_s * cfg.sample_interval_s
        if not any(a < start + length and start < b for a, b, _ in h.down):
            h.down.append((start, min(start + length, cfg.horizon_s), "unplanned"))


TEAM_NAMES = ["vision", "ranking", "llm-core", "speech", "ads", "safety", "search", "robotics"]
FIRST = [
    "alice",
    "bilal",
    "chen",
    "dana",
    "emeka",
    "farah",
    "goran",
    "hana",
    "ivan",
    "jun",
    "kemal",
    "lena",
    "mateo",
    "nadia",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sven",
    "tara",
    "umar",
    "vera",
]


def build_org(cfg: FleetConfig, rng: np.random.Generator) -> Org:
    teams = TEAM_NAMES[: cfg.teams]
    names = [f"{FIRST[i % len(FIRST)]}{i // len(FIRST) or ''}" for i in range(cfg.teams * cfg.users_per_team)]
    users = {u: teams[i // cfg.users_per_team] for i, u in enumerate(names)}
    projects = {f"{t}-{p}": t for t in teams for p in ("base", "exp")}
    models = {f"{p}-m{k}": p for p in projects for k in range(1, 4)}
    return Org(teams, users, projects, models)
