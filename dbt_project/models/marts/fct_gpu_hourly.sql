-- GPU x hour for every hour each inventoried GPU existed within the warehouse's telemetry window,
-- with what held it and how hard it worked. Hours without telemetry stay, with observed_s = 0.
with hosts as (
    select * from {{ ref('stg_inventory__hosts') }}
),

telemetry as (
    select * from {{ ref('int_gpu_samples_rolled_to_hour') }}
),

jobs as (
    select * from {{ ref('int_jobs_unioned') }}
),

deployments as (
    select * from {{ ref('stg_registry__serving_deployments') }}
),

samples as (
    select * from {{ ref('int_gpu_samples_unioned') }}
),

-- whole UTC days from the first to the last day with any GPU sample
telemetry_window as (
    select
        min(measured_at)::date::timestamptz as window_start,
        max(measured_at)::date::timestamptz + interval 1 day as window_end
    from samples
),

gpus as (
    select
        hosts.*,
        greatest(hosts.valid_from, telemetry_window.window_start) as exists_from,
        least(coalesce(hosts.valid_to, telemetry_window.window_end), telemetry_window.window_end) as exists_until,
        unnest(range(hosts.gpu_count)) as gpu_index
    from hosts
    cross join telemetry_window
),

spine as (
    select
        *,
        unnest(generate_series(date_trunc('hour', exists_from), exists_until - interval 1 microsecond, interval 1 hour))
            as hour_at
    from gpus
    where exists_from < exists_until
),

job_owners as (
    select allocation_source, scheduler_job_id as allocation_id, team, run_id from jobs
    -- a Slurm id is unique per cluster; the fleet's telemetry labels carry the bare id
    qualify row_number() over (partition by allocation_source, scheduler_job_id order by submitted_at desc) = 1
),

final as (
    select
        spine.hour_at,
        spine.host_id,
        spine.gpu_index,
        telemetry.gpu_uuid,
        spine.gpu_model,
        spine.cluster,
        spine.region,
        spine.pool,
        spine.reservation,
        spine.usd_per_gpu_hour,
        epoch(least(spine.hour_at + interval 1 hour, spine.exists_until) - greatest(spine.hour_at, spine.exists_from))
            as existing_s,
        coalesce(telemetry.observed_s, 0) as observed_s,
        coalesce(telemetry.allocated_s, 0) as allocated_s,
        telemetry.allocation_id as allocated_job_id,
        telemetry.allocation_source,
        coalesce(job_owners.team, deployments.team) as allocated_team,
        coalesce(job_owners.run_id, deployments.model_name) as allocated_workload,
        telemetry.gpu_util_ratio,
        telemetry.sm_active_ratio,
        telemetry.tensor_active_ratio,
        telemetry.dram_active_ratio,
        telemetry.fb_used_bytes,
        telemetry.power_w,
        coalesce(telemetry.energy_wh, 0) as energy_wh,
        telemetry.max_gpu_temp_c,
        telemetry.xid_error,
        telemetry.source_format
    from spine
    left join telemetry
        on spine.host_id = telemetry.host_id
        and spine.gpu_index = telemetry.gpu_index
        and spine.hour_at = telemetry.hour_at
    left join job_owners
        on telemetry.allocation_source = job_owners.allocation_source
        and telemetry.allocation_id = job_owners.allocation_id
    left join deployments
        on telemetry.allocation_source = 'serving'
        and telemetry.allocation_id = deployments.deployment_id
)

select * from final
