-- GPU x hour: how long telemetry covered the GPU, what held it, and time-weighted readings.
-- A sample stands for the time until the next sample, capped at telemetry_gap_factor x the GPU's median
-- gap that day (a longer silence is a gap: host down or exporter dead). Intervals that cross the hour
-- boundary are split, so every second lands in exactly one hour. Durations are integer microseconds until
-- the final division, so an hour fully covered sums to exactly 3600 s.
with samples as (
    select * from {{ ref('int_gpu_samples_unioned') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
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

covered as (
    select
        gaps.*,
        coalesce(least(coalesce(gaps.gap_us, typical.typical_gap_us),
                       {{ var('telemetry_gap_factor') }} * typical.typical_gap_us, 3600e6), 0)::bigint as covered_us
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

bounded as (
    select
        *,
        date_trunc('hour', measured_at) as start_hour_at,
        epoch_us(date_trunc('hour', measured_at) + interval 1 hour) - epoch_us(measured_at) as left_in_hour_us
    from allocated
),

pieces as (
    select *, start_hour_at as hour_at, least(covered_us, left_in_hour_us) as piece_us
    from bounded
    union all
    select *, start_hour_at + interval 1 hour as hour_at, covered_us - left_in_hour_us as piece_us
    from bounded
    where covered_us > left_in_hour_us
),

by_allocation as (
    select host_id, gpu_index, hour_at, allocation_id, allocation_source, sum(piece_us) as held_us
    from pieces
    where allocation_id is not null
    group by all
),

main_allocation as (
    select
        host_id,
        gpu_index,
        hour_at,
        arg_max(allocation_id, held_us) as allocation_id,
        arg_max(allocation_source, held_us) as allocation_source,
        sum(held_us) / 1e6 as allocated_s,
        count(*) as allocations
    from by_allocation
    group by all
),

readings as (
    select
        host_id,
        gpu_index,
        hour_at,
        any_value(gpu_uuid) as gpu_uuid,
        any_value(gpu_model) as telemetry_gpu_model,
        any_value(source_format) as source_format,
        sum(piece_us) / 1e6 as observed_s,
        sum(gpu_util_ratio * piece_us) / nullif(sum(piece_us) filter (where gpu_util_ratio is not null), 0)
            as gpu_util_ratio,
        sum(sm_active_ratio * piece_us) / nullif(sum(piece_us) filter (where sm_active_ratio is not null), 0)
            as sm_active_ratio,
        sum(tensor_active_ratio * piece_us)
            / nullif(sum(piece_us) filter (where tensor_active_ratio is not null), 0) as tensor_active_ratio,
        sum(dram_active_ratio * piece_us) / nullif(sum(piece_us) filter (where dram_active_ratio is not null), 0)
            as dram_active_ratio,
        sum(fb_used_bytes * piece_us) / nullif(sum(piece_us) filter (where fb_used_bytes is not null), 0)
            as fb_used_bytes,
        sum(power_w * piece_us) / nullif(sum(piece_us) filter (where power_w is not null), 0) as power_w,
        sum(power_w * piece_us) / 3600e6 as energy_wh,
        max(gpu_temp_c) as max_gpu_temp_c,
        max(xid_error) filter (where xid_error > 0) as xid_error
    from pieces
    where piece_us > 0
    group by all
),

final as (
    select
        readings.*,
        coalesce(main_allocation.allocated_s, 0) as allocated_s,
        main_allocation.allocation_id,
        main_allocation.allocation_source,
        coalesce(main_allocation.allocations, 0) as allocations
    from readings
    left join main_allocation
        on readings.host_id = main_allocation.host_id
        and readings.gpu_index = main_allocation.gpu_index
        and readings.hour_at = main_allocation.hour_at
)

select * from final
