import hashlib
import json

import numpy as np
import polars as pl

from generators.sim.__main__ import main as simulate
from generators.sim.config import FleetConfig
from generators.sim.fleet import build_hosts, build_org
from generators.sim.scheduler import Scheduler, generate_jobs

SMALL = ["--days", "1", "--sample-interval-s", "1800", "--jobs-per-day", "40"]


def digest(root):
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.name != "_simulation.json":
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_fleet(tmp_path):
    simulate(["--out", str(tmp_path / "a"), "--seed", "3", *SMALL])
    simulate(["--out", str(tmp_path / "b"), "--seed", "3", *SMALL])
    simulate(["--out", str(tmp_path / "c"), "--seed", "4", *SMALL])
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_knobs_shape_the_output(tmp_path):
    truth = simulate(
        [
            "--out",
            str(tmp_path),
            "--days",
            "2",
            "--scale",
            "2",
            "--gpus-per-host",
            "4",
            "--sample-interval-s",
            "3600",
            "--jobs-per-day",
            "30",
            "--slurm-hosts",
            "H100=1,L4=2",
        ]
    )
    base = FleetConfig()
    # and the one MIG-partitioned inference host, whatever the scale
    hosts = 2 * (3 + sum(sum(d.values()) for d in (base.k8s_hosts, base.inference_hosts))) + 1
    assert truth["hosts"] == hosts and truth["gpus"] == hosts * 4
    inventory = pl.read_csv(tmp_path / "hosts" / "dt=2025-03-04" / "hosts.csv")
    slurm = inventory.filter(pl.col("cluster") == "slurm-a")
    assert sorted(slurm["gpu_model"].unique()) == ["NVIDIA H100 80GB HBM3", "NVIDIA L4"]
    assert sorted(p.name for p in (tmp_path / "hosts").iterdir()) == ["dt=2025-03-03", "dt=2025-03-04"]
    meta = json.loads((tmp_path / "_simulation.json").read_text())
    assert meta["config"]["sample_interval_s"] == "3600"


def run_scheduler(seed=5):
    cfg = FleetConfig(seed=seed, days=2, jobs_per_day=150)
    rng = np.random.default_rng(cfg.seed)
    hosts = build_hosts(cfg, rng)
    jobs = generate_jobs(cfg, rng, hosts, build_org(cfg, rng))
    Scheduler(cfg, rng, hosts, jobs).run()
    return cfg, hosts, jobs


def test_scheduler_respects_gang_placement_reservations_and_gpu_model():
    cfg, hosts, jobs = run_scheduler()
    by_id = {h.host_id: h for h in hosts}
    attempts = [(j, a) for j in jobs for a in j.attempts]
    assert attempts
    for job, a in attempts:
        assert len(a.placement) == job.n_gpus  # gang: all GPUs or none
        for host, _ in a.placement:
            h = by_id[host]
            assert h.sku == job.sku and h.cluster == job.cluster and h.reservation == "none"
            assert a.start >= h.valid_from_s
    # no GPU is ever held by two attempts at once
    held = {}
    for _, a in attempts:
        for slot in a.placement:
            held.setdefault(slot, []).append((a.start, a.end))
    for spans in held.values():
        spans.sort()
        assert all(prev_end <= start for (_, prev_end), (start, _) in zip(spans, spans[1:]))


def test_only_low_priority_work_is_preempted_and_restarts_resume_from_checkpoints():
    _, _, jobs = run_scheduler()
    preempted = [(j, a) for j in jobs for a in j.attempts if a.outcome == "preempted"]
    assert preempted, "the default fleet should see preemption"
    assert {j.priority for j, _ in preempted} == {"low"}  # maintenance drains are "drained", not preempted
    restarted = [j for j in jobs if len(j.attempts) > 1 and j.kind == "training"]
    assert restarted
    for j in restarted:
        for prev, nxt in zip(j.attempts, j.attempts[1:]):
            first = next(s for s in nxt.segments if s.phase in ("init", "train"))
            assert first.samples0 <= max(s.samples0 for s in prev.segments) + 1e-6
            assert nxt.high_water0 >= first.samples0  # samples up to the high-water mark are replayed


def test_telemetry_follows_what_runs(tmp_path):
    simulate(["--out", str(tmp_path), "--seed", "9", "--days", "1", "--sample-interval-s", "300"])
    text = "\n".join(p.read_text() for p in (tmp_path / "dcgm_samples").rglob("*.prom"))
    lines = pl.DataFrame({"l": [x for x in text.splitlines() if x.startswith("DCGM_FI_DEV_GPU_UTIL{")]})
    util = lines.with_columns(
        v=pl.col("l").str.extract(r"\} (\d+) ").cast(pl.Int64),
        busy=pl.col("l").str.contains(r'hpc_job="\d+"|pod="[^"]+"'),
    )
    idle = util.filter(~pl.col("busy"))["v"]
    busy = util.filter(pl.col("busy"))["v"]
    assert idle.max() <= 1 and busy.mean() > 40
