"""Run the fleet model and write every raw source, day by day, to data/landing/<table>/dt=YYYY-MM-DD/."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import polars as pl

from generators.landing import Landing

from .config import SKUS, FleetConfig
from .fleet import REGIONS, build_hosts, build_org
from .formats import SACCT_FIELDS, columnar_frame, dcgm_text, dcgm_text_mig, iso_ms, nvidia_smi_csv, sacct_rows
from .mig import build_mig_host, build_mig_serving, mig_host_samples, slices
from .names import k8s_namespace, k8s_pod, name_personal_jobs, sacct_job_name
from .scheduler import Scheduler, generate_jobs
from .serving import build_serving, diurnal, lifecycle_from_training, request_times
from .telemetry import host_samples, occupancy_by_gpu

SQL_TIME = "%Y-%m-%d %H:%M:%S"  # inventory, maintenance and deployment exports
FAILURE_STATE = {
    "failed_infra": ("NODE_FAIL", "0:0"),
    "failed_user": ("FAILED", "1:0"),
    "preempted": ("PREEMPTED", "0:0"),
    "drained": ("PREEMPTED", "0:0"),
    "completed": ("COMPLETED", "0:0"),
}


def generate(cfg: FleetConfig, landing_root: Path) -> dict:
    """Simulate and write the landing area; returns the ground truth the tests check the warehouse against."""
    rng = np.random.default_rng(cfg.seed)
    hosts = build_hosts(cfg, rng)
    org = build_org(cfg, rng)
    jobs = generate_jobs(cfg, rng, hosts, org)
    deployments, stage_events, free_slots = build_serving(cfg, rng, hosts, org)
    Scheduler(cfg, rng, hosts, jobs).run()
    name_personal_jobs(jobs)
    registered = lifecycle_from_training(jobs, deployments, stage_events, free_slots, rng, cfg)
    # the MIG host last, from its own stream: the rest of the fleet is what it was without it
    mig_rng = np.random.default_rng([cfg.seed, 7])
    mig_host = build_mig_host(cfg, mig_rng)
    mig_deployments, mig_events = build_mig_serving(cfg, mig_host, org, len(deployments) + 1)
    hosts, deployments, stage_events = hosts + [mig_host], deployments + mig_deployments, stage_events + mig_events
    out = Landing(landing_root)
    write_inventory(cfg, out, hosts, org)
    write_maintenance(cfg, out, hosts)
    held = _write_telemetry(cfg, out, [h for h in hosts if not h.mig], occupancy_by_gpu(jobs, deployments), rng)
    mig = _write_mig_telemetry(cfg, out, mig_host, mig_deployments, mig_rng)
    _write_scheduler(cfg, out, jobs, org, hosts)
    _write_training_events(cfg, out, jobs, registered)
    _write_registry(cfg, out, stage_events, deployments, org)
    _write_traffic(cfg, out, deployments, rng)
    return {
        "gpus": sum(h.gpu_count for h in hosts),
        "hosts": len(hosts),
        "days": cfg.days,
        "start": cfg.start.isoformat(),
        "down_windows": [{"host": h.host_id, "start_s": a, "end_s": b, "kind": k} for h in hosts for a, b, k in h.down],
        "valid_from_s": {h.host_id: h.valid_from_s for h in hosts},
        "jobs": len(jobs),
        "attempts": sum(len(j.attempts) for j in jobs),
        "reserved_hosts": {h.host_id: h.reservation for h in hosts if h.reservation != "none"},
        "training_runs": {j.job_id: _run_truth(cfg, j, held) for j in jobs if j.kind == "training" and j.attempts},
        "mig": mig,
        "deployed_rps": {d.model: d.base_rps for d in deployments if d.end_s is None or d.end_s >= cfg.horizon_s},
    }


def _run_truth(cfg: FleetConfig, job, held: dict) -> dict:
    """What the warehouse should find for a training run: its attempts, the failures reported in the window, and
    the utilisation of the samples its attempts' GPUs reported (with whether any of its GPU-hours had samples of
    another holder or of free time)."""
    ended = [a for a in job.attempts if a.end < cfg.horizon_s and a.outcome != "completed"]
    labels = {a.sched_job_id for a in job.attempts} | {f"{a.sched_job_id}-worker-0" for a in job.attempts}
    own = [held[label] for label in labels if label in held]
    samples = sum(n for n, _, _ in own)
    return {
        "attempts": len(job.attempts),
        "infra": sum(a.outcome == "failed_infra" for a in ended),
        "user": sum(a.outcome == "failed_user" for a in ended),
        "preemptions": sum(a.outcome in ("preempted", "drained") for a in ended),
        "samples": samples,
        "util_ratio": sum(n * u for n, u, _ in own) / samples / 100 if samples else None,
        "shares_gpu_hours": any(shared for _, _, shared in own),
    }


def write_inventory(cfg: FleetConfig, out: Landing, hosts, org) -> None:
    """Each day's CMDB, HR and finance exports: hosts (those in service by the day's end), users, headcount, prices."""
    for day in range(cfg.days):
        date = cfg.date_of(day)
        listed = [h for h in hosts if h.valid_from_s < (day + 1) * 86400]
        hosts_frame = pl.DataFrame(
            {
                "host": [h.host_id for h in listed],
                "cluster": [h.cluster for h in listed],
                "region": [REGIONS[h.cluster] for h in listed],
                "gpu_model": [SKUS[h.sku].model for h in listed],
                "gpu_count": [h.gpu_count for h in listed],
                "pool": [h.pool for h in listed],
                "reservation": [h.reservation for h in listed],
                "usd_per_gpu_hour": [f"{SKUS[h.sku].usd_per_gpu_hour:.2f}" for h in listed],
                "valid_from": [cfg.at(h.valid_from_s).strftime(SQL_TIME) for h in listed],
                "valid_to": [None] * len(listed),
            }
        )
        out.write("hosts", date, "hosts.csv", hosts_frame)
        users = pl.DataFrame(
            {
                "user_name": list(org.users),
                "team": list(org.users.values()),
                "email": [f"{u}@example.com" for u in org.users],
            }
        )
        out.write("users", date, "users.csv", users)
        month = cfg.at(day * 86400).strftime("%Y-%m")
        headcount = pl.DataFrame(
            {
                "team": list(org.teams),
                "month": month,
                "headcount": [sum(1 for v in org.users.values() if v == t) + 1 for t in org.teams],
            }
        )
        out.write("team_headcount", date, "team_headcount.csv", headcount)
        prices = pl.DataFrame(
            {
                "gpu_model": [s.model for s in SKUS.values()],
                "list_usd_per_gpu_hour": [f"{s.usd_per_gpu_hour * 1.6:.2f}" for s in SKUS.values()],
                "effective_usd_per_gpu_hour": [f"{s.usd_per_gpu_hour:.2f}" for s in SKUS.values()],
            }
        )
        out.write("gpu_prices", date, "gpu_prices.csv", prices)


def write_maintenance(cfg: FleetConfig, out: Landing, hosts) -> None:
    """The maintenance calendar: planned windows overlapping the day (outages are not announced)."""
    windows = sorted((a, b, h.host_id) for h in hosts for a, b, kind in h.down if kind == "planned")
    for day in range(cfg.days):
        rows = [(a, b, host) for a, b, host in windows if a < (day + 1) * 86400 and b > day * 86400]
        frame = pl.DataFrame(
            {
                "window_id": [f"mw-{a // 3600:05d}-{host}" for a, _, host in rows],
                "host": [host for _, _, host in rows],
                "starts_at": [cfg.at(a).strftime(SQL_TIME) for a, _, _ in rows],
                "ends_at": [cfg.at(b).strftime(SQL_TIME) for _, b, _ in rows],
                "kind": ["planned"] * len(rows),
                "reason": ["firmware and driver upgrade"] * len(rows),
            }
        )
        out.write("maintenance_windows", cfg.date_of(day), "maintenance.csv", frame)


def _write_telemetry(cfg, out: Landing, hosts, occ, rng) -> dict:
    """Write each host's samples; returns, per holder label (hpc_job or pod), its sample count, mean utilisation
    (%) and whether it shared a GPU-hour with another holder or with free time: the ground truth of per-holder
    readings."""
    labelled = []
    for h in hosts:
        frame = host_samples(cfg, h, occ, rng)
        labelled.append(
            frame.select(
                pl.lit(h.host_id).alias("host"),
                "gpu",
                (pl.col("ts_ms") // 3_600_000).alias("hour"),
                pl.when(pl.col("hpc_job") != "").then("hpc_job").otherwise("pod").alias("holder"),
                "util_pct",
            )
        )
        for day in range(cfg.days):
            part = frame.filter((frame["ts_ms"] >= day * 86_400_000) & (frame["ts_ms"] < (day + 1) * 86_400_000))
            if part.is_empty():
                continue
            date = cfg.date_of(day)
            if h.cluster == "serve-c":
                text = nvidia_smi_csv(part, cfg.start, h.sku, power_na=h.host_id.endswith("003"))
                out.write_text("nvidia_smi_samples", date, f"{h.host_id}.csv", text)
            elif h.cluster == "slurm-a" and h.sku == "A100":  # these hosts' telemetry comes from a telemetry lake
                part = part.with_columns(ts_ms=part["ts_ms"] + int(cfg.start.timestamp() * 1000))
                out.write("gpu_samples", date, f"{h.host_id}.parquet", columnar_frame(part, h.host_id, h.sku))
            else:
                part = part.with_columns(ts_ms=part["ts_ms"] + int(cfg.start.timestamp() * 1000))
                text = dcgm_text(part, h.host_id, h.sku, h.cluster == "k8s-b")
                out.write_text("dcgm_samples", date, f"{h.host_id}.prom", text)
    samples = pl.concat(labelled)
    shared = samples.group_by("host", "gpu", "hour").agg(pl.col("holder").n_unique().alias("holders_in_hour"))
    per_holder = (
        samples.join(shared, on=["host", "gpu", "hour"])
        .filter(pl.col("holder") != "")
        .group_by("holder")
        .agg(pl.len().alias("n"), pl.col("util_pct").mean().alias("util"), (pl.col("holders_in_hour") > 1).any())
    )
    return {holder: (n, util, any_shared) for holder, n, util, any_shared in per_holder.iter_rows()}


def _write_mig_telemetry(cfg, out: Landing, host, deployments, rng) -> dict:
    """Write the MIG host's samples; returns per deployment its replicas, slices per replica and mean utilisation
    (GR_ENGINE_ACTIVE), and the host's mean power per GPU: the ground truth of the MIG marts."""
    frame = mig_host_samples(cfg, host, deployments, rng)
    frame = frame.with_columns(ts_ms=frame["ts_ms"] + int(cfg.start.timestamp() * 1000))
    start_ms = int(cfg.start.timestamp() * 1000)
    for day in range(cfg.days):
        lo, hi = start_ms + day * 86_400_000, start_ms + (day + 1) * 86_400_000
        part = frame.filter((pl.col("ts_ms") >= lo) & (pl.col("ts_ms") < hi))
        text = dcgm_text_mig(part, host.host_id, host.sku)
        out.write_text("dcgm_samples", cfg.date_of(day), f"{host.host_id}.prom", text)
    held = frame.filter(pl.col("pod") != "").with_columns(deployment=pl.col("pod").str.replace(r"-\d+$", ""))
    utilisation = dict(held.group_by("deployment").agg(pl.col("gr_engine_active").mean()).iter_rows())
    return {
        "host": host.host_id,
        "deployments": {
            d.deployment_id: {
                "replicas": len(d.gpus),
                "slices": slices(d.mig_profile),
                "util": utilisation[d.deployment_id],
            }
            for d in deployments
        },
        "power_w": frame.unique(["ts_ms", "gpu"])["power_w"].mean(),
    }


def _scheduler_records(jobs):
    """Every (re)submission with its attempt if it started: (job, attempt or None, submit_s, sched_id)."""
    for job in jobs:
        for a in job.attempts:
            yield job, a, a.submitted, a.sched_job_id
        if job.final_state == "pending":  # still queued at the horizon
            yield job, None, job.eligible, job.pending_id


def _state_asof(job, a, asof_s: int, horizon_s: int):
    if a is None or a.start >= asof_s:
        return "PENDING", "0:0", None, None
    if a.end >= asof_s or a.end > horizon_s:
        return "RUNNING", "0:0", a.start, None
    state, code = FAILURE_STATE[a.outcome]
    return state, code, a.start, a.end


def _write_scheduler(cfg, out: Landing, jobs, org, hosts) -> None:
    uids = {u: 20000 + i for i, u in enumerate(org.users)}
    for day in range(cfg.days):
        day0, day1 = day * 86400, (day + 1) * 86400
        sacct = ["|".join(SACCT_FIELDS)]
        k8s, pods = [], []
        for job, a, submit, sched_id in _scheduler_records(jobs):
            if submit >= day1 or (a is not None and a.end < day0 and a.end <= cfg.horizon_s):
                continue  # not yet submitted, or finished before this day: `sacct -S day -E day+1` omits it
            state, code, start, end = _state_asof(job, a, day1, cfg.horizon_s)
            nodes = sorted({h for h, _ in a.placement}) if start is not None else []
            if job.cluster == "slurm-a":
                sacct += sacct_rows(
                    {
                        "job_id": sched_id,
                        "cluster": "slurm-a",
                        "partition": SKUS[job.sku].short,
                        "qos": job.priority,
                        "account": job.team,
                        "user": job.user,
                        "uid": uids[job.user],
                        "group": job.user,  # user private groups (the Linux default): the group is the person
                        "gid": uids[job.user],
                        "submit": cfg.at(submit),
                        "start": cfg.at(start) if start is not None else None,
                        "end": cfg.at(end) if end is not None else None,
                        "asof": cfg.at(min(day1, cfg.horizon_s)),
                        "exit_code": code,
                        "state": state,
                        "nodes": nodes,
                        "gpus": job.n_gpus,
                        "gpu_type": SKUS[job.sku].short,
                        "name": sacct_job_name(job),
                        "wckey": job.project,
                    }
                )
            else:
                k8s.append(_k8s_record(cfg, job, a, submit, sched_id, state, start, end, nodes))
                pods += _k8s_pods(cfg, job, a, submit, sched_id, state, start, end, k8s[-1])
        out.write_text("sacct_jobs", cfg.date_of(day), "sacct_slurm-a.txt", "\n".join(sacct) + "\n")
        # Kubernetes as kubectl exports it, one file per cluster named after it: `kubectl get jobs -A -o json`,
        # `kubectl get pods -A -o json`, `kubectl get nodes -o json` (v1 Lists). The pods name the nodes their Job
        # ran on; the nodes carry GPU Feature Discovery's labels
        out.write("k8s_jobs", cfg.date_of(day), "k8s-b.json", k8s)
        out.write("k8s_pods", cfg.date_of(day), "k8s-b.json", pods)
        out.write("k8s_nodes", cfg.date_of(day), "k8s-b.json", [_k8s_node(h) for h in hosts if h.cluster == "k8s-b"])


def _k8s_node(host) -> dict:
    product = SKUS[host.sku].model.replace(" ", "-")
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": host.host_id,
            "labels": {
                "kubernetes.io/hostname": host.host_id,
                "nvidia.com/gpu.product": product,
                "nvidia.com/gpu.count": str(host.gpu_count),
                "nvidia.com/gpu.replicas": "1",
                "nvidia.com/mig.strategy": "none",
            },
        },
        "spec": {},
        "status": {"capacity": {"nvidia.com/gpu": str(host.gpu_count)}},
    }


def _k8s_pods(cfg, job, a, submit, name, state, start, end, owner: dict) -> list[dict]:
    """The pods of a Job as `kubectl get pods -o json` shows them: one per node it holds GPUs on (named as the
    telemetry's pod label names them), owned by the Job; a pending Job's pod has no node."""
    per_node: dict[str, int] = {}
    for host, _ in a.placement if a is not None and start is not None else []:
        per_node[host] = per_node.get(host, 0) + 1
    placed = sorted(per_node.items()) or [(None, job.n_gpus)]
    base = k8s_pod(job, name)
    container = owner["spec"]["template"]["spec"]["containers"][0]["name"]
    phase, reason, terminated = {
        "COMPLETED": ("Succeeded", None, "Completed"),
        "FAILED": ("Failed", None, "Error"),
        "NODE_FAIL": ("Failed", "DeletionByTaintManager", "Error"),
        "PREEMPTED": ("Failed", "PreemptionByScheduler", "Error"),
        "RUNNING": ("Running", None, None),
    }.get(state, ("Pending", None, None))
    pods = []
    for i, (node, gpus) in enumerate(placed):
        status: dict = {"phase": phase}
        spec: dict = {
            "containers": [{"name": container, "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}],
            "priorityClassName": job.priority,
        }
        if node is not None:
            spec["nodeName"] = node
            status["startTime"] = iso_ms(cfg.start, start)
            over = {"terminated": {"reason": terminated, "finishedAt": iso_ms(cfg.start, end)}} if terminated else {}
            status["containerStatuses"] = [{"name": container, "state": over or {"running": {}}}]
            if reason:
                status["conditions"] = [{"type": "DisruptionTarget", "status": "True", "reason": reason}]
        else:
            status["conditions"] = [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}]
        meta = owner["metadata"]
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": base if i == 0 else base.rsplit("-", 1)[0] + f"-{i}",
                    "namespace": meta["namespace"],
                    "creationTimestamp": iso_ms(cfg.start, submit),
                    "labels": meta["labels"] | {"batch.kubernetes.io/job-name": name},
                    "ownerReferences": [
                        {"apiVersion": "batch/v1", "kind": "Job", "name": name, "uid": meta["uid"], "controller": True}
                    ],
                },
                "spec": spec,
                "status": status,
            }
        )
    return pods


def _k8s_record(cfg, job, a, submit, name, state, start, end, nodes) -> dict:
    conditions = []
    if state in ("COMPLETED",):
        conditions.append({"type": "Complete", "status": "True", "lastTransitionTime": iso_ms(cfg.start, end)})
    elif state in ("FAILED", "NODE_FAIL", "PREEMPTED"):
        reason = {"FAILED": "BackoffLimitExceeded", "NODE_FAIL": "PodFailurePolicy", "PREEMPTED": "Preempted"}[state]
        conditions.append(
            {"type": "Failed", "status": "True", "reason": reason, "lastTransitionTime": iso_ms(cfg.start, end)}
        )
    status = {"conditions": conditions}
    if start is not None:
        status["startTime"] = iso_ms(cfg.start, start)
        status["active"] = 1 if state == "RUNNING" else 0
    if state == "COMPLETED":
        status["completionTime"] = iso_ms(cfg.start, end)
        status["succeeded"] = 1
    container = {"training": "trainer"}.get(job.kind, job.kind)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": k8s_namespace(job, name),
            "uid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cfg.seed}/{name}")),
            "creationTimestamp": iso_ms(cfg.start, submit),
            "labels": {
                "fleet.example.com/team": job.team,
                "fleet.example.com/user": job.user,
                "fleet.example.com/project": job.project,
                "fleet.example.com/model": job.model,
                "fleet.example.com/run-id": job.job_id,
                "fleet.example.com/workload": job.kind,
            },
        },
        "spec": {
            "template": {
                "spec": {
                    "priorityClassName": job.priority,
                    "nodeSelector": {"nvidia.com/gpu.product": SKUS[job.sku].model.replace(" ", "-")},
                    "containers": [{"name": container, "resources": {"limits": {"nvidia.com/gpu": str(job.n_gpus)}}}],
                }
            }
        },
        "status": status,
    }


def _write_training_events(cfg, out: Landing, jobs, registered) -> None:
    by_day: dict[int, list[tuple[float, str]]] = {}

    def emit(t: float, run, a, event: str, **fields) -> None:
        if 0 <= t < cfg.horizon_s:
            rec = {
                "ts": iso_ms(cfg.start, t),
                "run_id": run.job_id,
                "attempt": a.number if a else None,
                "scheduler_job_id": a.sched_job_id if a else None,
                "cluster": run.cluster,
                "event": event,
                **fields,
            }
            by_day.setdefault(int(t // 86400), []).append((t, json.dumps(rec), rec))

    phase_names = {
        "init": "init",
        "compile": "compile",
        "ckpt": "checkpoint",
        "stall": "data_stall",
        "publish": "publish",
    }
    for job in (j for j in jobs if j.kind == "training"):
        emit(
            job.submit,
            job,
            None,
            "submitted",
            team=job.team,
            user=job.user,
            project=job.project,
            model=job.model,
            framework=job.framework,
            n_gpus=job.n_gpus,
            gpu_model=SKUS[job.sku].model,
            priority=job.priority,
        )
        for a in job.attempts:
            emit(a.start, job, a, "allocated", hosts=sorted({h for h, _ in a.placement}), n_gpus=len(a.placement))
            first_train = True
            for s in a.segments:
                if s.phase == "train":
                    if first_train:
                        emit(s.t0, job, a, "first_batch")
                        first_train = False
                    hi = s.samples0 + (s.t1 - s.t0) * s.rate
                    replay = max(0.0, min(hi, a.high_water0) - s.samples0)
                    emit(
                        s.t1,
                        job,
                        a,
                        "progress",
                        samples_new=round(hi - s.samples0 - replay),
                        samples_replayed=round(replay),
                        samples_total=round(hi),
                    )
                elif s.phase in phase_names:
                    name = phase_names[s.phase]
                    extra = {"device": "gpu"} if s.phase == "publish" else {}
                    emit(s.t0, job, a, f"{name}_started", **extra)
                    if not s.truncated:
                        done = {"ckpt": "checkpoint_saved"}.get(s.phase, f"{name}_finished")
                        emit(
                            s.t1, job, a, done, **({"samples_total": round(s.samples0)} if s.phase == "ckpt" else extra)
                        )
            if a.end <= cfg.horizon_s and (a.outcome != "completed" or a.end < cfg.horizon_s):
                cause = {
                    "failed_infra": "infra",
                    "failed_user": "user",
                    "preempted": "preemption",
                    "drained": "maintenance",
                }.get(a.outcome)
                xid = {"xid": 79} if a.outcome == "failed_infra" else {}
                outcome = {"drained": "preempted"}.get(a.outcome, a.outcome.split("_")[0])
                emit(a.end, job, a, "attempt_ended", outcome=outcome, failure_cause=cause, **xid)
                if a.outcome == "completed" and not a.publish_on_gpu:
                    emit(a.end + 30, job, a, "publish_started", device="cpu")
                    emit(a.end + 630, job, a, "publish_finished", device="cpu")
        if job.final_state in ("completed", "failed") and job.attempts:
            end = job.attempts[-1].end + (
                630 if job.final_state == "completed" and not job.attempts[-1].publish_on_gpu else 0
            )
            emit(
                end,
                job,
                job.attempts[-1],
                "job_ended",
                final_state=job.final_state,
                model_version=registered.get(job.job_id),
            )
    for day, items in by_day.items():
        records = [rec for _, _, rec in sorted(items, key=lambda item: item[:2])]  # by time, then by text
        out.write("training_events", cfg.date_of(day), "events.jsonl", records)


def _write_registry(cfg, out: Landing, stage_events, deployments, org) -> None:
    by_day: dict[int, list] = {}
    for e in sorted(stage_events, key=lambda e: e.t):
        if e.t < cfg.horizon_s:
            rec = {
                "event_time": iso_ms(cfg.start, e.t),
                "model_name": e.model,
                "version": e.version,
                "from_stage": e.from_stage,
                "to_stage": e.to_stage,
            }
            by_day.setdefault(max(0, int(e.t // 86400)), []).append(rec)  # history backfilled on day 0
    for day in range(cfg.days):
        out.write("model_stage_events", cfg.date_of(day), "stage_events.jsonl", by_day.get(day, []))
        day0, day1 = day * 86400, (day + 1) * 86400
        rows = [
            {
                "deployment_id": d.deployment_id,
                "model_name": d.model,
                "model_version": d.version,
                "cluster": "serve-c",
                "host": d.host,
                "gpu_indices": ";".join(map(str, d.gpus)),
                "mig_profile": d.mig_profile,
                "started_at": cfg.at(d.start_s).strftime(SQL_TIME),
                "ended_at": cfg.at(d.end_s).strftime(SQL_TIME) if d.end_s is not None and d.end_s < day1 else None,
                "team": org.projects[org.models[d.model]],
            }
            for d in deployments
            if d.start_s < day1 and (d.end_s is None or d.end_s >= day0)
        ]
        out.write("serving_deployments", cfg.date_of(day), "deployments.csv", rows)


def _write_traffic(cfg, out: Landing, deployments, rng) -> None:
    hourly: dict[int, list] = {}
    for d in deployments:
        t = request_times(d, cfg.horizon_s, rng)
        n = t.size
        ctx = np.clip(rng.lognormal(6.5, 1.1, n), 8, 32000).astype(int)
        gen = np.clip(rng.lognormal(4.5, 0.9, n), 1, 4000).astype(int)
        latency = np.round(40 + 0.02 * ctx + 18 * gen * (1 + 0.3 * diurnal(t)) * rng.lognormal(0, 0.2, n), 1)
        day_idx = (t // 86400).astype(int)
        if d.per_request_logs:
            for day in np.unique(day_idx):
                sel = day_idx == day
                requests = pl.DataFrame(
                    {
                        # 100 ns, as Azure's trace
                        "TIMESTAMP": [cfg.at(x).strftime("%Y-%m-%d %H:%M:%S.%f") + "0" for x in t[sel]],
                        "Model": d.model,
                        "ContextTokens": ctx[sel],
                        "GeneratedTokens": gen[sel],
                        "LatencyMs": latency[sel],
                    }
                )
                out.write("inference_requests", cfg.date_of(int(day)), f"{d.deployment_id}.csv", requests)
        else:
            hour = (t // 3600).astype(int)
            for h in np.unique(hour):
                sel = hour == h
                hourly.setdefault(int(h // 24), []).append(
                    {
                        "hour_start": cfg.at(h * 3600).strftime("%Y-%m-%dT%H:00:00Z"),
                        "model_name": d.model,
                        "model_version": d.version,
                        "requests": int(sel.sum()),
                        "input_tokens": int(ctx[sel].sum()),
                        "output_tokens": int(gen[sel].sum()),
                        "latency_p50_ms": float(np.percentile(latency[sel], 50)),
                        "latency_p99_ms": float(np.percentile(latency[sel], 99)),
                    }
                )
    for day in range(cfg.days):
        rows = sorted(hourly.get(day, []), key=lambda r: tuple(r.values()))
        out.write("inference_hourly", cfg.date_of(day), "hourly.csv", rows)
