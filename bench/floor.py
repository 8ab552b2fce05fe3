"""The fair floor: what the core of the work costs when written by hand in DuckDB SQL straight from the bench
fleet's landing files (generators/fleet_scale.py), with none of the warehouse around it (no load, no audit, no
staging, no tests, no publish).

One query computes what the capacity marts define, at their grain: seconds per GPU x UTC hour x holder x capacity
state (fct_gpu_holder_hourly holds the allocated states per holder, fct_gpu_capacity_hourly the rest per GPU-hour;
the bench checks the floor equals them row for row). As int_gpu_hours_by_allocation_and_state does, a sample covers
the time to its GPU's next sample, at most telemetry_gap_factor x its host's median scrape gap that day, cut at
maintenance boundaries and split at the hour; it is classified at its instant (maintenance, reservation, held by
its hpc_job label or a deployment of its GPU and idle below allocated_idle_util_threshold, free while the cluster's
queue waits for its GPU family or another). Unobserved time is down_planned inside maintenance, down_unplanned
outside, over every hour each inventoried GPU existed in the telemetry window.

Only what the bench fleet's files hold: columnar samples (no dcgm/nvidia-smi text), no MIG, no time-slicing, no
Kubernetes, one inventory period per host, full coverage (no public-trace "unmeasured")."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import yaml

from pipelines.lib import settings

FLOOR_SQL = """
with samples as not materialized (
    select
        Hostname as host_id,
        gpu::integer as gpu_index,
        -- per sample, time is integer microseconds: epoch arithmetic is exact and far cheaper than
        -- timestamptz functions (date_trunc, ::date) on every row
        epoch_us("timestamp") as at_us,
        nullif(hpc_job, '') as hpc_job_id,
        DCGM_FI_DEV_GPU_UTIL::double / 100.0 as gpu_util_ratio
    from read_parquet($samples)
),

hosts as (
    select
        host as host_id, cluster, gpu_model, gpu_count::integer as gpu_count,
        coalesce(nullif(reservation, ''), 'none') as reservation,
        timezone('UTC', valid_from::timestamp) as valid_from,
        timezone('UTC', nullif(valid_to, '')::timestamp) as valid_to
    from read_csv($hosts, header = true, all_varchar = true, union_by_name = true, filename = true)
    -- the newest export's row (the files' paths sort by their dt= day)
    qualify row_number() over (partition by host, valid_from order by filename desc) = 1
),

maintenance as (
    select host as host_id, timezone('UTC', starts_at::timestamp) as starts_at,
        timezone('UTC', ends_at::timestamp) as ends_at
    from read_csv($maintenance, header = true, all_varchar = true, union_by_name = true, filename = true)
    qualify row_number() over (partition by window_id order by filename desc) = 1
),

boundaries as (
    select host_id, starts_at as boundary_at from maintenance
    union
    select host_id, ends_at from maintenance
),

-- (a file of the day without deployments has only the header, with every column the source knows)
deployments as (
    select deployment_id, host as host_id, gpu_indices, timezone('UTC', started_at::timestamp) as started_at,
        timezone('UTC', nullif(ended_at, '')::timestamp) as ended_at
    from read_csv($deployments, header = true, all_varchar = true, union_by_name = true, filename = true)
    qualify row_number() over (partition by deployment_id order by filename desc) = 1
),

deployed_gpus as (
    select
        deployment_id,
        host_id,
        unnest(string_split(gpu_indices, ';'))::integer as gpu_index,
        epoch_us(started_at) as started_us,
        epoch_us(ended_at) as ended_us
    from deployments
),

skus as (
    select gpu_model, family, gres_type from read_csv($skus, header = true)
),

-- Slurm jobs (not steps) as of the newest sacct export, and the time each waited for its GPU family
jobs as (
    select
        Cluster as cluster,
        timezone('UTC', try_strptime(nullif(nullif(Submit, 'Unknown'), 'None'), '%Y-%m-%dT%H:%M:%S')) as submitted_at,
        timezone('UTC', try_strptime(nullif(nullif(Eligible, 'Unknown'), 'None'), '%Y-%m-%dT%H:%M:%S')) as eligible_at,
        timezone('UTC', try_strptime(nullif(nullif(Start, 'Unknown'), 'None'), '%Y-%m-%dT%H:%M:%S')) as started_at,
        timezone('UTC', try_strptime(nullif(nullif("End", 'Unknown'), 'None'), '%Y-%m-%dT%H:%M:%S')) as ended_at,
        coalesce(nullif(AllocTRES, ''), ReqTRES) as tres
    from read_csv($sacct, delim = '|', header = true, all_varchar = true, filename = true)
    where JobID not like '%.%'
    qualify row_number() over (partition by Cluster, JobID order by filename desc) = 1
),

waits as (
    select
        jobs.cluster,
        gres.family as gpu_family,
        coalesce(eligible_at, submitted_at) as waiting_from,
        coalesce(started_at, ended_at, timestamptz '9999-12-31 00:00:00+00') as waiting_until
    from jobs
    left join (select distinct gres_type, family from skus) as gres
        on lower(regexp_extract(tres, 'gres/gpu:([^=,]+)=', 1)) = gres.gres_type
    where coalesce(try_cast(nullif(regexp_extract(tres, 'gres/gpu=(\\d+)', 1), '') as integer), 0) > 0
        and coalesce(eligible_at, submitted_at) < coalesce(started_at, ended_at, timestamptz '9999-12-31 00:00:00+00')
),

-- overlapping waits of a family merged (gaps and islands), then the queue cut where any island starts or ends,
-- each segment with the families waiting in it ('*': a job that takes any family)
islands as (
    select cluster, gpu_family, min(waiting_from) as waiting_from, max(waiting_until) as waiting_until
    from (
        select *, sum(starts_island) over (
            partition by cluster, gpu_family order by waiting_from, waiting_until rows unbounded preceding
        ) as island
        from (
            select *, coalesce(waiting_from > max(waiting_until) over (
                partition by cluster, gpu_family order by waiting_from, waiting_until
                rows between unbounded preceding and 1 preceding
            ), true)::integer as starts_island
            from waits
        )
    )
    group by cluster, gpu_family, island
),

queue_segments as (
    select
        cluster,
        point_at as segment_from,
        lead(point_at) over (partition by cluster order by point_at) as segment_until
    from (select cluster, waiting_from as point_at from islands union select cluster, waiting_until from islands)
),

queue_state as (
    select s.cluster, s.segment_from, s.segment_until, list(distinct coalesce(i.gpu_family, '*')) as families
    from queue_segments as s
    inner join islands as i
        on s.cluster = i.cluster and i.waiting_from <= s.segment_from and i.waiting_until >= s.segment_until
    group by all
),

-- The model's day batches read their day's samples plus the next day's first hour, so a sample's (or scrape
-- instant's) successor counts only if it comes before 01:00 of the next UTC day (86400e6 us a day, 3600e6 an
-- hour): beyond, the model sees none.
gaps as (
    select *, if(next_us < (at_us // 86400000000 + 1) * 86400000000 + 3600000000, next_us - at_us, null) as gap_us
    from (select *, lead(at_us) over (partition by host_id, gpu_index order by at_us) as next_us from samples)
),

-- a host's GPUs share its scrape instants: what the host is in is looked up once per instant
instants as (
    select
        *,
        make_timestamp(at_us)::timestamptz as measured_at,
        if(next_us < (at_us // 86400000000 + 1) * 86400000000 + 3600000000, next_us - at_us, null) as gap_us
    from (
        select host_id, at_us, lead(at_us) over (partition by host_id order by at_us) as next_us
        from (select distinct host_id, at_us from samples)
    )
),

typical as (
    select host_id, at_us // 86400000000 as sample_day, median(gap_us) as typical_gap_us
    from instants
    where gap_us > 0
    group by all
),

instant_context as (
    select
        instants.host_id,
        instants.at_us,
        hosts.reservation,
        typical.typical_gap_us,
        coalesce(instants.measured_at < maintenance.ends_at, false) as in_maintenance,
        epoch_us(boundaries.boundary_at) - epoch_us(instants.measured_at) as to_boundary_us,
        coalesce(
            instants.measured_at < q.segment_until
            and (list_contains(q.families, skus.family) or list_contains(q.families, '*')),
            false
        ) as same_family_waiting,
        coalesce(
            instants.measured_at < q.segment_until
            and len(list_filter(q.families, lambda f: f <> '*' and f <> skus.family)) > 0,
            false
        ) as other_family_waiting
    from instants
    left join hosts
        on instants.host_id = hosts.host_id
        and instants.measured_at >= hosts.valid_from
        and (hosts.valid_to is null or instants.measured_at < hosts.valid_to)
    left join skus on hosts.gpu_model = skus.gpu_model
    left join typical on instants.host_id = typical.host_id and instants.at_us // 86400000000 = typical.sample_day
    asof left join maintenance
        on instants.host_id = maintenance.host_id and instants.measured_at >= maintenance.starts_at
    asof left join boundaries
        on instants.host_id = boundaries.host_id and instants.measured_at < boundaries.boundary_at
    asof left join queue_state as q
        on hosts.cluster = q.cluster and instants.measured_at >= q.segment_from
),

classified as (
    select
        gaps.host_id,
        gaps.gpu_index,
        gaps.at_us,
        coalesce(least(
            coalesce(gaps.gap_us, c.typical_gap_us), $gap_factor * c.typical_gap_us, 3600e6, c.to_boundary_us
        ), 0)::bigint as covered_us,
        coalesce(gaps.hpc_job_id, deployed_gpus.deployment_id) as allocation_id,
        case
            when gaps.hpc_job_id is not null then 'slurm' when deployed_gpus.deployment_id is not null then 'serving'
        end as allocation_source,
        case
            when c.in_maintenance then 'down_planned'
            when c.reservation = 'dr_buffer' then 'reserved_dr'
            when c.reservation = 'push_buffer' then 'reserved_push'
            when allocation_id is not null and gaps.gpu_util_ratio < $idle_threshold then 'allocated_idle'
            when allocation_id is not null then 'allocated_active'
            when c.same_family_waiting then 'idle_fragmented'
            when c.other_family_waiting then 'idle_hw_mismatch'
            else 'idle_no_demand'
        end as capacity_state
    from gaps
    left join instant_context as c on gaps.host_id = c.host_id and gaps.at_us = c.at_us
    left join deployed_gpus
        on gaps.host_id = deployed_gpus.host_id
        and gaps.gpu_index = deployed_gpus.gpu_index
        and gaps.at_us >= deployed_gpus.started_us
        and (deployed_gpus.ended_us is null or gaps.at_us < deployed_gpus.ended_us)
),

-- the covered time to the end of the sample's hour, and the rest in the next (coverage is under an hour); a
-- holder holds only allocated time (a label seen inside maintenance holds nothing)
pieces as (
    select
        host_id,
        gpu_index,
        hour_us + next_hour * 3600000000 as hour_us,
        if(capacity_state in ('allocated_active', 'allocated_idle'), allocation_source, null) as allocation_source,
        if(capacity_state in ('allocated_active', 'allocated_idle'), allocation_id, null) as allocation_id,
        capacity_state,
        if(next_hour = 0, least(covered_us, left_us), covered_us - left_us) as piece_us
    from (
        select *, unnest(if(covered_us > left_us, [0, 1], [0])) as next_hour
        from (select *, hour_us + 3600000000 - at_us as left_us from (
            select *, at_us // 3600000000 * 3600000000 as hour_us from classified
        ))
    )
),

observed as (
    select make_timestamp(hour_us)::timestamptz as hour_at, * exclude (hour_us)
    from (
        select hour_us, host_id, gpu_index, allocation_source, allocation_id, capacity_state, sum(piece_us) as us
        from pieces
        where piece_us > 0
        group by all
    )
),

-- every hour each inventoried GPU existed in the telemetry window (whole UTC days with samples)
telemetry_window as (
    select make_timestamp(min(at_us) // 86400000000 * 86400000000)::timestamptz as window_start,
        make_timestamp((max(at_us) // 86400000000 + 1) * 86400000000)::timestamptz as window_end
    from samples
),

gpus as (
    select
        host_id,
        unnest(range(gpu_count)) as gpu_index,
        greatest(valid_from, window_start) as exists_from,
        least(coalesce(valid_to, window_end), window_end) as exists_until
    from hosts, telemetry_window
),

spine as (
    select
        host_id,
        gpu_index,
        hour_at,
        greatest(hour_at, exists_from) as existing_from,
        least(hour_at + interval 1 hour, exists_until) as existing_until
    from (
        select *, unnest(generate_series(date_trunc('hour', exists_from), exists_until - interval 1 microsecond,
            interval 1 hour)) as hour_at
        from gpus
        where exists_from < exists_until
    )
),

planned as (
    select spine.host_id, spine.gpu_index, spine.hour_at,
        sum(epoch_us(least(m.ends_at, spine.existing_until)) - epoch_us(greatest(m.starts_at, spine.existing_from)))
            as planned_us
    from spine
    inner join maintenance as m
        on spine.host_id = m.host_id and m.starts_at < spine.existing_until and m.ends_at > spine.existing_from
    group by all
),

gpu_hours as (
    select
        spine.host_id,
        spine.gpu_index,
        spine.hour_at,
        epoch_us(spine.existing_until) - epoch_us(spine.existing_from) as existing_us,
        coalesce(planned.planned_us, 0) as planned_us,
        coalesce(seen.observed_us, 0) as observed_us,
        coalesce(seen.observed_down_planned_us, 0) as observed_down_planned_us
    from spine
    left join planned using (host_id, gpu_index, hour_at)
    left join (
        select host_id, gpu_index, hour_at, sum(us) as observed_us,
            coalesce(sum(us) filter (where capacity_state = 'down_planned'), 0) as observed_down_planned_us
        from observed
        group by all
    ) as seen using (host_id, gpu_index, hour_at)
),

-- observed states but down_planned, which is all of the maintenance time; down_unplanned: unobserved time
-- outside maintenance
final as (
    select hour_at, host_id, gpu_index, allocation_source, allocation_id, capacity_state, us
    from observed
    semi join spine using (host_id, gpu_index, hour_at)
    where capacity_state <> 'down_planned'
    union all
    select hour_at, host_id, gpu_index, null, null, 'down_planned', planned_us
    from gpu_hours
    where planned_us <> 0
    union all
    select hour_at, host_id, gpu_index, null, null, 'down_unplanned',
        existing_us - observed_us - (planned_us - observed_down_planned_us)
    from gpu_hours
    where existing_us - observed_us - (planned_us - observed_down_planned_us) <> 0
)

select hour_at, host_id, gpu_index, allocation_source, allocation_id, capacity_state, us / 1e6 as seconds
from final
"""


def _glob(landing: Path, table: str, pattern: str) -> str:
    return str(landing / table / "dt=*" / pattern)


def run_floor(landing: Path, threads: int, memory_limit: str) -> pa.Table:
    """Seconds per GPU x hour x holder x capacity state (holder NULL outside the allocated states)."""
    dbt_vars = yaml.safe_load((settings.DBT_DIR / "dbt_project.yml").read_text())["vars"]
    params = {
        "samples": _glob(landing, "gpu_samples", "*.parquet"),
        "hosts": _glob(landing, "hosts", "*.csv"),
        "maintenance": _glob(landing, "maintenance_windows", "*.csv"),
        "deployments": _glob(landing, "serving_deployments", "*.csv"),
        "sacct": _glob(landing, "sacct_jobs", "*.txt"),
        "skus": str(settings.DBT_DIR / "seeds" / "gpu_skus.csv"),
        "gap_factor": float(dbt_vars["telemetry_gap_factor"]),
        "idle_threshold": float(dbt_vars["allocated_idle_util_threshold"]),
    }
    with duckdb.connect(config={"threads": threads, "memory_limit": memory_limit}) as con:
        con.execute("set TimeZone = 'UTC'")
        return con.sql(FLOOR_SQL, params=params).to_arrow_table()
