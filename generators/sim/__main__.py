"""`python -m generators.sim --days 3 --seed 7 --out data/landing`: write a synthetic fleet's raw files."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

from .config import SKUS, FleetConfig
from .generate import generate


def _hosts(text: str) -> dict[str, int]:
    """`H100=4,A100=3` -> {"H100": 4, "A100": 3}."""
    out = {}
    for part in text.split(","):
        model, _, n = part.partition("=")
        if model not in SKUS or not n.isdigit():
            raise argparse.ArgumentTypeError(f"expected MODEL=N with MODEL in {', '.join(SKUS)}, got {part!r}")
        out[model] = int(n)
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("data/landing"))
    p.add_argument("--seed", type=int, default=FleetConfig.seed)
    p.add_argument("--days", type=int, default=FleetConfig.days)
    p.add_argument("--start", default="2025-03-03", help="first day (UTC)")
    p.add_argument("--sample-interval-s", type=int, default=FleetConfig.sample_interval_s)
    p.add_argument("--gpus-per-host", type=int, default=FleetConfig.gpus_per_host)
    p.add_argument(
        "--slurm-hosts",
        type=_hosts,
        help="hosts per GPU model on the Slurm training cluster, e.g. H100=4,A100=3 (models: " + ", ".join(SKUS) + ")",
    )
    p.add_argument("--k8s-hosts", type=_hosts, help="hosts per GPU model on the Kubernetes training cluster")
    p.add_argument("--inference-hosts", type=_hosts, help="hosts per GPU model in the inference pool")
    p.add_argument("--scale", type=int, default=1, help="multiply host counts (and jobs) by this")
    p.add_argument("--jobs-per-day", type=int, default=None)
    args = p.parse_args(argv)
    base = FleetConfig()
    scale = args.scale
    cfg = FleetConfig(
        seed=args.seed,
        days=args.days,
        sample_interval_s=args.sample_interval_s,
        gpus_per_host=args.gpus_per_host,
        start=datetime.fromisoformat(args.start).replace(tzinfo=UTC),
        slurm_hosts={k: v * scale for k, v in (args.slurm_hosts or base.slurm_hosts).items()},
        k8s_hosts={k: v * scale for k, v in (args.k8s_hosts or base.k8s_hosts).items()},
        inference_hosts={k: v * scale for k, v in (args.inference_hosts or base.inference_hosts).items()},
        jobs_per_day=args.jobs_per_day or base.jobs_per_day * scale,
    )
    truth = generate(cfg, args.out)
    (args.out / "_simulation.json").write_text(
        json.dumps({"config": {f.name: str(getattr(cfg, f.name)) for f in fields(cfg)}, "truth": truth}, indent=1)
    )
    print(
        f"wrote {truth['hosts']} hosts / {truth['gpus']} GPUs x {truth['days']} days, "
        f"{truth['jobs']} jobs ({truth['attempts']} attempts) to {args.out}"
    )
    return truth


if __name__ == "__main__":
    main()
