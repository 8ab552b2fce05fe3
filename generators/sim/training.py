"""One attempt of a training job, planned as a timeline of phases when it is allocated.

Phases: init (launcher), compile (PT2 only), train, ckpt (blocking save), stall (data loader), publish.
A planned attempt ends by completing, or failing at a drawn time; the scheduler may cut it short (preemption,
host outage). Progress is tracked in samples: samples consumed again after a restart (up to the previous
high-water mark) are *replayed*, the rest are *new*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CKPT_INTERVAL_S = 3600
PROGRESS_EVERY_S = 900


@dataclass
class Segment:
    t0: int
    t1: int
    phase: str  # init | compile | train | ckpt | stall | publish
    samples0: float = 0.0  # samples consumed at t0 (cumulative, from the job's first attempt)
    rate: float = 0.0  # samples/s while training
    truncated: bool = False  # cut short by the attempt's end (a truncated ckpt was never saved)


@dataclass
class Attempt:
    number: int
    sched_job_id: str
    start: int
    placement: list[tuple[str, int]]  # (host_id, gpu_index)
    segments: list[Segment] = field(default_factory=list)
    end: int = 0
    outcome: str = "completed"  # completed | failed_infra | failed_user | preempted | drained (maintenance)
    publish_on_gpu: bool = True
    submitted: int = 0  # when this submission entered the queue
    high_water0: float = 0.0  # samples consumed by earlier attempts: re-consuming up to here is replay


def plan_attempt(
    job,
    number: int,
    sched_job_id: str,
    start: int,
    placement,
    rng: np.random.Generator,
    mtbf_gpu_hours: float,
    user_failure_rate: float,
) -> Attempt:
    """Lay out phases from `start` until the job completes or the drawn failure time."""
    a = Attempt(number, sched_job_id, start, placement, publish_on_gpu=bool(rng.random() < 0.6))
    t = start
    samples = job.ckpt_samples
    a.segments.append(Segment(t, t + int(rng.integers(120, 600)), "init", samples))
    t = a.segments[-1].t1
    if job.framework == "pt2":
        a.segments.append(Segment(t, t + int(rng.integers(300, 900)), "compile", samples))
        t = a.segments[-1].t1
    rate = job.samples_per_gpu_s * job.n_gpus
    since_ckpt = 0
    while samples < job.samples_total:
        train = min(
            int(rng.integers(600, 1500)),
            CKPT_INTERVAL_S - since_ckpt,
            int(np.ceil((job.samples_total - samples) / rate)),
        )
        a.segments.append(Segment(t, t + train, "train", samples, rate))
        t += train
        samples += train * rate
        since_ckpt += train
        if samples < job.samples_total and rng.random() < 0.15:
            a.segments.append(Segment(t, t + int(rng.integers(60, 420)), "stall", samples))
            t = a.segments[-1].t1
        if since_ckpt >= CKPT_INTERVAL_S and samples < job.samples_total:
            a.segments.append(Segment(t, t + int(rng.integers(60, 240)), "ckpt", samples))
            t = a.segments[-1].t1
            since_ckpt = 0
    samples = job.samples_total
    if a.publish_on_gpu:
        a.segments.append(Segment(t, t + int(rng.integers(120, 600)), "publish", samples))
    a.end = a.segments[-1].t1
    # failures: infra from the GPU MTBF, user bugs early in the run
    infra_at = start + int(rng.exponential(mtbf_gpu_hours * 3600 / job.n_gpus))
    user_at = start + int(rng.uniform(0.02, 0.4) * (a.end - start)) if rng.random() < user_failure_rate else None
    fail_at, cause = min((infra_at, "failed_infra"), (user_at or 1 << 60, "failed_user"))
    if fail_at < a.end:
        cut(a, fail_at, cause)
    return a


def cut(a: Attempt, t: int, outcome: str) -> None:
    """End the attempt at t (failure, preemption, outage): drop what would have come after."""
    kept = []
    for s in a.segments:
        if s.t0 >= t:
            break
        if s.t1 > t:
            s.t1, s.truncated = t, True
        kept.append(s)
    a.segments = kept or [Segment(a.start, max(t, a.start + 1), "init")]
    a.end = a.segments[-1].t1
    a.outcome = outcome


def samples_at_end(a: Attempt) -> float:
    s = a.segments[-1]
    return s.samples0 + (s.t1 - s.t0) * s.rate


def last_checkpoint_samples(a: Attempt, fallback: float) -> float:
    done = [s.samples0 for s in a.segments if s.phase == "ckpt" and not s.truncated]
    return done[-1] if done else fallback
