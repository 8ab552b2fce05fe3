"""A fleet at benchmark scale, generated with array operations (no Python loop per sample or per GPU).

Hosts of 8 GPUs: H100 and A100 hosts in a Slurm cluster, L4 hosts serving. Slurm hosts run back-to-back
whole-host jobs with queue waits between them; serving GPUs each carry a deployment whose traffic follows the
day. Writes the landing area the pipeline reads:

- `gpu_samples`: the canonical columnar telemetry (one Parquet file per day, one row per GPU per sample,
  one column per DCGM field in the exporter's units), what a Prometheus export or a telemetry lake hands over;
- inventory, maintenance, sacct, training events, registry and hourly traffic in their usual formats;

and, outside the landing area, a slice of the same samples rendered as dcgm-exporter text and nvidia-smi CSV
(`slices/`) to measure those parsers' throughput."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from generators.landing import Landing
from generators.sim.config import SKUS, Clock, FleetConfig
from generators.sim.fleet import Host, Org
from generators.sim.formats import SACCT_FIELDS, dcgm_text, nvidia_smi_csv, sacct_rows
from generators.sim.generate import SQL_TIME, write_inventory, write_maintenance

GPUS_PER_HOST = 8
MIX = (("H100", 0.55), ("A100", 0.30), ("L4", 0.15))  # share of hosts per GPU model; L4 hosts serve
MEAN_JOB_S, MEAN_WAIT_S = 3 * 3600, 25 * 60
OUTCOMES = (("COMPLETED", "0:0", 0.88), ("FAILED", "1:0", 0.07), ("PREEMPTED", "0:0", 0.03), ("NODE_FAIL", "0:0", 0.02))
TEAMS = ("vision", "speech", "ranking", "llm")


@dataclass(frozen=True)
class BenchFleet(Clock):
    gpus: int = 10_000
    days: int = 7
    seed: int = 1
    interval_s: int = 60
    start: datetime = datetime(2025, 3, 3, tzinfo=UTC)
    slice_minutes: int = 10  # samples of the first minutes of day 0 also rendered as text formats

    @property
    def hosts(self) -> int:
        return max(self.gpus // GPUS_PER_HOST, len(MIX))

    @property
    def horizon_s(self) -> int:
        return self.days * 86400


@dataclass
class Plan:
    hosts: list[Host]
    jobs: pl.DataFrame  # job_id, host, start_s, end_s, submit_s, state, exit_code, team, user
    host_model: np.ndarray  # index into MIX per host
    org: Org = field(default_factory=lambda: Org(list(TEAMS), {}, {}, {}))


def plan(cfg: BenchFleet) -> Plan:
    rng = np.random.default_rng(cfg.seed)
    counts = [max(1, round(cfg.hosts * share)) for _, share in MIX]
    counts[0] = cfg.hosts - sum(counts[1:])
    host_model = np.repeat(np.arange(len(MIX)), counts)
    hosts = []
    for i, m in enumerate(host_model):
        sku = MIX[m][0]
        serving = sku == "L4"
        cluster = "serve-c" if serving else "slurm-a"
        uuids = [f"GPU-{cfg.seed:04x}{i:08x}-{g:04x}-4000-8000-{i * 8 + g:012x}" for g in range(GPUS_PER_HOST)]
        hosts.append(
            Host(
                f"{cluster[:5]}-{SKUS[sku].short}-{i:05d}",
                cluster,
                "inference" if serving else "training",
                sku,
                GPUS_PER_HOST,
                "none",
                0,
                uuids,
            )
        )
    # a DR buffer (2% of training hosts) and one push buffer: reserved, never scheduled
    training = [h for h in hosts if h.pool == "training"]
    for h in training[:: max(1, len(training) // max(1, len(training) // 50))][: max(1, len(training) // 50)]:
        h.reservation = "dr_buffer"
    next(h for h in hosts if h.pool == "inference").reservation = "push_buffer"
    # 1% of hosts take a 2-hour planned maintenance window on day 1 (or day 0 of a 1-day fleet)
    day = min(1, cfg.days - 1)
    for h in hosts[7::100]:
        h.down.append((day * 86400 + 10 * 3600, day * 86400 + 12 * 3600, "planned"))
    users = {f"u{k:03d}": TEAMS[k % len(TEAMS)] for k in range(40)}
    org = Org(list(TEAMS), users, {f"{t}-base": t for t in TEAMS}, {})
    return Plan(hosts, _jobs(cfg, hosts, users, rng), host_model, org)


def _jobs(cfg: BenchFleet, hosts: list[Host], users: dict[str, str], rng: np.random.Generator) -> pl.DataFrame:
    """Back-to-back whole-host jobs on every schedulable training host: wait, run, wait, run..."""
    slurm = [i for i, h in enumerate(hosts) if h.cluster == "slurm-a" and h.reservation == "none"]
    per_host = int(cfg.horizon_s / (MEAN_JOB_S + MEAN_WAIT_S) * 2) + 4
    n = len(slurm) * per_host
    wait = rng.exponential(MEAN_WAIT_S, n).astype(np.int64) + 60
    run = np.clip(rng.lognormal(np.log(MEAN_JOB_S) - 0.5, 1.0, n), 600, 86400).astype(np.int64)
    cycle = (wait + run).reshape(len(slurm), per_host)
    end = np.cumsum(cycle, axis=1).ravel()
    start = end - run
    host = np.repeat(np.array(slurm), per_host)
    keep = start < cfg.horizon_s
    outcome = rng.choice(len(OUTCOMES), n, p=[o[2] for o in OUTCOMES])
    user_names = np.array(sorted(users))
    user = user_names[rng.integers(0, len(user_names), n)]
    frame = pl.DataFrame(
        {
            "host": host[keep],
            "start_s": start[keep],
            "end_s": end[keep],
            "submit_s": (start - wait)[keep],
            "outcome": outcome[keep],
            "user": user[keep],
        }
    ).sort("start_s", "host")
    return frame.with_columns(job_id=pl.int_range(1_000_000, 1_000_000 + frame.height))


def write(cfg: BenchFleet, root: Path) -> dict:
    """Write the landing area under root/landing and the text slices under root/slices; returns the figures."""
    p = plan(cfg)
    out = Landing(root / "landing")
    sim_cfg = FleetConfig(days=cfg.days, start=cfg.start)
    write_inventory(sim_cfg, out, p.hosts, p.org)
    write_maintenance(sim_cfg, out, p.hosts)
    samples = 0
    for day in range(cfg.days):
        frame = day_samples(cfg, p, day)
        samples += frame.height
        out.write(
            "gpu_samples", cfg.date_of(day), "samples.parquet", frame, compression="zstd", row_group_size=1_000_000
        )
        if day == 0 and cfg.slice_minutes:
            _write_slices(cfg, p, frame, Landing(root / "slices"))
        del frame
    _write_sacct(cfg, out, p)
    _write_events(cfg, out, p)
    _write_serving(cfg, out, p)
    return {
        "gpus": cfg.hosts * GPUS_PER_HOST,
        "hosts": cfg.hosts,
        "days": cfg.days,
        "samples": samples,
        "jobs": p.jobs.height,
    }


def day_samples(cfg: BenchFleet, p: Plan, day: int) -> pl.DataFrame:
    """Every GPU sample of one day: hosts x instants x GPUs, what runs looked up by searchsorted."""
    rng = np.random.default_rng([cfg.seed, day])
    n_hosts, g = len(p.hosts), GPUS_PER_HOST
    t = day * 86400 + np.arange(0, 86400, cfg.interval_s, dtype=np.int64)
    host = np.repeat(np.arange(n_hosts), t.size)
    ts = np.tile(t, n_hosts)
    # the job (if any) on each host at each instant: jobs sorted by (host, start)
    jobs = p.jobs.sort("host", "start_s")
    j_host, j_start, j_end = (jobs[c].to_numpy() for c in ("host", "start_s", "end_s"))
    big = np.int64(1 << 32)
    idx = np.searchsorted(j_host * big + j_start, host * big + ts, side="right") - 1
    safe = np.clip(idx, 0, None)
    running = (idx >= 0) & (j_host[safe] == host) & (ts < j_end[safe]) if jobs.height else np.zeros(ts.size, bool)
    job_id = np.where(running, jobs["job_id"].to_numpy()[safe] if jobs.height else 0, -1)
    serving = np.array([h.cluster == "serve-c" and h.reservation == "none" for h in p.hosts])[host]
    up = np.ones(ts.size, bool)
    for i, h in enumerate(p.hosts):
        for a, b, _ in h.down:
            up &= ~((host == i) & (ts >= a) & (ts < b))
    host, ts, running, job_id, serving = host[up], ts[up], running[up], job_id[up], serving[up]
    # per host-instant load, then per GPU noise
    load = np.where(running, rng.beta(8, 1.5, ts.size), 0.0)
    diurnal = 0.55 + 0.45 * np.sin(2 * np.pi * ((ts % 86400) / 86400 - 0.3))
    load = np.where(serving, diurnal * rng.beta(2, 5, ts.size) * 2, load).clip(0, 1)
    host_g, ts_g, job_g = (np.repeat(a, g) for a in (host, ts, job_id))
    load_g = np.clip(np.repeat(load, g) * rng.normal(1, 0.04, host_g.size).astype(np.float32), 0, 1)
    busy_g = np.repeat(running | serving, g)
    gpu = np.tile(np.arange(g, dtype=np.int8), host.size)
    sku = np.array([MIX[m][0] for m in p.host_model])[host_g]
    fb_total = np.array([SKUS[s].fb_total_mib for s, _ in MIX])[np.repeat(p.host_model[host], g)]
    tdp = np.array([SKUS[s].tdp_w for s, _ in MIX])[np.repeat(p.host_model[host], g)]
    idle_w = np.array([SKUS[s].idle_w for s, _ in MIX])[np.repeat(p.host_model[host], g)]
    fb_used = np.where(busy_g, fb_total * (0.55 + 0.4 * load_g), 300 + 0 * load_g).astype(np.int64)
    jitter_ms = np.repeat(rng.integers(0, 900, host.size), g)
    frame = pl.DataFrame(
        {
            "timestamp": ((ts_g + int(cfg.start.timestamp())) * 1000 + jitter_ms).astype("datetime64[ms]"),
            "Hostname": pl.Series([h.host_id for h in p.hosts]).gather(host_g),
            "gpu": gpu,
            "UUID": pl.Series([u for h in p.hosts for u in h.gpu_uuids]).gather(host_g * g + gpu),
            "modelName": pl.Series([SKUS[s].model for s, _ in MIX]).gather(np.repeat(p.host_model[host], g)),
            "hpc_job": pl.Series(job_g).cast(pl.String),
            "DCGM_FI_DEV_GPU_UTIL": np.round(load_g * 100).astype(np.int16),
            "DCGM_FI_PROF_SM_ACTIVE": (load_g * 0.8).astype(np.float32),
            "DCGM_FI_PROF_PIPE_TENSOR_ACTIVE": (load_g * 0.5).astype(np.float32),
            "DCGM_FI_PROF_DRAM_ACTIVE": (load_g * 0.45).astype(np.float32),
            "DCGM_FI_DEV_FB_USED": fb_used,
            "DCGM_FI_DEV_FB_FREE": fb_total - fb_used,
            "DCGM_FI_DEV_POWER_USAGE": (idle_w + load_g * (tdp - idle_w)).astype(np.float32),
            "DCGM_FI_DEV_GPU_TEMP": (30 + 45 * load_g).astype(np.int16),
            "DCGM_FI_DEV_XID_ERRORS": np.zeros(host_g.size, np.int16),
        }
    )
    del sku
    return frame.with_columns(
        pl.col("timestamp").dt.replace_time_zone("UTC"),
        hpc_job=pl.when(pl.col("hpc_job") != "-1").then("hpc_job"),
    )


def _write_slices(cfg: BenchFleet, p: Plan, frame: pl.DataFrame, out: Landing) -> None:
    """The first slice_minutes of day 0 as each host's dcgm-exporter scrape dump and nvidia-smi log (laid out as
    a landing area of their own, apart from the pipeline's)."""
    until = cfg.start + timedelta(minutes=cfg.slice_minutes)
    part = frame.filter(pl.col("timestamp") < until).select(
        "Hostname",
        ts_ms=pl.col("timestamp").dt.epoch("ms"),
        gpu=pl.col("gpu").cast(pl.Int64),
        uuid="UUID",
        util_pct="DCGM_FI_DEV_GPU_UTIL",
        sm_active="DCGM_FI_PROF_SM_ACTIVE",
        tensor_active="DCGM_FI_PROF_PIPE_TENSOR_ACTIVE",
        dram_active="DCGM_FI_PROF_DRAM_ACTIVE",
        fb_free_mib="DCGM_FI_DEV_FB_FREE",
        fb_used_mib="DCGM_FI_DEV_FB_USED",
        power_w="DCGM_FI_DEV_POWER_USAGE",
        temp_c="DCGM_FI_DEV_GPU_TEMP",
        xid="DCGM_FI_DEV_XID_ERRORS",
        hpc_job=pl.col("hpc_job").fill_null(""),
    )
    sku_of = {h.host_id: h.sku for h in p.hosts}
    start_ms = int(cfg.start.timestamp() * 1000)
    for (host,), rows in part.group_by("Hostname", maintain_order=True):
        text = dcgm_text(rows, host, sku_of[host], kubernetes=False)
        out.write_text("dcgm_samples", cfg.date_of(0), f"{host}.prom", text)
        smi = nvidia_smi_csv(rows.with_columns(ts_ms=pl.col("ts_ms") - start_ms), cfg.start, sku_of[host], False)
        out.write_text("nvidia_smi_samples", cfg.date_of(0), f"{host}.csv", smi)


def _write_sacct(cfg: BenchFleet, out: Landing, p: Plan) -> None:
    """sacct -P per day: the jobs submitted by the day's end that had not ended before it began."""
    names = [h.host_id for h in p.hosts]
    uids = {u: 20000 + i for i, u in enumerate(sorted(p.org.users))}
    jobs = p.jobs.to_dicts()
    for day in range(cfg.days):
        day0, day1 = day * 86400, (day + 1) * 86400
        lines = ["|".join(SACCT_FIELDS)]
        for j in jobs:
            if j["submit_s"] >= day1 or j["end_s"] < day0:
                continue
            started, ended = j["start_s"] < day1, j["end_s"] < day1
            state, code, _ = OUTCOMES[j["outcome"]] if ended else ("RUNNING" if started else "PENDING", "0:0", 0)
            sku = p.hosts[j["host"]].sku
            lines += sacct_rows(
                {
                    "job_id": str(j["job_id"]),
                    "cluster": "slurm-a",
                    "partition": SKUS[sku].short,
                    "qos": "normal",
                    "account": p.org.users[j["user"]],
                    "group": p.org.users[j["user"]],  # a team's group: organisational, not a person
                    "gid": 5000,
                    "user": j["user"],
                    "uid": uids[j["user"]],
                    "submit": cfg.at(j["submit_s"]),
                    "start": cfg.at(j["start_s"]) if started else None,
                    "end": cfg.at(j["end_s"]) if ended else None,
                    "asof": cfg.at(min(day1, cfg.horizon_s)),
                    "exit_code": code,
                    "state": state,
                    "nodes": [names[j["host"]]] if started else [],
                    "gpus": GPUS_PER_HOST,
                    "gpu_type": SKUS[sku].short,
                    "name": f"train-{j['job_id']}",
                    "wckey": f"{p.org.users[j['user']]}-base",
                }
            )
        out.write_text("sacct_jobs", cfg.date_of(day), "sacct_slurm-a.txt", "\n".join(lines) + "\n")


def _write_events(cfg: BenchFleet, out: Landing, p: Plan) -> None:
    """Lifecycle events of every job: submitted, allocated, first batch, progress, and how it ended."""
    j = p.jobs.with_columns(run_id=pl.format("train-{}", "job_id"), sched=pl.col("job_id").cast(pl.String))
    common = {"run_id": pl.col("run_id"), "scheduler_job_id": pl.col("sched"), "cluster": pl.lit("slurm-a")}
    team = pl.col("user").replace_strict(p.org.users)
    first_batch = pl.col("start_s") + 300
    completed = pl.col("outcome") == 0
    events = [
        j.select(
            t="submit_s",
            **common,
            event=pl.lit("submitted"),
            team=team,
            user="user",
            project=team + "-base",
            model=team + "-m1",
            framework=pl.lit("pytorch"),
            n_gpus=pl.lit(GPUS_PER_HOST),
        ),
        j.select(t="start_s", **common, attempt=pl.lit(1), event=pl.lit("allocated"), n_gpus=pl.lit(GPUS_PER_HOST)),
        j.filter(first_batch < pl.col("end_s")).select(
            t=first_batch, **common, attempt=pl.lit(1), event=pl.lit("first_batch")
        ),
        j.select(
            t="end_s",
            **common,
            attempt=pl.lit(1),
            event=pl.lit("progress"),
            samples_new=(pl.col("end_s") - first_batch).clip(0) * 40,
            samples_replayed=pl.lit(0),
        ),
        j.select(
            t="end_s",
            **common,
            attempt=pl.lit(1),
            event=pl.lit("job_ended"),
            final_state=pl.when(completed).then(pl.lit("completed")).otherwise(pl.lit("failed")),
        ),
    ]
    ts = (pl.lit(cfg.start) + pl.duration(seconds=pl.col("t"))).dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    events = [e.with_columns(ts=ts).select("t", "ts", pl.exclude("t", "ts")) for e in events]
    by_day: dict[int, list] = {}
    for e in events:
        e = e.filter((pl.col("t") >= 0) & (pl.col("t") < cfg.horizon_s))
        for t, record in zip(e["t"].to_list(), e.drop("t").to_dicts()):
            by_day.setdefault(t // 86400, []).append((t, record))
    for day in range(cfg.days):
        records = [r for _, r in sorted(by_day.get(day, []), key=lambda item: item[0])]  # ties in event order
        out.write("training_events", cfg.date_of(day), "events.jsonl", records)


def _write_serving(cfg: BenchFleet, out: Landing, p: Plan) -> None:
    """One deployment per serving host (all its GPUs) for the whole run, and its hourly traffic; every tenth
    model is barely called."""
    serving = [h for h in p.hosts if h.cluster == "serve-c" and h.reservation == "none"]
    teams = list(TEAMS)
    deps = [
        {
            "deployment_id": f"dep-{i:05d}",
            "model_name": f"model-{i:05d}",
            "model_version": 1,
            "cluster": "serve-c",
            "host": h.host_id,
            "gpu_indices": ";".join(map(str, range(GPUS_PER_HOST))),
            "started_at": cfg.at(0).strftime(SQL_TIME),
            "ended_at": None,
            "team": teams[i % len(teams)],
        }
        for i, h in enumerate(serving)
    ]
    hours = np.arange(cfg.days * 24)
    rng = np.random.default_rng([cfg.seed, 99])
    base = np.where(np.arange(len(serving)) % 10 == 0, 0.01, rng.lognormal(3, 1, len(serving)))
    shape = 0.55 + 0.45 * np.sin(2 * np.pi * ((hours % 24) / 24 - 0.3))
    requests = rng.poisson(np.outer(base, shape) * 3600)
    traffic = pl.DataFrame(
        {
            "hour": np.tile(hours, len(serving)),
            "model_name": np.repeat([d["model_name"] for d in deps], hours.size),
            "requests": requests.ravel(),
        }
    ).with_columns(
        hour_start=(pl.lit(cfg.start) + pl.duration(hours=pl.col("hour"))).dt.strftime("%Y-%m-%dT%H:00:00Z"),
        model_version=pl.lit(1),
        input_tokens=pl.col("requests") * 700,
        output_tokens=pl.col("requests") * 90,
        latency_p50_ms=pl.lit(180.0),
        latency_p99_ms=pl.lit(900.0),
    )
    for day in range(cfg.days):
        date = cfg.date_of(day)
        out.write("serving_deployments", date, "deployments.csv", deps)
        out.write("inference_hourly", date, "hourly.csv", traffic.filter(pl.col("hour") // 24 == day).drop("hour"))
        stage = (
            [
                {
                    "event_time": cfg.at(0).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "model_name": d["model_name"],
                    "version": 1,
                    "from_stage": "evaluation",
                    "to_stage": "deployed",
                }
                for d in deps
            ]
            if day == 0
            else []
        )
        out.write("model_stage_events", date, "stage_events.jsonl", stage)
