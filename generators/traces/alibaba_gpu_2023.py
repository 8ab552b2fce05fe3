"""alibaba-gpu-2023: Alibaba's openb GPU cluster trace (cluster-trace-gpu-v2023, "Beware of Fragmentation").

- node list -> host inventory: 1,523 nodes, 1,213 with GPUs (6,212 GPUs); CPU-only nodes are kept as hosts with
  no GPU. GPU models G2/G3 are anonymised by the publisher and kept as named.
- pod list -> Kubernetes Job records, as one export at the trace's end: creation = submit, scheduled = start,
  deletion = `metadata.deletionTimestamp`. `deletion_time` is when the pod was deleted, whatever its phase, and
  `pod_phase` is the last phase seen before that (the publisher's README: "Timestamp of deletion"; its own
  sample deletes Running pods long before the trace ends: median 0.23 h from scheduling, 34 of 5,193 deleted in
  the trace's last minute). Succeeded -> Complete, Failed -> Failed, both ending at their deletion; Running ->
  active until its deletion, which staging reads as deleted while running (no outcome recorded); Pending ->
  never started (queued demand; staging does not read its deletion as an end). An earlier traces README said a
  Running pod's deletion time was only the trace's end; it is corrected. `num_gpu` is the pod's GPU limit; a pod
  with one GPU and `gpu_milli` < 1000 shares that GPU (annotation alibabacloud.com/gpu-milli, read by staging as
  a fraction of a GPU). `gpu_spec` (a GPU-model constraint) becomes the pod's node selector.

Times are seconds from the trace's start: anchored at `epoch` (configurable; the publisher gives no date). The
trace has no GPU telemetry: utilisation is not measured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from .account import DatasetLanding

NODES = "alibaba/v2023_openb_node_list_all_node.csv"
PODS = "alibaba/v2023_openb_pod_list_default.csv"
CLUSTER = "openb"
EPOCH = datetime(2023, 1, 1, tzinfo=UTC)
PHASES = {"Succeeded", "Failed", "Running", "Pending"}

COVERAGE = {
    "inventory": ("full", "every node of the openb cluster, GPU models partly anonymised (G2, G3)"),
    "gpu_telemetry": ("none", "the trace has no GPU measurements"),
    "jobs": ("sample", "the openb pod list is a sample of one production cluster's pods"),
    "traffic": ("none", "no request logs"),
    "cost": ("none", "no rates"),
}


def _iso(epoch: datetime, seconds) -> str | None:
    return None if seconds is None else (epoch + timedelta(seconds=float(seconds))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _job(pod: dict, epoch: datetime) -> dict:
    """One pod as a batch/v1 Job object, in the shape the Kubernetes export has."""
    limits = {"nvidia.com/gpu": str(pod["num_gpu"]), "cpu": f"{pod['cpu_milli']}m", "memory": f"{pod['memory_mib']}Mi"}
    template: dict = {"containers": [{"name": "main", "resources": {"limits": limits}}]}
    if pod["gpu_spec"]:
        template["nodeSelector"] = {"nvidia.com/gpu.product": pod["gpu_spec"]}
    annotations = {}
    if pod["num_gpu"] == 1 and pod["gpu_milli"] < 1000:
        annotations["alibabacloud.com/gpu-milli"] = str(pod["gpu_milli"])
    start, end = _iso(epoch, pod["scheduled_time"]), _iso(epoch, pod["deletion_time"])
    status: dict = {}
    if pod["pod_phase"] == "Running":
        status = {"startTime": start, "active": 1}
    elif pod["pod_phase"] == "Succeeded":
        status = {
            "startTime": start,
            "completionTime": end,
            "succeeded": 1,
            "conditions": [{"type": "Complete", "status": "True", "lastTransitionTime": end}],
        }
    elif pod["pod_phase"] == "Failed":
        status = {
            "startTime": start,
            "failed": 1,
            "conditions": [
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "lastTransitionTime": end}
            ],
        }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": pod["name"],
            "namespace": CLUSTER,
            "creationTimestamp": _iso(epoch, pod["creation_time"]),
            "deletionTimestamp": end,  # every pod of the trace was deleted; Running ones ran until then
            "labels": {"alibabacloud.com/qos": pod["qos"]},  # LS/BE/...: not a workload kind
            "annotations": annotations,
        },
        "spec": {"template": {"spec": template}},
        "status": status,
    }


def _nodes(out: DatasetLanding) -> pl.DataFrame:
    raw = pl.read_csv(out.trace(NODES), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(NODES, raw.height)
    nodes = raw.with_columns(gpu_count=pl.col("gpu").cast(pl.Int64, strict=False))
    bad = (
        pl.col("gpu_count").is_null()
        | (pl.col("gpu_count") < 0)
        | ((pl.col("gpu_count") > 0) & pl.col("model").is_null())
    )
    out.reject(NODES, nodes.filter(bad).select(raw.columns), "bad_gpu_count", "gpu is not a count, or GPUs of no model")
    return nodes.filter(~bad)


def _pods(out: DatasetLanding) -> pl.DataFrame:
    raw = pl.read_csv(out.trace(PODS), infer_schema=False).with_row_index("trace_line", offset=1)
    out.read(PODS, raw.height)
    ints = ["cpu_milli", "memory_mib", "num_gpu", "gpu_milli"]
    times = ["creation_time", "deletion_time", "scheduled_time"]
    pods = raw.with_columns(
        *(pl.col(c).cast(pl.Int64, strict=False) for c in ints),
        *(pl.col(c).cast(pl.Float64, strict=False) for c in times),
        gpu_spec=pl.col("gpu_spec").fill_null(""),
    )
    started = pl.col("pod_phase") != "Pending"
    checks = [
        (~pl.col("pod_phase").is_in(list(PHASES)), "unknown_phase", "pod_phase is not a Kubernetes pod phase"),
        (
            pl.any_horizontal(pl.col(ints).is_null()) | pl.col("creation_time").is_null(),
            "bad_value",
            "a count or the creation time is missing or not a number",
        ),
        (
            started & (pl.col("scheduled_time").is_null() | pl.col("deletion_time").is_null()),
            "bad_timestamp",
            "a started pod without its scheduled or deletion time",
        ),
        (
            (pl.col("num_gpu") != 1) & (pl.col("num_gpu") > 0) & (pl.col("gpu_milli") < 1000),
            "fraction_of_many_gpus",
            "gpu_milli < 1000 on a multi-GPU pod: a share of one GPU cannot span several",
        ),
        (
            started
            & (
                (pl.col("scheduled_time") < pl.col("creation_time"))
                | (pl.col("deletion_time") < pl.col("scheduled_time"))
            ),
            "negative_duration",
            "the pod is scheduled before it is created or deleted before it is scheduled",
        ),
    ]
    for cond, reason, message in checks:
        out.reject(PODS, pods.filter(cond).select(raw.columns), reason, message)
        pods = pods.filter(~cond)
    return pods


def adapt(out: DatasetLanding, epoch: datetime = EPOCH) -> None:
    nodes = _nodes(out)
    out.write(
        "hosts",
        epoch.date(),
        "openb.csv",
        nodes.select(
            host="sn",
            cluster=pl.lit(CLUSTER),
            region=pl.lit(None, pl.String),
            gpu_model="model",
            gpu_count="gpu_count",
            # the trace does not say what the cluster serves; its pods mix latency-sensitive and best-effort work
            pool=pl.lit("shared"),
            reservation=pl.lit(None, pl.String),
            usd_per_gpu_hour=pl.lit(None, pl.Float64),
            valid_from=pl.lit(epoch.replace(tzinfo=None)),
            valid_to=pl.lit(None, pl.Datetime("us")),
        ),
    )
    out.written(NODES, nodes.height)

    pods = _pods(out)
    last = epoch + timedelta(seconds=float(pods["deletion_time"].max() or 0))
    jobs = [_job(p, epoch) for p in pods.iter_rows(named=True)]
    out.write("k8s_jobs", last.date(), f"{CLUSTER}.jsonl", jobs)
    out.written(PODS, len(jobs))
