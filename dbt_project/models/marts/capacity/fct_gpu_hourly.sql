-- GPU x hour for every hour each inventoried GPU existed (the spine), how long it was held and how hard it
-- worked over every observed second. Hours without telemetry stay, with observed_s = 0. The primary_holder_*
-- columns name the holder that held the GPU longest in the hour, for browsing: hours and readings are attributed
-- per holder in fct_gpu_holder_hourly, never from these columns.
-- Built one UTC day of hours per query (dbt microbatch on hour_at); dbt gives each batch only that day of
-- its hourly inputs (they have event_time hour_at), so a daily refresh does not rescan the history.
{{ incremental_by(event_time='hour_at') }}

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
        {{ us_to_s('spine.existing_us') }} as existing_s,
        {{ us_to_s('coalesce(telemetry.observed_us, 0)') }} as observed_s,
        {{ us_to_s('coalesce(telemetry.allocated_us, 0)') }} as allocated_s,
        coalesce(telemetry.holders, 0) as holders,
        telemetry.primary_allocation_id as primary_holder_id,
        telemetry.primary_allocation_source as primary_holder_source,
        allocations.team as primary_holder_team,
        allocations.project as primary_holder_project,
        allocations.model_name as primary_holder_model,
        allocations.workload as primary_holder_workload,
        telemetry.gpu_util_ratio,
        telemetry.gpu_util_counter,
        coalesce(telemetry.mig_partitioned, false) as mig_partitioned,
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
        on telemetry.primary_allocation_source = allocations.allocation_source
        and spine.cluster = allocations.cluster
        and telemetry.primary_allocation_id = allocations.allocation_id
)

select * from final
