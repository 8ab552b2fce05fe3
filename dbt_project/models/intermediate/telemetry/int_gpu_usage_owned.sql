-- GPU x UTC hour x holder: microseconds each job attempt or deployment held the GPU, the time-weighted reading
-- sums over those microseconds, its owner (team, project, model, workload) and the GPU's inventory rate. The one
-- grain every per-team, per-job, per-model, per-framework and fleet "while held" figure is derived from.
-- Built one UTC day of hours per query (dbt microbatch on hour_at); dbt gives each batch only that day of
-- its hourly inputs (they have event_time hour_at), so a daily refresh does not rescan the history.
{{ incremental_by(event_time='hour_at') }}

with held as (
    select * from {{ ref('int_gpu_hours_by_allocation') }}
),

spine as (
    select * from {{ ref('int_gpu_hours_spined') }}
),

allocations as (
    select * from {{ ref('int_allocations_described') }}
),

final as (
    select
        held.hour_at,
        held.host_id,
        held.gpu_index,
        spine.cluster,
        spine.pool,
        spine.gpu_model,
        spine.usd_per_gpu_hour,
        held.allocation_source,
        held.allocation_id,
        allocations.team,
        allocations.project,
        allocations.model_name,
        allocations.workload,
        held.* exclude (host_id, gpu_index, hour_at, allocation_source, allocation_id)
    from held
    inner join spine
        on held.host_id = spine.host_id and held.gpu_index = spine.gpu_index and held.hour_at = spine.hour_at
    -- an allocation id is unique within its cluster
    left join allocations
        on held.allocation_source = allocations.allocation_source
        and spine.cluster = allocations.cluster
        and held.allocation_id = allocations.allocation_id
)

select * from final
