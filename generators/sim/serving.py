"""Inference side: models in the registry, serving deployments holding inference GPUs, and their traffic.

Traffic per model follows a long tail (Zipf-like base rates, a few models with almost no calls) times a diurnal
curve, so idle inference troughs and low-traffic models exist for the marts to find."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import FleetConfig
from .fleet import Host, Org

CAPACITY_RPS_PER_GPU = 0.6


@dataclass
class Deployment:
    deployment_id: str
    model: str
    version: int
    host: str
    gpus: list[int]
    start_s: int
    end_s: int | None
    base_rps: float
    per_request_logs: bool  # LLM endpoints log every request; the others only hourly aggregates
    mig_profile: str | None = None  # its replicas hold a MIG instance of this profile on each of `gpus`


@dataclass
class StageEvent:
    t: int
    model: str
    version: int | None
    from_stage: str | None
    to_stage: str
    run_id: str | None = None


def diurnal(t_s: np.ndarray) -> np.ndarray:
    """Relative load by time of day: trough near 03:00 UTC, peak mid-afternoon."""
    h = (t_s % 86400) / 3600.0
    return 0.25 + 0.75 * (1 + np.sin(2 * np.pi * (h - 9) / 24)) / 2


def build_serving(cfg: FleetConfig, rng: np.random.Generator, hosts: list[Host], org: Org):
    slots = [(h.host_id, g) for h in hosts if h.pool == "inference" and h.schedulable for g in range(h.gpu_count)]
    models = list(org.models)
    deployed = [models[int(i)] for i in rng.choice(len(models), min(cfg.deployed_models, len(models)), replace=False)]
    deployments: list[Deployment] = []
    events: list[StageEvent] = []
    cursor = 0
    for rank, model in enumerate(deployed):
        n = 2 if rank < 2 else 1
        gpus_here = [s for s in slots[cursor : cursor + n]]
        if len(gpus_here) < n:
            break
        cursor += n
        base = 0.9 / (rank + 1) ** 1.4 if rank < len(deployed) - 2 else 0.0004  # the last two are barely used
        version = int(rng.integers(2, 6))
        since = -int(rng.integers(5, 40)) * 86400
        deployments.append(
            Deployment(
                f"dep-{len(deployments) + 1:03d}",
                model,
                version,
                gpus_here[0][0],
                [g for _, g in gpus_here],
                since,
                None,
                base,
                rank % 2 == 0,
            )
        )
        # history before the window: days spent in experimentation, training and evaluation vary by model
        stay_days = rng.gamma(2.0, [6.0, 4.0, 2.0])
        entered = since - np.concatenate([np.cumsum(stay_days[::-1])[::-1], [0.0]]) * 86400
        transitions = [
            (None, "experimentation"),
            ("experimentation", "training"),
            ("training", "evaluation"),
            ("evaluation", "deployed"),
        ]
        for k, ((a, b), t) in enumerate(zip(transitions, entered)):
            events.append(StageEvent(int(t), model, version if k >= 2 else None, a, b))
    # the barely used model is retired on the last day
    last = deployments[-1]
    last.end_s = cfg.horizon_s - 6 * 3600
    events.append(StageEvent(last.end_s, last.model, last.version, "deployed", "retired"))
    return deployments, events, slots[cursor:]


def lifecycle_from_training(
    jobs,
    deployments: list[Deployment],
    events: list[StageEvent],
    free_slots,
    rng: np.random.Generator,
    cfg: FleetConfig,
) -> dict[str, int]:
    """Models enter training with their first job, get a version when a run completes, and some get deployed.
    Returns run_id -> registered version for runs that produced one."""
    stage = {e.model: e.to_stage for e in sorted(events, key=lambda e: e.t)}
    versions = {d.model: d.version for d in deployments}
    registered: dict[str, int] = {}
    for job in sorted((j for j in jobs if j.kind == "training" and j.attempts), key=lambda j: j.attempts[0].start):
        t0 = job.attempts[0].start
        if job.model not in stage:
            events.append(StageEvent(t0 - 86400, job.model, None, None, "experimentation"))
            stage[job.model] = "experimentation"
        if stage[job.model] == "experimentation":
            events.append(StageEvent(t0, job.model, None, "experimentation", "training"))
            stage[job.model] = "training"
        if job.final_state != "completed":
            continue
        end = job.attempts[-1].end
        versions[job.model] = versions.get(job.model, 0) + 1
        registered[job.job_id] = versions[job.model]
        if stage[job.model] == "training":
            events.append(StageEvent(end, job.model, versions[job.model], "training", "evaluation"))
            stage[job.model] = "evaluation"
            go_live = end + int(rng.integers(2, 10)) * 3600
            if free_slots and rng.random() < 0.5 and go_live < cfg.horizon_s:
                host, gpu = free_slots.pop(0)
                events.append(StageEvent(go_live, job.model, versions[job.model], "evaluation", "deployed"))
                deployments.append(
                    Deployment(
                        f"dep-{len(deployments) + 1:03d}",
                        job.model,
                        versions[job.model],
                        host,
                        [gpu],
                        go_live,
                        None,
                        float(rng.uniform(0.01, 0.2)),
                        bool(rng.random() < 0.5),
                    )
                )
                stage[job.model] = "deployed"
    return registered


def request_times(d: Deployment, horizon_s: int, rng: np.random.Generator) -> np.ndarray:
    """Poisson arrivals per minute with the diurnal rate; seconds (float) since the fleet start."""
    start, end = max(d.start_s, 0), min(d.end_s if d.end_s is not None else horizon_s, horizon_s)
    minutes = np.arange(start // 60, end // 60)
    counts = rng.poisson(d.base_rps * 60 * diurnal(minutes * 60.0))
    base = np.repeat(minutes * 60.0, counts)
    return np.sort(base + rng.random(base.size) * 60)


def load_ratio(d: Deployment, t_s: np.ndarray) -> np.ndarray:
    """Share of the deployment's GPU capacity the traffic uses at time t."""
    return np.clip(d.base_rps * diurnal(t_s) / (CAPACITY_RPS_PER_GPU * len(d.gpus)), 0, 1)
