"""The peer: the daily utilisation an analyst would compute in a pandas notebook, one day's Parquet file at a
time: samples joined to the inventory, GPU-hours, allocated share and mean utilisation per day x cluster x pool
x GPU model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = ["timestamp", "Hostname", "gpu", "hpc_job", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_PROF_SM_ACTIVE"]


def pandas_daily_utilisation(landing: Path, interval_s: int) -> pd.DataFrame:
    days = []
    for folder in sorted((landing / "gpu_samples").glob("dt=*")):
        hosts = pd.read_csv(next((landing / "hosts" / folder.name).glob("*.csv")))
        serving = set(pd.read_csv(next((landing / "serving_deployments" / folder.name).glob("*.csv")))["host"])
        for path in sorted(folder.glob("*.parquet")):
            df = pd.read_parquet(path, columns=COLUMNS)
            df = df.merge(
                hosts[["host", "cluster", "pool", "gpu_model", "reservation"]], left_on="Hostname", right_on="host"
            )
            df["allocated"] = df["hpc_job"].notna() | df["Hostname"].isin(serving)
            df["usage_date"] = df["timestamp"].dt.date
            df["gpu_key"] = df["Hostname"] + "/" + df["gpu"].astype(str)
            days.append(
                df.groupby(["usage_date", "cluster", "pool", "gpu_model"]).agg(
                    gpus=("gpu_key", "nunique"),
                    samples=("gpu", "size"),
                    allocated_samples=("allocated", "sum"),
                    gpu_util_pct=("DCGM_FI_DEV_GPU_UTIL", "mean"),
                    sm_active_ratio=("DCGM_FI_PROF_SM_ACTIVE", "mean"),
                )
            )
    out = pd.concat(days).reset_index()
    out["capacity_gpu_hours"] = out["samples"] * interval_s / 3600
    out["allocated_ratio"] = out["allocated_samples"] / out["samples"]
    return out
