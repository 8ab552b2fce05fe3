-- GPU x hour for every hour each inventoried GPU existed (the spine), with what held it and how hard it
-- worked. Hours without telemetry stay, with observed_s = 0.
-- Built one UTC day of hours per query (dbt microbatch on hour_at); dbt gives each batch only that day of
-- its hourly inputs (they have event_time hour_at), so a daily refresh does not rescan the history.
{{ config(
    materialized='incremental', incremental_strategy='microbatch', event_time='hour_at', batch_size='day',
    begin='2016-01-01', concurrent_batches=false
) }}

with spine as (
    select * from {{ ref('int_gpu_hours_spined') }}
),

telemetry as (
    select * from {{ ref('int_gpu_samples_rolled_to_hour') }}
),

allocations as (
    select * from {{ ref('int_allocations_described') }}
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
        spine.existing_us / 1e6 as existing_s,
        coalesce(telemetry.observed_s, 0) as observed_s,
        coalesce(telemetry.allocated_s, 0) as allocated_s,
        telemetry.allocation_id as allocated_job_id,
        telemetry.allocation_source,
        allocations.team as allocated_team,
        allocations.project as allocated_project,
        allocations.model_name as allocated_model,
        allocations.workload as allocated_workload,
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
    -- an allocation id is unique within its cluster (Slurm job id, Kubernetes Job name, deployment id)
    left join allocations
        on telemetry.allocation_source = allocations.allocation_source
        and spine.cluster = allocations.cluster
        and telemetry.allocation_id = allocations.allocation_id
)

select * from final
