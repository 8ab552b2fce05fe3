"""Render simulated data in the formats real tools produce: dcgm-exporter text, nvidia-smi CSV, sacct -P."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from pipelines.ingest.parsers.hostlist import compress_hostlist
from pipelines.ingest.parsers.sacct import XDMOD_ORDER

from .config import SKUS

DCGM_FAMILIES = [  # (metric, help, frame column, printf-style decimals or None for integers)
    ("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "util_pct", None),
    ("DCGM_FI_PROF_SM_ACTIVE", "Ratio of cycles an SM has at least 1 warp assigned (in %).", "sm_active", 6),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "Ratio of cycles the tensor (HMMA) pipe is active (in %).", "tensor_active", 6),
    (
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "Ratio of cycles the device memory interface is active sending or receiving data (in %).",
        "dram_active",
        6,
    ),
    ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", "fb_free_mib", None),
    ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "fb_used_mib", None),
    ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "power_w", 6),
    ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "temp_c", None),
    ("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", "xid", None),
]
DRIVER = "550.90.07"


def dcgm_text(frame: pl.DataFrame, host: str, sku: str, kubernetes: bool) -> str:
    """One exposition per file, families grouped, each sample with its scrape timestamp (ms), as a federated
    dump has it. Slurm hosts carry the hpc_job label and the 3.x `Hostname`; Kubernetes hosts run a newer
    exporter that writes `hostname` and pod/namespace/container."""
    host_label = "hostname" if kubernetes else "Hostname"
    base = pl.format(
        'gpu="{}",UUID="{}",pci_bus_id="00000000:{}:00.0",device="nvidia{}",modelName="'
        + SKUS[sku].model
        + f'",{host_label}="{host}",DCGM_FI_DRIVER_VERSION="{DRIVER}"',
        "gpu",
        "uuid",
        pl.col("gpu").cast(pl.String).str.zfill(2),
        "gpu",
    )
    if kubernetes:
        labels = pl.format('{},container="{}",namespace="{}",pod="{}"', base, "container", "namespace", "pod")
    else:
        labels = pl.format('{},hpc_job="{}"', base, "hpc_job")
    return exposition(frame.with_columns(labels=labels), DCGM_FAMILIES)


def exposition(frame: pl.DataFrame, families) -> str:
    """The samples of `frame` (its `labels` and `ts_ms`) as text exposition, one family of `families` after another,
    each with its HELP and TYPE lines and every sample's scrape timestamp (ms)."""
    blocks = []
    for metric, help_text, col, decimals in families:
        value = pl.col(col).round(decimals).cast(pl.String) if decimals else pl.col(col).cast(pl.String)
        lines = frame.select(
            pl.concat_str(
                pl.lit(metric + "{"), "labels", pl.lit("} "), value, pl.lit(" "), pl.col("ts_ms").cast(pl.String)
            )
        ).to_series()
        blocks.append(f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n" + "\n".join(lines.to_list()))
    return "\n".join(blocks) + "\n"


def columnar_frame(frame: pl.DataFrame, host: str, sku: str) -> pl.DataFrame:
    """The canonical columnar form of a host's samples (the `gpu_samples` source): dcgm-exporter's label and
    field names as columns, one row per GPU per sample, values in the exporter's units."""
    fields = {metric: col for metric, _, col, _ in DCGM_FAMILIES}
    return frame.select(
        timestamp=pl.from_epoch("ts_ms", time_unit="ms").dt.replace_time_zone("UTC"),
        Hostname=pl.lit(host),
        gpu="gpu",
        UUID="uuid",
        modelName=pl.lit(SKUS[sku].model),
        hpc_job=pl.when(pl.col("hpc_job") != "").then("hpc_job"),
        **{metric: pl.col(col) for metric, col in fields.items()},
    )


NVSMI_QUERY = (
    "timestamp,name,pci.bus_id,driver_version,uuid,index,utilization.gpu,utilization.memory,"
    "memory.total,memory.used,memory.free,power.draw,temperature.gpu"
)
NVSMI_HEADER = (
    "timestamp, name, pci.bus_id, driver_version, uuid, index, utilization.gpu [%], "
    "utilization.memory [%], memory.total [MiB], memory.used [MiB], memory.free [MiB], "
    "power.draw [W], temperature.gpu"
)


def nvidia_smi_csv(frame: pl.DataFrame, start: datetime, sku: str, power_na: bool) -> str:
    """`nvidia-smi --query-gpu=<NVSMI_QUERY> --format=csv -l N` output: units in the header and the values,
    `YYYY/MM/DD HH:MM:SS.mmm` local timestamps (hosts run on UTC), `[N/A]` where the board reports nothing."""
    s = SKUS[sku]
    ts = pl.lit(start) + pl.duration(milliseconds=pl.col("ts_ms"))
    power = pl.lit("[N/A]") if power_na else pl.format("{} W", pl.col("power_w").round(2))
    rows = frame.select(
        pl.format(
            "{}, "
            + s.model
            + ", 00000000:{}:00.0, "
            + DRIVER
            + ", {}, {}, {} %, {} %, "
            + str(s.fb_total_mib)
            + " MiB, {} MiB, {} MiB, {}, {}",
            ts.dt.strftime("%Y/%m/%d %H:%M:%S%.3f"),
            pl.col("gpu").cast(pl.String).str.zfill(2),
            "uuid",
            "gpu",
            "util_pct",
            (pl.col("dram_active") * 100).round(0).cast(pl.Int64),
            "fb_used_mib",
            "fb_free_mib",
            power,
            "temp_c",
        )
    ).to_series()
    return NVSMI_HEADER + "\n" + "\n".join(rows.to_list()) + "\n"


# the simulator writes sacct -P with the same fields, in the same order, as XDMoD's shredder reads
SACCT_FIELDS = [*XDMOD_ORDER, "WCKey"]


def slurm_time(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") if t else "Unknown"


def slurm_elapsed(seconds: int) -> str:
    d, rem = divmod(max(seconds, 0), 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return (f"{d}-" if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def sacct_rows(rec: dict) -> list[str]:
    """The job line plus, for a started job, its batch/extern/step lines carrying the same TRES (the trap
    that double-counts GPU-hours when steps are summed)."""
    start, end = rec["start"], rec["end"]
    n_nodes = len(rec["nodes"]) or 1
    gres = f"gres/gpu:{rec['gpu_type']}={rec['gpus']},gres/gpu={rec['gpus']}"
    cpus = rec["gpus"] * 12
    req = f"billing={cpus},cpu={cpus},{gres},mem={cpus * 8}G,node={n_nodes}"
    alloc = req if start else ""
    nodelist = compress_hostlist(rec["nodes"]) if rec["nodes"] else "None assigned"
    elapsed = slurm_elapsed(int(((end or rec["asof"]) - start).total_seconds())) if start else "00:00:00"
    common = [
        rec["cluster"],
        rec["partition"],
        rec["qos"],
        rec["account"],
        rec["group"],
        str(rec["gid"]),
        rec["user"],
        str(rec["uid"]),
        slurm_time(rec["submit"]),
        slurm_time(rec["submit"]),
        slurm_time(start),
        slurm_time(end),
        elapsed,
        rec["exit_code"],
        rec["state"],
        str(n_nodes),
        str(cpus),
        str(cpus),
        f"{cpus * 8}G",
        req,
        alloc,
        "3-00:00:00",
        nodelist,
        rec["name"],
        rec["wckey"],
    ]
    rows = ["|".join([rec["job_id"], rec["job_id"], *common])]
    if start:
        step_state = (
            "RUNNING" if rec["state"] == "RUNNING" else ("COMPLETED" if rec["state"] == "COMPLETED" else "CANCELLED")
        )
        for step in ("batch", "extern", "0"):
            fields = [f"{rec['job_id']}.{step}", f"{rec['job_id']}.{step}", *common]
            fields[6] = fields[7] = fields[8] = fields[9] = ""  # steps carry no account/user in sacct -P
            fields[16] = step_state
            fields[3] = fields[4] = ""
            fields[25] = step if step != "0" else "python"
            rows.append("|".join(fields))
    return rows


def iso_ms(start: datetime, t_s: float) -> str:
    return (start + timedelta(seconds=t_s)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# dcgm-exporter 4.x on MIG instances, its shipped dcp-metrics-included.csv set (no GPU_UTIL: MIG does not support it)
DCGM_4X_MIG_FAMILIES = [
    ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "temp_c", None),
    ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "power_w", 6),
    ("DCGM_FI_DEV_XID_ERRORS", "Value of the last XID error encountered.", "xid", None),
    ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", "fb_free_mib", None),
    ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "fb_used_mib", None),
    ("DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).", "fb_reserved_mib", None),
    ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active.", "gr_engine_active", 6),
    ("DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "Ratio of cycles the tensor (HMMA) pipe is active.", "tensor_active", 6),
    (
        "DCGM_FI_PROF_DRAM_ACTIVE",
        "Ratio of cycles the device memory interface is active sending or receiving data.",
        "dram_active",
        6,
    ),
    (
        "DCGM_FI_PROF_PCIE_TX_BYTES",
        "The rate of data transmitted over the PCIe bus - including both protocol headers "
        "and data payloads - in bytes per second.",
        "pcie_tx_bytes",
        None,
    ),
    (
        "DCGM_FI_PROF_PCIE_RX_BYTES",
        "The rate of data received over the PCIe bus - including both protocol headers "
        "and data payloads - in bytes per second.",
        "pcie_rx_bytes",
        None,
    ),
]
# the XID field's blank (DCGM_INT64_BLANK), which a 4.x exporter prints while no XID has occurred
DCGM_INT64_BLANK = "9223372036854775792"


def dcgm_text_mig(frame: pl.DataFrame, host: str, sku: str) -> str:
    """One exposition per file of a MIG host's instance series, each sample with its scrape timestamp (ms)."""
    base = pl.format(
        'gpu="{}",UUID="{}",pci_bus_id="00000000:{}:00.0",device="nvidia{}",modelName="'
        + SKUS[sku].model
        + '",GPU_I_PROFILE="{}",GPU_I_ID="{}",Hostname="'
        + host
        + f'",DCGM_FI_DRIVER_VERSION="{DRIVER}"',
        "gpu",
        "uuid",
        pl.col("gpu").cast(pl.String).str.zfill(2),
        "gpu",
        "gpu_i_profile",
        "gpu_i_id",
    )
    pod = pl.format(',container="{}",namespace="{}",pod="{}"', "container", "namespace", "pod")
    frame = frame.with_columns(
        labels=pl.when(pl.col("pod") != "").then(pl.concat_str(base, pod)).otherwise(base), xid=pl.lit(DCGM_INT64_BLANK)
    )
    return exposition(frame, DCGM_4X_MIG_FAMILIES)
