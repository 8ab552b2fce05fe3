"""Knobs of the synthetic fleet. One frozen dataclass so a seed plus a config fully determines the output."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta


@dataclass(frozen=True)
class GpuSku:
    model: str  # as NVML reports it (dcgm-exporter modelName / nvidia-smi name)
    short: str  # as the scheduler knows it (gres type, node selector)
    fb_total_mib: int
    tdp_w: float
    idle_w: float
    usd_per_gpu_hour: float


SKUS = {
    "A100": GpuSku("NVIDIA A100-SXM4-80GB", "a100", 81920, 400.0, 60.0, 2.40),
    "H100": GpuSku("NVIDIA H100 80GB HBM3", "h100", 81559, 700.0, 70.0, 4.10),
    "L4": GpuSku("NVIDIA L4", "l4", 23034, 72.0, 16.0, 0.80),
}


class Clock:
    """Simulated time: seconds since `start` (UTC midnight) as datetimes, day numbers as the dates they land as."""

    start: datetime

    def at(self, t_s: float) -> datetime:
        return self.start + timedelta(seconds=float(t_s))

    def date_of(self, day: int) -> date:
        return (self.start + timedelta(days=day)).date()


@dataclass(frozen=True)
class FleetConfig(Clock):
    seed: int = 7
    days: int = 3
    start: datetime = datetime(2025, 3, 3, tzinfo=UTC)
    sample_interval_s: int = 300
    gpus_per_host: int = 8
    # hosts per (cluster, pool, GPU model); clusters decide the formats the fleet emits
    slurm_hosts: dict[str, int] = field(default_factory=lambda: {"H100": 4, "A100": 3})
    k8s_hosts: dict[str, int] = field(default_factory=lambda: {"A100": 3})
    inference_hosts: dict[str, int] = field(default_factory=lambda: {"L4": 3, "A100": 1})
    dr_buffer_hosts: int = 1  # training hosts held back for disaster recovery
    push_buffer_hosts: int = 1  # inference hosts held back for deploy pushes
    teams: int = 4
    users_per_team: int = 4
    jobs_per_day: int = 120
    mtbf_gpu_hours: float = 1500.0  # infra failures, per GPU
    user_failure_rate: float = 0.12  # share of attempts that crash on a user bug
    deployed_models: int = 8

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def horizon_s(self) -> int:
        return self.days * 86400
