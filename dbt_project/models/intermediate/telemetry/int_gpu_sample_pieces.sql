-- One row per GPU sample and UTC hour it covers, classified into a capacity state.
-- A sample stands for the time until the next sample of the GPU, capped at telemetry_gap_factor x the GPU's
-- median gap that day (a longer silence is a gap: host down or exporter dead). An interval that crosses the
-- hour is split, so every covered second lands in exactly one hour; it also stops at a maintenance window's
-- start or end, so maintenance time is never counted in another state. Durations are integer microseconds.
-- State of a covered piece, first match wins (judged at the sample's instant):
--   down_planned      inside an announced maintenance window
--   reserved_dr       host held as disaster-recovery buffer
--   reserved_push     host held as push buffer
--   allocated_idle    held by a job/deployment but gpu_util_ratio < allocated_idle_util_threshold
--   allocated_active  held by a job/deployment
--   idle_fragmented   free while a job that accepts this GPU family waits in the cluster's queue
--   idle_hw_mismatch  free while jobs wait in the cluster's queue, but only for other GPU families
--   idle_no_demand    free and nothing waits
with samples as (
    select * from {{ ref('int_gpu_samples_unioned') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

hosts as (
    select * from {{ ref('stg_inventory__hosts') }}
),

maintenance as (
    select * from {{ ref('stg_inventory__maintenance_windows') }}
),

queue as (
    select * from {{ ref('int_job_queue_islands') }}
),

skus as (
    select * from {{ ref('gpu_skus') }}
),

gaps as (
    select
        *,
        epoch_us(lead(measured_at) over (partition by host_id, gpu_index order by measured_at))
            - epoch_us(measured_at) as gap_us
    from samples
),

typical as (
    select host_id, gpu_index, measured_at::date as sample_date, median(gap_us) as typical_gap_us
    from gaps
    where gap_us > 0
    group by all
),

-- a sample never covers time across the start or end of a maintenance window: that time is down_planned
boundaries as (
    select host_id, starts_at as boundary_at from maintenance
    union all
    select host_id, ends_at as boundary_at from maintenance
),

covered as (
    select
        gaps.*,
        coalesce(least(
            coalesce(gaps.gap_us, typical.typical_gap_us),
            {{ var('telemetry_gap_factor') }} * typical.typical_gap_us,
            3600e6,
            (
                select min(epoch_us(boundaries.boundary_at)) from boundaries
                where boundaries.host_id = gaps.host_id and boundaries.boundary_at > gaps.measured_at
            ) - epoch_us(gaps.measured_at)
        ), 0)::bigint as covered_us
    from gaps
    left join typical
        on gaps.host_id = typical.host_id
        and gaps.gpu_index = typical.gpu_index
        and gaps.measured_at::date = typical.sample_date
),

allocated as (
    select
        covered.*,
        case
            when covered.hpc_job_id is not null then covered.hpc_job_id
            -- pods are named <job>-<role>-<n> (training operators) or <job>-<5 chars> (batch Jobs)
            when covered.pod_name is not null
                then regexp_replace(covered.pod_name, '-((worker|master|launcher|chief)-\d+|[a-z0-9]{5})$', '')
            else deployments.deployment_id
        end as allocation_id,
        case
            when covered.hpc_job_id is not null then 'slurm'
            when covered.pod_name is not null then 'kubernetes'
            when deployments.deployment_id is not null then 'serving'
        end as allocation_source
    from covered
    left join deployments
        on covered.host_id = deployments.host_id
        and list_contains(deployments.gpu_indices, covered.gpu_index)
        and covered.measured_at >= deployments.started_at
        and (deployments.ended_at is null or covered.measured_at < deployments.ended_at)
),

placed as (
    select
        allocated.*,
        hosts.cluster,
        hosts.reservation,
        skus.family as gpu_family,
        exists (
            select 1 from maintenance
            where maintenance.host_id = allocated.host_id
                and allocated.measured_at >= maintenance.starts_at
                and allocated.measured_at < maintenance.ends_at
        ) as in_maintenance,
        exists (
            select 1 from queue
            where queue.cluster = hosts.cluster
                and (queue.gpu_family = skus.family or queue.gpu_family is null)
                and allocated.measured_at >= queue.waiting_from
                and allocated.measured_at < queue.waiting_until
        ) as same_family_waiting,
        exists (
            select 1 from queue
            where queue.cluster = hosts.cluster
                and queue.gpu_family <> skus.family
                and allocated.measured_at >= queue.waiting_from
                and allocated.measured_at < queue.waiting_until
        ) as other_family_waiting
    from allocated
    left join hosts
        on allocated.host_id = hosts.host_id
        and allocated.measured_at >= hosts.valid_from
        and (hosts.valid_to is null or allocated.measured_at < hosts.valid_to)
    left join skus
        on hosts.gpu_model = skus.gpu_model
),

classified as (
    select
        *,
        case
            when in_maintenance then 'down_planned'
            when reservation = 'dr_buffer' then 'reserved_dr'
            when reservation = 'push_buffer' then 'reserved_push'
            when allocation_id is not null and gpu_util_ratio < {{ var('allocated_idle_util_threshold') }}
                then 'allocated_idle'
            when allocation_id is not null then 'allocated_active'
            when same_family_waiting then 'idle_fragmented'
            when other_family_waiting then 'idle_hw_mismatch'
            else 'idle_no_demand'
        end as capacity_state,
        date_trunc('hour', measured_at) as start_hour_at,
        epoch_us(date_trunc('hour', measured_at) + interval 1 hour) - epoch_us(measured_at) as left_in_hour_us
    from placed
),

pieces as (
    select *, start_hour_at as hour_at, least(covered_us, left_in_hour_us) as piece_us
    from classified
    union all
    select *, start_hour_at + interval 1 hour as hour_at, covered_us - left_in_hour_us as piece_us
    from classified
    where covered_us > left_in_hour_us
),

final as (
    select
        host_id,
        gpu_index,
        hour_at,
        measured_at,
        piece_us,
        gpu_uuid,
        gpu_model,
        source_format,
        gpu_util_ratio,
        sm_active_ratio,
        tensor_active_ratio,
        dram_active_ratio,
        fb_used_bytes,
        power_w,
        gpu_temp_c,
        xid_error,
        allocation_id,
        allocation_source,
        capacity_state
    from pieces
    where piece_us > 0
)

select * from final
