"""The floor: what the core of the work costs when written by hand in DuckDB SQL straight from the canonical
files, with none of the warehouse around it (no load, no audit, no staging, no tests, no publish).

Computes the daily fleet utilisation (fct_fleet_utilization_daily's grain: day x cluster x pool x GPU model) and
the capacity-state GPU-hours, each sample joined to the allocation that held its GPU: the Slurm job named by its
hpc_job label (within the job's start/end) or the serving deployment on its host."""

from __future__ import annotations

from pathlib import Path

import duckdb

FLOOR_SQL = """
with samples as (
    select Hostname as host_id, gpu, timestamp as measured_at, hpc_job,
        DCGM_FI_DEV_GPU_UTIL / 100.0 as util, DCGM_FI_PROF_SM_ACTIVE as sm_active
    from read_parquet({samples})
),
hosts as (
    select distinct host as host_id, cluster, pool, gpu_model, coalesce(reservation, 'none') as reservation
    from read_csv({hosts}, header = true)
),
jobs as (
    select JobID as job_id, strptime(Start, '%Y-%m-%dT%H:%M:%S') as started_at,
        strptime(nullif("End", 'Unknown'), '%Y-%m-%dT%H:%M:%S') as ended_at
    from read_csv({sacct}, delim = '|', header = true, all_varchar = true)
    where JobID not like '%.%' and Start <> 'Unknown'
    qualify row_number() over (partition by JobID order by "End" = 'Unknown', "End" desc) = 1
),
deployments as (
    select distinct host as host_id from read_csv({deployments}, header = true)
),
classified as (
    select samples.*, hosts.cluster, hosts.pool, hosts.gpu_model,
        case
            when hosts.reservation = 'dr_buffer' then 'reserved_dr'
            when hosts.reservation = 'push_buffer' then 'reserved_push'
            when jobs.job_id is not null or deployments.host_id is not null then
                case when util < {idle_threshold} then 'allocated_idle' else 'allocated_active' end
            else 'idle'
        end as capacity_state
    from samples
    join hosts using (host_id)
    left join jobs
        on samples.hpc_job = jobs.job_id
        and samples.measured_at >= jobs.started_at::timestamptz
        and (jobs.ended_at is null or samples.measured_at < jobs.ended_at::timestamptz)
    left join deployments on samples.host_id = deployments.host_id and samples.hpc_job is null
)
select measured_at::date as usage_date, cluster, pool, gpu_model, capacity_state,
    count(distinct host_id || '/' || gpu) as gpus,
    count(*) * {interval_s} / 3600.0 as gpu_hours,
    avg(util) as gpu_util_ratio,
    avg(sm_active) as sm_active_ratio
from classified
group by all
order by all
"""


def _glob(landing: Path, table: str, pattern: str) -> str:
    return "'" + str(landing / table / "dt=*" / pattern).replace("'", "''") + "'"


def floor_query(landing: Path, interval_s: int, idle_threshold: float = 0.05) -> str:
    return FLOOR_SQL.format(
        samples=_glob(landing, "gpu_samples", "*.parquet"),
        hosts=_glob(landing, "hosts", "*.csv").replace("dt=*", "dt=*"),
        sacct=_glob(landing, "sacct_jobs", "*.txt"),
        deployments=_glob(landing, "serving_deployments", "*.csv"),
        interval_s=interval_s,
        idle_threshold=idle_threshold,
    )


def run_floor(landing: Path, interval_s: int, threads: int, memory_limit: str) -> list[tuple]:
    """Capacity-state GPU-hours and utilisation per day x cluster x pool x GPU model x state."""
    with duckdb.connect(config={"threads": threads, "memory_limit": memory_limit}) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.execute(floor_query(landing, interval_s)).fetchall()
