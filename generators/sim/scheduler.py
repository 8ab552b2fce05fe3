"""A minute-stepped gang scheduler over the fleet: queues by priority, best-fit placement on hosts of the
required GPU model, preemption of low-priority work for high-priority jobs, failures and restarts from the
last checkpoint. Fragmentation and model mismatch fall out of the placement rules; nothing is scripted."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .config import FleetConfig
from .fleet import Host, Org
from .training import Attempt, Segment, cut, last_checkpoint_samples, plan_attempt, samples_at_end

STEP_S = 60
PRIORITY_RANK = {"high": 0, "normal": 1, "low": 2}
MAX_ATTEMPTS = 4


@dataclass
class Job:
    job_id: str  # the training run / workload, stable across attempts
    kind: str  # training | evaluation | notebook
    cluster: str
    user: str
    team: str
    project: str
    model: str
    sku: str
    n_gpus: int
    priority: str
    framework: str  # pt1 | pt2
    submit: int
    samples_total: float
    samples_per_gpu_s: float
    eligible: int = 0
    ckpt_samples: float = 0.0
    high_water: float = 0.0
    attempts: list[Attempt] = field(default_factory=list)
    final_state: str = "pending"  # pending | running | completed | failed
    pending_id: str = ""  # scheduler id of the submission waiting in the queue
    sacct_name: str = ""  # a Slurm job name other than the usual one (names.py)


def generate_jobs(cfg: FleetConfig, rng: np.random.Generator, hosts: list[Host], org: Org) -> list[Job]:
    clusters = {h.cluster: set() for h in hosts if h.pool == "training"}
    for h in hosts:
        if h.pool == "training":
            clusters[h.cluster].add(h.sku)
    users = list(org.users)
    jobs: list[Job] = []
    n = int(cfg.jobs_per_day * cfg.days)
    # diurnal submissions: more during working hours (UTC here), fewer at night
    hour_w = np.array([0.3] * 7 + [1.0, 1.6, 2.0, 2.0, 1.8, 1.2, 1.8, 2.0, 2.0, 1.8, 1.4, 1.0] + [0.5] * 5)
    days = rng.integers(0, cfg.days, n)
    hours = rng.choice(24, n, p=hour_w / hour_w.sum())
    submits = days * 86400 + hours * 3600 + rng.integers(0, 3600, n)
    # the fleet does not start empty: a backlog submitted in the hours before the window
    backlog = rng.integers(-8 * 3600, 0, cfg.jobs_per_day // 3)
    submits = np.sort(np.concatenate([backlog, submits]))
    n = submits.size
    for i, submit in enumerate(submits):
        user = users[int(rng.integers(len(users)))]
        team = org.users[user]
        project = rng.choice([p for p, t in org.projects.items() if t == team])
        model = rng.choice([m for m, p in org.models.items() if p == project])
        cluster = rng.choice(sorted(clusters), p=[0.35, 0.65] if len(clusters) == 2 else None)  # k8s-b, slurm-a
        kind = rng.choice(["training", "evaluation", "notebook"], p=[0.75, 0.15, 0.10])
        if kind == "notebook" and cluster != "k8s-b" and "k8s-b" in clusters:
            cluster = "k8s-b"
        sku = rng.choice(sorted(clusters[cluster]))
        n_gpus = int(rng.choice([1, 2, 4, 8, 16], p=[0.25, 0.2, 0.25, 0.2, 0.1])) if kind == "training" else 1
        hours_needed = float(rng.lognormal(np.log(3.0), 0.9)) if kind == "training" else float(rng.uniform(0.3, 3))
        rate = float(rng.uniform(800, 1600)) * (2.0 if sku == "H100" else 1.0)
        jobs.append(
            Job(
                job_id=f"run-{i + 1:05d}",
                kind=kind,
                cluster=cluster,
                user=user,
                team=team,
                project=str(project),
                model=str(model),
                sku=str(sku),
                n_gpus=n_gpus,
                priority=str(rng.choice(["high", "normal", "low"], p=[0.15, 0.6, 0.25])),
                framework="pt2" if rng.random() < 0.55 else "pt1",
                submit=int(submit),
                samples_total=hours_needed * 3600 * rate * n_gpus,
                samples_per_gpu_s=rate,
                eligible=int(submit),
            )
        )
    return jobs


class Scheduler:
    def __init__(self, cfg: FleetConfig, rng: np.random.Generator, hosts: list[Host], jobs: list[Job]):
        self.cfg, self.rng, self.hosts, self.jobs = cfg, rng, {h.host_id: h for h in hosts}, jobs
        self.free = {h.host_id: set(range(h.gpu_count)) for h in hosts}
        self.running: list[tuple[Job, Attempt]] = []
        self.queue: list[Job] = []
        self.next_sched_id = {"slurm-a": 410001, "k8s-b": 1}

    def run(self) -> None:
        pending = sorted(self.jobs, key=lambda j: j.submit)
        k = 0
        for t in range(0, self.cfg.horizon_s, STEP_S):  # jobs submitted before 0 are queued at 0
            self._finish(t)
            self._outages(t)
            while k < len(pending) and pending[k].submit <= t:
                self._enqueue(pending[k])
                k += 1
            self._schedule(t)
        for job, _ in self.running:  # still running at the horizon: leave the attempt open-ended
            job.final_state = "running"

    def _release(self, a: Attempt) -> None:
        for host, gpu in a.placement:
            self.free[host].add(gpu)

    def _finish(self, t: int) -> None:
        still = []
        for job, a in self.running:
            if a.end > t:
                still.append((job, a))
                continue
            self._release(a)
            self._settle(job, a, t)
        self.running = still

    def _settle(self, job: Job, a: Attempt, t: int) -> None:
        job.high_water = max(job.high_water, samples_at_end(a))
        if a.outcome == "completed":
            job.final_state = "completed"
            return
        job.ckpt_samples = last_checkpoint_samples(a, job.ckpt_samples)
        if a.outcome == "failed_user" and len(job.attempts) >= 2 or len(job.attempts) >= MAX_ATTEMPTS:
            job.final_state = "failed"
            return
        job.eligible = t + int(self.rng.integers(60, 600))  # detection + resubmission
        job.final_state = "pending"
        self._enqueue(job)

    def _enqueue(self, job: Job) -> None:
        # each (re)submission is a new scheduler job, as launchers like submitit or torchx do on restart
        n = self.next_sched_id[job.cluster]
        self.next_sched_id[job.cluster] += 1
        job.pending_id = str(n) if job.cluster == "slurm-a" else f"{job.job_id}-a{len(job.attempts) + 1}"
        self.queue.append(job)

    def _outages(self, t: int) -> None:
        for host in self.hosts.values():
            for start, _, kind in host.down:
                if t - STEP_S < start <= t:
                    for job, a in list(self.running):
                        if any(h == host.host_id for h, _ in a.placement):
                            self._interrupt(job, a, start, "failed_infra" if kind == "unplanned" else "drained")

    def _interrupt(self, job: Job, a: Attempt, t: int, outcome: str) -> None:
        cut(a, t, outcome)
        self.running.remove((job, a))
        self._release(a)
        self._settle(job, a, t)

    def _candidates(self, job: Job, t: int) -> list[Host]:
        return [
            h
            for h in self.hosts.values()
            if h.cluster == job.cluster
            and h.sku == job.sku
            and h.schedulable
            and h.valid_from_s <= t
            and not h.is_down(t)
        ]

    def _place(self, job: Job, t: int) -> list[tuple[str, int]] | None:
        hosts = self._candidates(job, t)
        per = self.cfg.gpus_per_host
        if job.n_gpus <= per:
            fits = [h for h in hosts if len(self.free[h.host_id]) >= job.n_gpus]
            if not fits:
                return None
            best = min(fits, key=lambda h: (len(self.free[h.host_id]), h.host_id))  # best fit
            return [(best.host_id, g) for g in sorted(self.free[best.host_id])[: job.n_gpus]]
        whole = [h for h in hosts if len(self.free[h.host_id]) == h.gpu_count]
        need = -(-job.n_gpus // per)
        if len(whole) < need:
            return None
        return [(h.host_id, g) for h in whole[:need] for g in range(per)]

    def _preempt_for(self, job: Job, t: int) -> bool:
        if job.priority != "high" or job.n_gpus > self.cfg.gpus_per_host:
            return False
        best = None
        for h in self._candidates(job, t):
            victims = [
                (j, a) for j, a in self.running if j.priority == "low" and any(p[0] == h.host_id for p in a.placement)
            ]
            held = sum(sum(1 for p in a.placement if p[0] == h.host_id) for _, a in victims)
            if len(self.free[h.host_id]) + held >= job.n_gpus and (best is None or len(victims) < len(best)):
                best = victims
        if not best:
            return False
        need = job.n_gpus
        for j, a in sorted(best, key=lambda v: len(v[1].placement)):
            self._interrupt(j, a, t, "preempted")
            if len(self.free[a.placement[0][0]]) >= need:
                break
        return True

    def _schedule(self, t: int) -> None:
        self.queue.sort(key=lambda j: (PRIORITY_RANK[j.priority], j.eligible))
        for job in list(self.queue):
            if job.eligible > t:
                continue
            placement = self._place(job, t)
            if placement is None and self._preempt_for(job, t):
                placement = self._place(job, t)
            if placement is None:
                continue
            self.queue.remove(job)
            self._start(job, t, placement)

    def _start(self, job: Job, t: int, placement: list[tuple[str, int]]) -> None:
        name = job.pending_id
        if job.kind == "training":
            a = plan_attempt(
                job,
                len(job.attempts) + 1,
                name,
                t,
                placement,
                self.rng,
                self.cfg.mtbf_gpu_hours,
                self.cfg.user_failure_rate,
            )
        else:  # evaluation and notebooks: a launcher phase then one block of work
            work = int(job.samples_total / (job.samples_per_gpu_s * job.n_gpus))
            a = Attempt(len(job.attempts) + 1, name, t, placement, publish_on_gpu=False)
            a.segments = [Segment(t, t + 120, "init"), Segment(t + 120, t + 120 + work, job.kind)]
            a.end = t + 120 + work
        a.submitted, a.high_water0 = job.eligible, job.high_water
        for host, gpu in placement:
            self.free[host].discard(gpu)
        job.attempts.append(a)
        job.final_state = "running"
        self.running.append((job, a))
