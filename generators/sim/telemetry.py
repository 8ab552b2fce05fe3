"""Per-GPU samples consistent with what runs on each GPU: a vectorised lookup from sample time to the phase
occupying the GPU, then phase-specific utilisation, memory, power and temperature with noise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from .config import SKUS, FleetConfig
from .fleet import Host
from .names import k8s_namespace, k8s_pod
from .serving import Deployment, load_ratio

# phase -> (util % mean, sd, sm_active, tensor_active, dram_active, fb used fraction, power fraction above idle)
PHASE_PROFILE = {
    "idle": (0.0, 0.0, 0.0, 0.0, 0.0, 0.005, 0.0),
    "init": (4.0, 3.0, 0.02, 0.0, 0.01, 0.15, 0.05),
    "compile": (35.0, 15.0, 0.20, 0.02, 0.05, 0.35, 0.25),
    "train": (96.0, 3.0, 0.78, 0.50, 0.45, 0.88, 0.85),
    "ckpt": (3.0, 2.0, 0.01, 0.0, 0.10, 0.88, 0.10),
    "stall": (12.0, 8.0, 0.06, 0.03, 0.05, 0.88, 0.15),
    "publish": (15.0, 10.0, 0.10, 0.02, 0.20, 0.60, 0.15),
    "evaluation": (70.0, 15.0, 0.55, 0.30, 0.30, 0.70, 0.60),
    "notebook": (6.0, 8.0, 0.04, 0.02, 0.02, 0.30, 0.05),
    "serve": (0.0, 3.0, 0.0, 0.0, 0.0, 0.70, 0.0),  # util/activity/power scale with traffic, below
}
PHASES = list(PHASE_PROFILE)
XID_BEFORE_FAILURE_S = 900


@dataclass
class Occupancy:
    t0: int
    t1: int
    phase: str
    job: dict  # labels: hpc_job or pod/namespace/container
    deployment: Deployment | None = None
    xid: int = 0


def occupancy_by_gpu(jobs, deployments: list[Deployment]) -> dict[tuple[str, int], list[Occupancy]]:
    occ: dict[tuple[str, int], list[Occupancy]] = {}
    for job in jobs:
        for a in job.attempts:
            if job.cluster == "slurm-a":
                labels = {"hpc_job": a.sched_job_id}
            else:
                container = {"training": "trainer"}.get(job.kind, job.kind)
                labels = {
                    "pod": k8s_pod(job, a.sched_job_id),
                    "namespace": k8s_namespace(job, a.sched_job_id),
                    "container": container,
                }
            for i, (host, gpu) in enumerate(a.placement):
                items = occ.setdefault((host, gpu), [])
                items.extend(Occupancy(s.t0, s.t1, s.phase, labels) for s in a.segments)
                if a.outcome == "failed_infra" and i == 0:  # the failing GPU logs an XID before the crash
                    items.append(Occupancy(max(a.start, a.end - XID_BEFORE_FAILURE_S), a.end, "xid", labels, xid=79))
    for d in deployments:
        for gpu in d.gpus:
            occ.setdefault((d.host, gpu), []).append(
                Occupancy(d.start_s, d.end_s if d.end_s is not None else 1 << 40, "serve", {}, d)
            )
    return occ


def host_samples(cfg: FleetConfig, host: Host, occ, rng: np.random.Generator) -> pl.DataFrame:
    """All samples of one host over the horizon (the host's scrape instants, minus its down windows)."""
    ts = np.arange(host.valid_from_s, cfg.horizon_s, cfg.sample_interval_s, dtype=np.int64)
    up = np.ones(ts.size, bool)
    for a, b, _ in host.down:
        up &= ~((ts >= a) & (ts < b))
    ts = ts[up]
    jitter_ms = rng.integers(0, 900, ts.size)
    sku = SKUS[host.sku]
    frames = []
    for gpu in range(host.gpu_count):
        items = sorted((o for o in occ.get((host.host_id, gpu), []) if o.phase != "xid"), key=lambda o: o.t0)
        t0 = np.array([o.t0 for o in items], dtype=np.int64)
        idx = np.searchsorted(t0, ts, side="right") - 1
        t1 = np.array([o.t1 for o in items] or [0], dtype=np.int64)
        active = (idx >= 0) & (ts < t1[np.clip(idx, 0, None)])
        phase_code = np.array([PHASES.index(o.phase) for o in items] or [0])
        code = np.where(active, phase_code[np.clip(idx, 0, None)], 0)
        prof = np.array([PHASE_PROFILE[p] for p in PHASES])[code]
        util = prof[:, 0] + rng.normal(0, 1, ts.size) * prof[:, 1]
        act = prof[:, 2:5] * (1 + rng.normal(0, 0.08, (ts.size, 3)))
        power_frac = prof[:, 6] * (1 + rng.normal(0, 0.05, ts.size))
        serve = code == PHASES.index("serve")
        if serve.any():
            load = np.zeros(ts.size)
            for k in np.flatnonzero(serve):
                load[k] = load_ratio(items[idx[k]].deployment, ts[k : k + 1].astype(float))[0]
            util[serve] = 3 + 90 * load[serve] + rng.normal(0, 2, serve.sum())
            act[serve] = np.outer(load[serve], [0.7, 0.4, 0.3])
            power_frac[serve] = 0.08 + 0.8 * load[serve]
        labels = [items[i].job if ok else {} for i, ok in zip(idx, active)]
        xid = np.zeros(ts.size, np.int64)
        for o in occ.get((host.host_id, gpu), []):
            if o.phase == "xid":
                xid[(ts >= o.t0) & (ts < o.t1)] = o.xid
        fb_used = np.clip(prof[:, 5] * sku.fb_total_mib * (1 + rng.normal(0, 0.02, ts.size)), 300, sku.fb_total_mib - 1)
        power = sku.idle_w + np.clip(power_frac, 0, 1) * (sku.tdp_w - sku.idle_w)
        frames.append(
            pl.DataFrame(
                {
                    "ts_ms": ts * 1000 + jitter_ms,
                    "gpu": np.full(ts.size, gpu),
                    "uuid": [host.gpu_uuids[gpu]] * ts.size,
                    "util_pct": np.clip(np.round(util), 0, 100).astype(np.int64),
                    "sm_active": np.clip(act[:, 0], 0, 1),
                    "tensor_active": np.clip(act[:, 1], 0, 1),
                    "dram_active": np.clip(act[:, 2], 0, 1),
                    "fb_used_mib": fb_used.astype(np.int64),
                    "fb_free_mib": (sku.fb_total_mib - fb_used.astype(np.int64)),
                    "power_w": np.round(power + rng.normal(0, 1.5, ts.size), 3),
                    "temp_c": np.round(30 + 45 * np.clip(power_frac, 0, 1) + rng.normal(0, 1, ts.size)).astype(
                        np.int64
                    ),
                    "xid": xid,
                    "hpc_job": [lab.get("hpc_job", "") for lab in labels],
                    "pod": [lab.get("pod", "") for lab in labels],
                    "namespace": [lab.get("namespace", "") for lab in labels],
                    "container": [lab.get("container", "") for lab in labels],
                }
            )
        )
    return pl.concat(frames).sort("ts_ms", "gpu")
