"""Public traces as named datasets the warehouse can be built from (`make demo DATASET=<name>`).

Each adapter reads a trace from the traces folder and writes it into a fresh landing area in the raw formats the
production loaders read (inventory CSV, `sacct -P`, Kubernetes Job JSON lines, columnar telemetry, request logs),
so the same raw sources and dbt models run on it. It also lands what the trace covers (`dataset_coverage`: full,
sample or none per subject), which the marts read to say "not measured" instead of a wrong number, and every
trace row it could not represent (`adapter_rejects`, with a reason)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import alibaba_genai_2026, alibaba_gpu_2023, azure_llm_2023, philly_2017
from .account import DatasetLanding


@dataclass(frozen=True)
class Dataset:
    name: str
    summary: str  # what it can and cannot answer, in one line (README)
    adapt: Callable[..., None]
    coverage: dict[str, tuple[str, str]]


DATASETS = {
    d.name: d
    for d in [
        Dataset(
            "alibaba-gpu-2023",
            "inventory, job mix, queueing and GPU sharing of a real cluster; no utilisation (no telemetry)",
            alibaba_gpu_2023.adapt,
            alibaba_gpu_2023.COVERAGE,
        ),
        Dataset(
            "philly-2017",
            "job outcomes, time to start and utilisation around job start on 552 machines; not idle capacity",
            philly_2017.adapt,
            philly_2017.COVERAGE,
        ),
        Dataset(
            "azure-llm-2023",
            "one hour of requests and tokens of two LLM services; no GPUs, no low-traffic days",
            azure_llm_2023.adapt,
            azure_llm_2023.COVERAGE,
        ),
        Dataset(
            "alibaba-genai-2026",
            "requests per LoRA model version (low-traffic models) and serving GPU duty cycle; no jobs, no costs",
            alibaba_genai_2026.adapt,
            alibaba_genai_2026.COVERAGE,
        ),
    ]
}


def land(name: str, traces: Path, landing: Path, **options) -> dict:
    """Write dataset `name` into a fresh `landing` area; returns the account of every trace file it read."""
    dataset = DATASETS[name]
    unknown = set(options) - set(inspect.signature(dataset.adapt).parameters)
    if unknown:
        raise ValueError(f"dataset {name} takes no option {', '.join(sorted(unknown))}")
    if not traces.is_dir():
        raise FileNotFoundError(f"no traces folder at {traces} (set TRACES_DIR)")
    out = DatasetLanding(landing, name, traces)
    dataset.adapt(out, **options)
    return out.finish(dataset.coverage)
