"""A MIG-partitioned inference host: each A100 cut into four instances (3g.40gb, 2g.20gb and two 1g.10gb, the
board's 7 compute slices), some held by the pods of small models' deployments, the rest free. dcgm-exporter 4.x
reports it as it reports MIG: one series per instance (the parent's `gpu` and `UUID` plus GPU_I_ID and
GPU_I_PROFILE), GR_ENGINE_ACTIVE instead of the GPU_UTIL that MIG does not support, power per physical GPU.

Built from its own random stream, after the rest of the fleet, so adding it changes no other host's data."""

from __future__ import annotations

import numpy as np
import polars as pl

from .config import SKUS, FleetConfig
from .fleet import Host, Org, _uuid
from .serving import CAPACITY_RPS_PER_GPU, Deployment, StageEvent, diurnal

# (GPU_I_ID, profile) of each GPU's instances, as `nvidia-smi mig -lgi` numbers an A100's placements
LAYOUT = ((2, "3g.40gb"), (3, "2g.20gb"), (9, "1g.10gb"), (10, "1g.10gb"))
# model -> (profile, GPUs whose instance of that profile it holds, requests/s at peak)
MODELS = {
    "mig-embedder": ("3g.40gb", (0, 1, 2, 3), 0.5),
    "mig-reranker": ("2g.20gb", tuple(range(8)), 0.3),
    "mig-classifier": ("1g.10gb", (0, 1, 2, 3, 4, 5), 0.08),
}
NAMESPACE = "serving"


def slices(profile: str) -> int:
    return int(profile.split("g.")[0])


def build_mig_host(cfg: FleetConfig, rng: np.random.Generator) -> Host:
    gpus = [_uuid(rng) for _ in range(cfg.gpus_per_host)]
    return Host("serve-a100mig-001", "serve-c", "inference", "A100", cfg.gpus_per_host, "none", 0, gpus, mig=LAYOUT)


def build_mig_serving(
    cfg: FleetConfig, host: Host, org: Org, first_id: int
) -> tuple[list[Deployment], list[StageEvent]]:
    """One deployment per model, a replica (pod <deployment>-<n>) on its profile's instance of each of its GPUs;
    the models join the org under the first project, deployed a week before the window."""
    project = next(iter(org.projects))
    deployments, events = [], []
    for k, (model, (profile, gpus, rps)) in enumerate(MODELS.items()):
        org.models[model] = project
        since = -7 * 86400
        deployments.append(
            Deployment(f"dep-{first_id + k:03d}", model, 1, host.host_id, list(gpus), since, None, rps, True, profile)
        )
        for j, (a, b) in enumerate(
            [
                (None, "experimentation"),
                ("experimentation", "training"),
                ("training", "evaluation"),
                ("evaluation", "deployed"),
            ]
        ):
            events.append(StageEvent(since - (4 - j) * 86400, model, 1 if j >= 2 else None, a, b))
    return deployments, events


def mig_load(d: Deployment, t_s: np.ndarray) -> np.ndarray:
    """Share of a replica's instance the traffic uses: the instance serves its slices' part of a GPU's rate."""
    capacity = CAPACITY_RPS_PER_GPU * len(d.gpus) * slices(d.mig_profile) / 7
    return np.clip(d.base_rps * diurnal(t_s) / capacity, 0, 1)


def mig_host_samples(cfg: FleetConfig, host: Host, deployments: list[Deployment], rng) -> pl.DataFrame:
    """Every instance's samples over the horizon; readings per instance, power and temperature per GPU."""
    ts = np.arange(host.valid_from_s, cfg.horizon_s, cfg.sample_interval_s, dtype=np.int64)
    sku = SKUS[host.sku]
    frames = []
    for gpu in range(host.gpu_count):
        busy_slices = np.zeros(ts.size)
        per_instance = []
        for gi, profile in host.mig:
            held = [d for d in deployments if d.mig_profile == profile and gpu in d.gpus]
            # of two instances of a profile, a deployment holds the first
            d = held[0] if held and (gi, profile) == next(x for x in host.mig if x[1] == profile) else None
            load = mig_load(d, ts.astype(float)) if d else np.zeros(ts.size)
            util = np.clip(0.03 + 0.9 * load + rng.normal(0, 0.02, ts.size), 0, 1) if d else np.zeros(ts.size)
            busy_slices += util * slices(profile)
            memory = int(profile.split(".")[1].removesuffix("gb")) * 1024 - 400
            used = np.full(ts.size, int(0.7 * memory) if d else 13)
            pod = f"{d.deployment_id}-{d.gpus.index(gpu)}" if d else ""
            per_instance.append((gi, profile, util, used, memory, pod))
        power = sku.idle_w + busy_slices / 7 * (sku.tdp_w - sku.idle_w) + rng.normal(0, 1.5, ts.size)
        temp = np.round(30 + 45 * busy_slices / 7 + rng.normal(0, 1, ts.size)).astype(np.int64)
        for gi, profile, util, used, memory, pod in per_instance:
            frames.append(
                pl.DataFrame(
                    {
                        "ts_ms": ts * 1000,
                        "gpu": np.full(ts.size, gpu),
                        "uuid": [host.gpu_uuids[gpu]] * ts.size,
                        "gpu_i_id": np.full(ts.size, gi),
                        "gpu_i_profile": [profile] * ts.size,
                        "gr_engine_active": util,
                        "tensor_active": util * 0.45,
                        "dram_active": util * 0.35,
                        "fb_used_mib": used,
                        "fb_free_mib": memory - used,
                        "fb_reserved_mib": np.full(ts.size, 400),
                        "power_w": np.round(power, 3),
                        "temp_c": temp,
                        "pcie_tx_bytes": np.round(util * 2.0e8).astype(np.int64),
                        "pcie_rx_bytes": np.round(util * 9.0e8).astype(np.int64),
                        "pod": [pod] * ts.size,
                        "namespace": [NAMESPACE if pod else ""] * ts.size,
                        "container": ["server" if pod else ""] * ts.size,
                    }
                )
            )
    return pl.concat(frames).sort("ts_ms", "gpu", "gpu_i_id")
